"""Signature computation and verification, and how the receiver enforces it."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
from typing import TYPE_CHECKING

import pytest
from hypothesis import given
from hypothesis import strategies as st
from webhook_helpers import LIVE_SYNC_END, SECRET

from tap_fivetran_meta.webhooks.receiver import ReceiverConfig
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


# --- the receiver: every case an adversarial pass tried, and a few more -----------------

GOOD = compute_signature(SECRET, LIVE_SYNC_END)
UNICODE_BODY = '{"event":"sync_end","connector_name":"caf\u00e9 \u2615"}'.encode()
HEADER = b"X-Fivetran-Signature-256: "


def _h(value: str | bytes, name: bytes = HEADER) -> bytes:
    return name + (value.encode("latin-1") if isinstance(value, str) else value)


SIGNATURE_CASES = [
    # (id, body, signature header lines, expected status)
    ("upper-case-hex", LIVE_SYNC_END, [_h(GOOD)], 200),
    ("lower-case-hex", LIVE_SYNC_END, [_h(GOOD.lower())], 200),
    ("mixed-case-hex", LIVE_SYNC_END, [_h(GOOD[:32].lower() + GOOD[32:])], 200),
    ("lower-case-header-name", LIVE_SYNC_END, [_h(GOOD, b"x-fivetran-signature-256: ")], 200),
    ("whitespace-around-value", LIVE_SYNC_END, [_h(f"   {GOOD}  ")], 200),
    ("non-ascii-body", UNICODE_BODY, [_h(compute_signature(SECRET, UNICODE_BODY))], 200),
    ("smallest-json-object", b"{}", [_h(compute_signature(SECRET, b"{}"))], 200),
    ("missing", LIVE_SYNC_END, [], 401),
    ("empty-value", LIVE_SYNC_END, [HEADER.rstrip()], 401),
    ("all-zeros", LIVE_SYNC_END, [_h("0" * 64)], 401),
    ("other-secret", LIVE_SYNC_END, [_h(compute_signature(b"wrong", LIVE_SYNC_END))], 401),
    (
        "secret-with-trailing-newline",
        LIVE_SYNC_END,
        [_h(compute_signature(SECRET + b"\n", LIVE_SYNC_END))],
        401,
    ),
    ("signature-of-another-body", LIVE_SYNC_END, [_h(compute_signature(SECRET, b"{}"))], 401),
    ("same-json-other-bytes", LIVE_SYNC_END.replace(b",", b", "), [_h(GOOD)], 401),
    ("one-byte-changed", LIVE_SYNC_END.replace(b"ftar_pg", b"ftar_ph"), [_h(GOOD)], 401),
    ("truncated-to-63", LIVE_SYNC_END, [_h(GOOD[:63])], 401),
    ("one-char-extra", LIVE_SYNC_END, [_h(GOOD + "0")], 401),
    ("sha256-prefix", LIVE_SYNC_END, [_h("sha256=" + GOOD.lower())], 401),
    (
        "base64-digest",
        LIVE_SYNC_END,
        [_h(base64.b64encode(hmac.new(SECRET, LIVE_SYNC_END, hashlib.sha256).digest()))],
        401,
    ),
    (
        "hmac-sha1",
        LIVE_SYNC_END,
        [_h(hmac.new(SECRET, LIVE_SYNC_END, hashlib.sha1).hexdigest())],
        401,
    ),
    ("unkeyed-sha256", LIVE_SYNC_END, [_h(hashlib.sha256(LIVE_SYNC_END).hexdigest())], 401),
    ("space-inside", LIVE_SYNC_END, [_h(GOOD[:32] + " " + GOOD[32:])], 401),
    ("non-ascii-value", LIVE_SYNC_END, [_h("\u00e9" * 64)], 401),
    ("other-header-name", LIVE_SYNC_END, [_h(GOOD, b"X-Fivetran-Signature: ")], 401),
    ("two-headers-valid-first", LIVE_SYNC_END, [_h(GOOD), _h("0" * 64)], 401),
    ("two-headers-invalid-first", LIVE_SYNC_END, [_h("0" * 64), _h(GOOD)], 401),
]


@pytest.mark.parametrize(
    ("body", "signature_lines", "status"),
    [case[1:] for case in SIGNATURE_CASES],
    ids=[case[0] for case in SIGNATURE_CASES],
)
def test_receiver_signature_cases(
    receiver: RunningReceiver, body: bytes, signature_lines: list[bytes], status: int
) -> None:
    head = (
        b"POST /webhook HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        + f"Content-Length: {len(body)}\r\n".encode()
        + b"".join(line + b"\r\n" for line in signature_lines)
        + b"\r\n"
    )
    response = receiver.raw(head + body)
    assert response.status == status
    stored = receiver.stored()
    if status == 200:
        assert response.json()["status"] == "stored"
        assert [(row["raw_body"].encode(), row["signature_verified"]) for row in stored] == [
            (body, 1)
        ]
    else:
        assert "X-Fivetran-Signature-256" in response.json()["error"]
        assert stored == []


def test_there_are_at_least_25_signature_cases() -> None:
    assert len(SIGNATURE_CASES) >= 25
    assert len({case[0] for case in SIGNATURE_CASES}) == len(SIGNATURE_CASES)


# --- without a secret --------------------------------------------------------------------


def test_a_receiver_without_a_secret_must_be_asked_for_explicitly() -> None:
    with pytest.raises(ValueError, match="a webhook secret is required"):
        ReceiverConfig(secret=None)
    with pytest.raises(ValueError, match="empty"):
        ReceiverConfig(secret=b"")
    with pytest.raises(ValueError, match="exclude each other"):
        ReceiverConfig(secret=SECRET, insecure_no_signature=True)
    assert ReceiverConfig(insecure_no_signature=True).secret is None


def test_insecure_receiver_accepts_unsigned_and_warns_once(
    start_receiver: Callable[..., RunningReceiver], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="tap_fivetran_meta.webhooks"):
        receiver = start_receiver(secret=None, insecure_no_signature=True)
        assert receiver.post(LIVE_SYNC_END, sign=False).status == 200
        assert receiver.post(LIVE_SYNC_END.replace(b"ftar", b"other"), sign="00").status == 200
    warnings = [r.getMessage() for r in caplog.records if "NOT verified" in r.getMessage()]
    assert len(warnings) == 1
    assert warnings[0].startswith("INSECURE: signatures are NOT verified")
    assert [row["signature_verified"] for row in receiver.stored()] == [0, 0]
    assert receiver.request("GET", "/healthz").json()["signatures_verified"] is False
