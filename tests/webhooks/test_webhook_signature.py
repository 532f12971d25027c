"""Signature computation and verification, and how the receiver enforces it."""

from __future__ import annotations

import hashlib
import hmac
import logging
from typing import TYPE_CHECKING

import pytest
from hypothesis import given
from hypothesis import strategies as st
from webhook_helpers import LIVE_SYNC_END, SECRET

from tap_fivetran_meta.webhooks.signature import compute_signature, verify_signature

if TYPE_CHECKING:
    from collections.abc import Callable

    from webhook_helpers import RunningReceiver


def test_compute_signature_is_upper_hex_hmac_sha256() -> None:
    expected = hmac.new(SECRET, LIVE_SYNC_END, hashlib.sha256).hexdigest()
    signature = compute_signature(SECRET, LIVE_SYNC_END)
    assert signature == expected.upper()
    assert signature != expected  # digits-only digests are astronomically unlikely


@pytest.mark.parametrize("case", [str.upper, str.lower, lambda s: s[:32].lower() + s[32:]])
def test_verify_accepts_any_hex_case(case: Callable[[str], str]) -> None:
    assert verify_signature(SECRET, LIVE_SYNC_END, case(compute_signature(SECRET, LIVE_SYNC_END)))


@pytest.mark.parametrize(
    "header",
    [None, "", "not-hex", "sha256=" + "0" * 64, "\u00e9" * 64],
    ids=["missing", "empty", "garbage", "prefixed", "non-ascii"],
)
def test_verify_rejects_missing_or_malformed(header: str | None) -> None:
    assert not verify_signature(SECRET, LIVE_SYNC_END, header)


def test_verify_rejects_other_secret_and_other_body() -> None:
    signature = compute_signature(SECRET, LIVE_SYNC_END)
    assert not verify_signature(b"other secret", LIVE_SYNC_END, signature)
    assert not verify_signature(SECRET, LIVE_SYNC_END + b" ", signature)


@given(secret=st.binary(min_size=1), body=st.binary(), flip=st.integers(min_value=0))
def test_verify_round_trip_and_single_bit_flip(secret: bytes, body: bytes, flip: int) -> None:
    signature = compute_signature(secret, body)
    assert verify_signature(secret, body, signature)
    if body:
        index = flip % len(body)
        tampered = body[:index] + bytes([body[index] ^ 1]) + body[index + 1 :]
        assert not verify_signature(secret, tampered, signature)


@pytest.mark.parametrize("case", ["upper", "lower"])
def test_receiver_accepts_good_signature_in_either_case(
    receiver: RunningReceiver, case: str
) -> None:
    signature = getattr(compute_signature(SECRET, LIVE_SYNC_END), case)()
    response = receiver.post(LIVE_SYNC_END, sign=signature)
    assert response.status == 200
    assert response.json()["status"] == "stored"
    [row] = receiver.stored()
    assert row["signature_verified"] == 1


@pytest.mark.parametrize(
    "sign",
    [False, "0" * 64, compute_signature(b"wrong secret", LIVE_SYNC_END)],
    ids=["missing", "zeros", "wrong-secret"],
)
def test_receiver_refuses_missing_or_bad_signature(
    receiver: RunningReceiver, sign: bool | str
) -> None:
    response = receiver.post(LIVE_SYNC_END, sign=sign)
    assert response.status == 401
    assert "X-Fivetran-Signature-256" in response.json()["error"]
    assert receiver.stored() == []


def test_receiver_signature_covers_exact_bytes(receiver: RunningReceiver) -> None:
    reformatted = LIVE_SYNC_END.replace(b",", b", ")  # same JSON, other bytes
    response = receiver.post(reformatted, sign=compute_signature(SECRET, LIVE_SYNC_END))
    assert response.status == 401
    assert receiver.stored() == []


def test_receiver_without_secret_accepts_unsigned_and_warns_once(
    start_receiver: Callable[..., RunningReceiver], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="tap_fivetran_meta.webhooks"):
        receiver = start_receiver(secret=None)
        assert receiver.post(LIVE_SYNC_END, sign=False).status == 200
        assert receiver.post(LIVE_SYNC_END.replace(b"ftar", b"other"), sign="00").status == 200
    warnings = [r for r in caplog.records if "NOT verified" in r.getMessage()]
    assert len(warnings) == 1
    assert [row["signature_verified"] for row in receiver.stored()] == [0, 0]
