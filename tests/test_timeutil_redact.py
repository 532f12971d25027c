"""Timestamp parsing and config scrubbing."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tap_fivetran_meta.rules import redact
from tap_fivetran_meta.rules.timeutil import format_timestamp, normalize_timestamp, parse_timestamp


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2024-12-01T15:43:29.013729Z", "2024-12-01T15:43:29.013729Z"),
        ("2023-01-05T18:12:49.562Z", "2023-01-05T18:12:49.562000Z"),
        ("2025-10-06T22:55:45.275000Z", "2025-10-06T22:55:45.275000Z"),
        ("2024-01-01T00:00:00Z", "2024-01-01T00:00:00.000000Z"),
        ("2024-01-01T00:00:00.123456789Z", "2024-01-01T00:00:00.123456Z"),
        ("2024-01-01T02:00:00+02:00", "2024-01-01T00:00:00.000000Z"),
        ("2024-01-01T00:00:00", "2024-01-01T00:00:00.000000Z"),
        ("2024-01-01 00:00", "2024-01-01T00:00:00.000000Z"),
        ("2023-10-11", "2023-10-11T00:00:00.000000Z"),
        ("not a date", None),
        ("", None),
        (None, None),
        (12345, None),
    ],
)
def test_normalize_timestamp(raw: object, expected: str | None) -> None:
    assert normalize_timestamp(raw) == expected


@given(st.datetimes(timezones=st.just(timezone.utc)))
def test_format_then_parse_round_trips(moment: datetime) -> None:
    assert parse_timestamp(format_timestamp(moment)) == moment


@given(st.text(max_size=40))
def test_parse_never_raises(text: str) -> None:
    result = parse_timestamp(text)
    assert result is None or result.tzinfo is not None


def test_scrub_drops_masked_and_secret_named_values() -> None:
    config = {
        "host": "db.example.com",
        "port": 5432,
        "password": "hunter2",
        "user": "fivetran",
        "client_secret": "abc",
        "api_key": "k",
        "tunnel": {"private_key": "-----BEGIN", "host": "bastion", "passphrase": "x"},
        "masked_anything": "******",
        "tables": ["a", "******", {"access_token": "t", "ok": 1}],
        "auth": "PASSWORD",  # a documented method name (issue 22 item 12): kept
        "auth_type": "PASSWORD",  # names what the secret is: kept
    }
    assert redact.scrub(config) == {
        "host": "db.example.com",
        "port": 5432,
        "user": "fivetran",
        "tunnel": {"host": "bastion"},
        "tables": ["a", {"ok": 1}],
        "auth": "PASSWORD",
        "auth_type": "PASSWORD",
    }


def test_scrub_auth_tokens_hides_basic_and_bearer_credentials() -> None:
    from tap_fivetran_meta.rules.redact import scrub_auth_tokens

    text = "echo: Authorization: Basic a2V5OnNlY3JldA== and bearer abc.def-ghi, basically fine"
    scrubbed = scrub_auth_tokens(text)
    assert "a2V5OnNlY3JldA==" not in scrubbed
    assert "abc.def-ghi" not in scrubbed
    assert scrubbed.count("<redacted>") == 2
    assert "basically fine" in scrubbed


def test_log_service_keys_count_as_secrets() -> None:
    # Azure Monitor's Log Analytics primary key, Google Cloud Logging's service account key
    for name in ("primary_key", "primaryKey", "service_account_key", "storage_account_key"):
        assert redact.is_secret_key(name), name
    for name in ("primary_keys", "workspace_id", "account_id"):
        assert not redact.is_secret_key(name), name
