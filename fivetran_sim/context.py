"""Shared state for the account generator."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import TypeVar

from fivetran_sim.ids import IdFactory
from fivetran_sim.timefmt import DAY, MINUTE, PRECISIONS

T = TypeVar("T")


@dataclass
class GenContext:
    """Random source and clock shared by the generator modules.

    Attributes:
        seed: Account seed.
        rng: Seeded generator; modules draw from it in a fixed order.
        t0: The simulator clock at build time (epoch microseconds).
        history_days: Days of history before ``t0``.
        min_interval: Minimum sync spacing (microseconds).
        ids: Unique identifier factory shared by every entity kind.
    """

    seed: int
    rng: random.Random
    t0: int
    history_days: int
    min_interval: int
    ids: IdFactory = field(init=False)

    def __post_init__(self) -> None:
        """Create the id factory from the same generator."""
        self.ids = IdFactory(self.rng)

    @property
    def history_start(self) -> int:
        """First instant with sync history."""
        return self.t0 - self.history_days * DAY

    def between(self, lo: int, hi: int) -> int:
        """Random instant in ``[lo, hi]`` with microsecond digits.

        Args:
            lo: Lower bound (epoch microseconds).
            hi: Upper bound.

        Returns:
            Epoch microseconds.
        """
        return self.rng.randint(lo, max(lo, hi))

    def ago(self, lo_days: float, hi_days: float) -> int:
        """Random instant between ``hi_days`` and ``lo_days`` before ``t0``.

        Args:
            lo_days: Closest bound, in days before ``t0``.
            hi_days: Farthest bound, in days before ``t0``.

        Returns:
            Epoch microseconds.
        """
        return self.between(self.t0 - int(hi_days * DAY), self.t0 - int(lo_days * DAY))

    def precision(self) -> str:
        """Pick a timestamp precision style."""
        return self.rng.choice(PRECISIONS)

    def weighted(self, options: tuple[tuple[T, int], ...]) -> T:
        """Pick among ``(value, weight)`` pairs.

        Args:
            options: Candidate values with integer weights.

        Returns:
            The chosen value.
        """
        values = [value for value, _ in options]
        weights = [weight for _, weight in options]
        return self.rng.choices(values, weights)[0]

    def interval_for(self, sync_frequency: int) -> int:
        """Sync slot spacing for a frequency (minutes), floored by the config.

        Args:
            sync_frequency: Connection ``sync_frequency`` in minutes.

        Returns:
            Microseconds.
        """
        return max(sync_frequency * MINUTE, self.min_interval)
