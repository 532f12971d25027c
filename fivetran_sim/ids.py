"""Deterministic hashing and identifier helpers.

Everything the simulator computes lazily (sync history, schema details) is derived from
integer hashes so that the same seed always yields the same account, without keeping a
random number generator's state around.
"""

from __future__ import annotations

import hashlib
import random

from fivetran_sim.words import ADJECTIVES, NOUNS

_MASK = (1 << 64) - 1
_TWO_64 = float(1 << 64)


def mix64(*parts: int) -> int:
    """Hash a sequence of integers into a well-mixed unsigned 64-bit integer.

    Args:
        *parts: Integers to combine (any size; reduced modulo 2**64).

    Returns:
        An integer in ``[0, 2**64)``.
    """
    value = 0x9E3779B97F4A7C15
    for part in parts:
        value = ((value ^ (part & _MASK)) * 0xBF58476D1CE4E5B9) & _MASK
        value ^= value >> 31
        value = (value * 0x94D049BB133111EB) & _MASK
        value ^= value >> 29
    return value


def unit(*parts: int) -> float:
    """Map integers to a deterministic float in ``[0, 1)``.

    Args:
        *parts: Integers to combine.

    Returns:
        A float uniformly spread over ``[0, 1)``.
    """
    return mix64(*parts) / _TWO_64


def text_key(text: str) -> int:
    """Turn a string into a stable 64-bit integer (independent of ``PYTHONHASHSEED``).

    Args:
        text: Any string.

    Returns:
        A 64-bit integer.
    """
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")


def uuid_like(*parts: int) -> str:
    """Build a deterministic UUID-4 shaped string.

    Args:
        *parts: Integers identifying the object.

    Returns:
        A string such as ``"b4703f73-6315-4e22-8d7a-3bfb18b2fed2"``.
    """
    high = mix64(*parts, 1)
    low = mix64(*parts, 2)
    digits = f"{high:016x}{low:016x}"
    return (
        f"{digits[0:8]}-{digits[8:12]}-4{digits[13:16]}-"
        f"{'89ab'[low % 4]}{digits[17:20]}-{digits[20:32]}"
    )


class IdFactory:
    """Hands out unique random ``adjective_noun`` identifiers, like Fivetran's."""

    def __init__(self, rng: random.Random) -> None:
        """Create a factory.

        Args:
            rng: Seeded random generator to draw words from.
        """
        self._rng = rng
        self._used: set[str] = set()

    def new(self) -> str:
        """Return a fresh identifier never handed out before by this factory.

        Returns:
            A lowercase ``word_word`` token.
        """
        for _ in range(50):
            candidate = f"{self._rng.choice(ADJECTIVES)}_{self._rng.choice(NOUNS)}"
            if candidate not in self._used:
                self._used.add(candidate)
                return candidate
        # The two-word space is nearly exhausted: fall back to three words.
        while True:
            candidate = (
                f"{self._rng.choice(ADJECTIVES)}_{self._rng.choice(NOUNS)}"
                f"_{self._rng.choice(NOUNS)}"
            )
            if candidate not in self._used:
                self._used.add(candidate)
                return candidate
