"""The config allow-list generated from Fivetran's definition (issue 22, item 12).

``rules/config_fields.py`` lists every config field name of Fivetran's OpenAPI
definition and the 156 marked ``format: password``. Every password field stays dropped,
documented non-secret fields are kept (the ones real recorded bodies lost before:
``snowflake_cloud``, ``auth``, ``on_error``, ``append_file_option``, report ``metrics``,
log ``channel``), and unknown keys stay dropped.
"""

from __future__ import annotations

import pytest

from tap_fivetran_meta.rules import redact
from tap_fivetran_meta.rules.config_fields import DOCUMENTED_FIELDS, PASSWORD_FIELDS

PLANTED = "planted-secret-5c1e"


def test_the_generated_lists_match_the_definition_snapshot() -> None:
    assert len(PASSWORD_FIELDS) == 156  # fivetran-api-fields.md: 156 names
    assert len(DOCUMENTED_FIELDS | PASSWORD_FIELDS) > 800
    assert not PASSWORD_FIELDS & DOCUMENTED_FIELDS
    assert {"password", "private_key", "client_secret", "role_arn", "hostname"} <= PASSWORD_FIELDS


@pytest.mark.parametrize("name", sorted(PASSWORD_FIELDS))
def test_every_password_format_field_is_dropped(name: str) -> None:
    for value in (PLANTED, "PASSWORD", {"inner": PLANTED}, [PLANTED], 12345, True):
        assert redact.scrub({name: value, "port": 1}) == {"port": 1}, (name, value)


def test_the_facts_real_bodies_carry_are_kept() -> None:
    destination = {"snowflake_cloud": "AWS", "auth": "PASSWORD", "password": "******"}
    connection = {"on_error": "fail", "append_file_option": "upsert_file", "pat": PLANTED}
    report = {"reports": [{"table": "t", "metrics": ["clicks", "impressions"]}]}
    log = {"channel": "#fivetran-alerts", "api_key": PLANTED}
    assert redact.scrub(destination) == {"snowflake_cloud": "AWS", "auth": "PASSWORD"}
    assert redact.scrub(connection) == {"on_error": "fail", "append_file_option": "upsert_file"}
    assert redact.scrub(report) == report
    assert redact.scrub(log) == {"channel": "#fivetran-alerts"}


def test_many_more_documented_fields_are_kept_than_before() -> None:
    kept = [
        name
        for name in sorted(DOCUMENTED_FIELDS)
        if redact.scrub({name: "plain-value"}) == {name: "plain-value"}
    ]
    assert len(kept) > 600, len(kept)


@pytest.mark.parametrize("value", [PLANTED, "AKIAIOSFODNN7EXAMPLE", "eyJhbGciOi.x.y", 42])
def test_a_method_name_keeps_only_a_method_word(value: object) -> None:
    assert redact.scrub({"auth": value}) == {}


@pytest.mark.parametrize("name", ["vendor_blob", "x_custom_field", "zzz_unknown"])
def test_unknown_keys_stay_dropped(name: str) -> None:
    assert name not in DOCUMENTED_FIELDS
    assert redact.scrub({name: PLANTED}) == {}


def test_free_form_fields_are_not_kept_although_documented() -> None:
    assert redact.scrub({"environment_vars": [f"DBT_TOKEN_X={PLANTED}", f"X={PLANTED}"]}) == {}
