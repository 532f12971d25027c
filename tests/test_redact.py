"""Secret scrubbing (redact.py): every name the adversarial pass found, key spellings,
URLs and connection strings, and every config-like object the tap emits."""

from __future__ import annotations

import json
import logging
import re
from typing import Any

import pytest
import requests_mock
from hypothesis import given, settings
from hypothesis import strategies as st

from tap_fivetran_meta.rules import redact

import api_fixtures as fx
from tap_runner import run_tap

API = fx.API
PLANTED = "planted-secret-9d41"

#: Names issue 14 found kept by the old rule; each must now be dropped.
ISSUE_NAMES = [
    "credentials",
    "secret_key",
    "secrets",
    "tokens",
    "sshKey",
    "ssh_key",
    "service_account_json",
    "pat",
    "auth",
    "Authorization",
    "connection_string",
    "passwd",
    "account_key",
    "encryption_key",
]


@pytest.mark.parametrize("name", ISSUE_NAMES)
def test_every_name_the_issue_lists_is_a_secret(name: str) -> None:
    assert redact.is_secret_key(name)
    for value in (PLANTED, {"inner": PLANTED, "port": 1}, [PLANTED], 12345, True):
        assert redact.scrub({name: value, "host": "h"}) == {"host": "h"}


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("sshKey", "ssh_key"),
        ("SSH-Key", "ssh_key"),
        ("ssh.key", "ssh_key"),
        ("APIKey", "api_key"),
        ("clientSecret", "client_secret"),
        ("Client Secret", "client_secret"),
        ("X-Api-Token", "x_api_token"),
        ("  password  ", "password"),
    ],
)
def test_key_names_are_normalised(raw: str, normalised: str) -> None:
    assert redact.normalise_key(raw) == normalised


def test_a_capability_url_is_a_secret_whatever_its_name_ends_with() -> None:
    assert redact.is_secret_key("webhook_url")
    assert redact.is_secret_key("slackWebhookUrl")
    assert redact.scrub({"webhook_url": f"https://hooks.slack.com/services/{PLANTED}"}) == {}


def test_key_names_of_log_services_are_secrets_but_lists_of_keys_are_not() -> None:
    for name in ("primary_key", "primaryKey", "service_account_key", "storage_account_key"):
        assert redact.is_secret_key(name), name
    for name in ("primary_keys", "workspace_id", "account_id"):
        assert not redact.is_secret_key(name), name
    # Fivetran's definition marks ``hostname`` format: password (a log service's): a
    # name marked anywhere is a secret everywhere (issue 22, item 12).
    assert redact.is_secret_key("hostname")


@pytest.mark.parametrize(
    "name",
    ["auth_type", "authMethod", "token_url", "secret_name", "password_enabled", "key_format"],
)
def test_names_that_only_describe_a_secret_are_kept(name: str) -> None:
    assert not redact.is_secret_key(name)
    assert redact.scrub({name: "OAUTH"}) == {name: "OAUTH"}


def test_strings_are_kept_only_under_known_safe_keys() -> None:
    config = {
        "host": "db.example.com",
        "port": 5432,
        "database": "ANALYTICS",
        "user": "fivetran",
        "project_id": "p-1",
        "connection_type": "Directly",
        "role_arn": "arn:aws:iam::1:role/fivetran",  # format: password in the definition
        "always_encrypted": True,
        "weird_vendor_field": PLANTED,  # unknown key: a string is dropped...
        "retries": 3,  # ...a number stays
        "tables": ["orders", "customers"],
        "odd_list": [PLANTED, PLANTED],  # emptied, so dropped
        "tunnel": {"host": "bastion", "blob": PLANTED},
        "masked": "******",
    }
    assert redact.scrub(config) == {
        "host": "db.example.com",
        "port": 5432,
        "database": "ANALYTICS",
        "user": "fivetran",
        "project_id": "p-1",
        "connection_type": "Directly",
        "always_encrypted": True,
        "retries": 3,
        "tables": ["orders", "customers"],
        "tunnel": {"host": "bastion"},
    }


@pytest.mark.parametrize(
    ("value", "kept"),
    [
        (f"postgres://fivetran:{PLANTED}@db.example.com:5432/app", "db.example.com:5432/app"),
        (f"https://{PLANTED}@github.com/acme/dbt.git", "github.com/acme/dbt.git"),
        (f"https://acct.blob.core.windows.net/c?sv=2022&sig={PLANTED}&se=1", "sv=2022"),
        (f"Server=tcp:x.database.windows.net;Password={PLANTED};Database=db", "Database=db"),
        (f"jdbc:sqlserver://h;user=u;pwd={PLANTED}", "user=u"),
        (f"Basic {PLANTED}", "Basic"),
        ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJl", ""),
        (f"admin:{PLANTED}@db.example.com:5432", "@db.example.com:5432"),
        (f"mongodb+srv://root:{PLANTED}@c0.x.mongodb.net/db", "c0.x.mongodb.net/db"),
        (f"https://b.s3.amazonaws.com/k?X-Amz-Signature={PLANTED}", "b.s3.amazonaws.com/k"),
        (f"Driver=x; PWD = {PLANTED}; Server=h", "Server=h"),
    ],
)
def test_urls_and_connection_strings_lose_their_embedded_secrets(value: str, kept: str) -> None:
    scrubbed = redact.scrub({"url": value})
    assert PLANTED not in json.dumps(scrubbed)
    assert "eyJzdWIi" not in json.dumps(scrubbed)
    assert kept in scrubbed["url"]


def test_key_material_in_a_safe_field_drops_the_value() -> None:
    pem = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaA==\n-----END OPENSSH PRIVATE KEY-----"
    assert redact.scrub({"host": pem, "port": 22}) == {"port": 22}
    assert "b3BlbnNzaA" not in redact.scrub_text(f"key was {pem} oops")


def test_free_text_keeps_its_words() -> None:
    text = f'Login failed for url postgres://u:{PLANTED}@h/db with {{"password": "{PLANTED}"}}'
    scrubbed = redact.scrub_text(text)
    assert PLANTED not in scrubbed
    assert scrubbed.startswith("Login failed for url postgres://<redacted>@h/db")


def test_scrub_is_depth_limited() -> None:
    deep: Any = {"host": "h"}
    for _ in range(500):
        deep = {"nested": deep}
    scrubbed = redact.scrub(deep)  # no RecursionError
    assert "h" not in json.dumps(scrubbed)


# --- property tests over key spellings ----------------------------------------------------

SECRET_WORDS = [
    ["password"],
    ["passwd"],
    ["passphrase"],
    ["client", "secret"],
    ["secret", "key"],
    ["secrets"],
    ["api", "key"],
    ["api", "token"],
    ["access", "token"],
    ["refresh", "token"],
    ["tokens"],
    ["private", "key"],
    ["ssh", "key"],
    ["account", "key"],
    ["encryption", "key"],
    ["signing", "key"],
    ["credentials"],
    ["service", "account", "json"],
    ["connection", "string"],
    ["authorization"],
    ["auth"],
    ["pat"],
    ["pwd"],
    ["sas", "token"],
    ["personal", "access", "token"],
]
PREFIXES = [[], ["db"], ["prod"], ["source"], ["aws"], ["oauth"], ["my", "app"]]
SUFFIXES = [[], ["2"], ["value"], ["b64"]]


JOINERS = {"snake": "_", "kebab": "-", "dotted": ".", "spaced": " "}


def _spell(words: list[str], style: str) -> str:
    if style in JOINERS:
        return JOINERS[style].join(words)
    if style == "upper":
        return "_".join(words).upper()
    if style == "camel":
        return words[0] + "".join(w.capitalize() for w in words[1:])
    if style == "pascal":
        return "".join(w.capitalize() for w in words)
    if SHORT_WORDS & set(words):
        return "_".join(words)  # "dbpat" cannot be told from a word
    return "".join(words)  # "flat": clientsecret


#: Secret words too short to be found inside a longer word (``dbpat``, ``compass``).
SHORT_WORDS = {"pat"}
spellings = st.builds(
    lambda prefix, words, suffix, style: _spell([*prefix, *words, *suffix], style),
    st.sampled_from(PREFIXES),
    st.sampled_from(SECRET_WORDS),
    st.sampled_from(SUFFIXES),
    st.sampled_from(["snake", "kebab", "dotted", "spaced", "upper", "camel", "pascal", "flat"]),
)


@settings(deadline=None)
@given(spellings)
def test_every_spelling_of_a_secret_name_is_dropped(name: str) -> None:
    assert redact.is_secret_key(name), name
    assert PLANTED not in json.dumps(redact.scrub({name: PLANTED, "nested": {name: [PLANTED]}}))


safe_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=8))
trees = st.recursive(
    safe_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.one_of(st.text(max_size=8), spellings), children, max_size=4),
    ),
    max_leaves=25,
)


@settings(deadline=None)
@given(trees, spellings)
def test_a_planted_secret_never_survives_anywhere_in_a_config(tree: Any, name: str) -> None:
    planted = {
        "wrapper": tree,
        name: PLANTED,
        "list": [{name: PLANTED}, tree],
        "url": f"https://user:{PLANTED}@host/path",
        "some_field": PLANTED,
    }
    assert PLANTED not in json.dumps(redact.scrub(planted), default=str)


# --- every config-like object the tap emits ----------------------------------------------


def _plant(obj: dict[str, Any]) -> dict[str, Any]:
    """The object plus a value under every name of the issue and an unknown key."""
    return {
        **obj,
        **{name: f"{PLANTED}-{i}" for i, name in enumerate(ISSUE_NAMES)},
        "unknown_vendor_field": PLANTED,
        "dsn_url": f"mysql://root:{PLANTED}@db/x",
    }


def _messages(kind: str) -> list[dict[str, Any]]:
    return [
        {
            kind: "x",
            "message": f"failed with password={PLANTED}",
            "details": _plant({"host": "h"}),
        },
        {kind: "y", "message": "text", "details": f"Bearer {PLANTED} was refused"},
    ]


def test_no_planted_secret_reaches_any_record(
    api: requests_mock.Mocker, caplog: pytest.LogCaptureFixture
) -> None:
    connections = []
    for connection in fx.CONNECTIONS:
        status = {
            **connection["status"],
            "tasks": _messages("code"),
            "warnings": _messages("code"),
        }
        connections.append(
            {
                **connection,
                "status": status,
                "config": _plant({"host": "db.example.com", "port": 5432}),
                "source_sync_details": _plant({"last_synced": "2024-01-01"}),
                "destination_configuration": _plant({"virtual_warehouse": "WH"}),
                "connect_card_config": _plant({"redirect_uri": "https://example.com/back"}),
                "external_secrets_keys_config": _plant({}),
                "connect_card": {"token": PLANTED, "uri": "https://fivetran.com/connect"},
                "setup_tests": _messages("title"),
            }
        )
    api.get(f"{API}/connections", json=fx.page(connections))
    for destination in fx.DESTINATIONS:
        detail = fx.destination_detail(destination)
        detail["config"] = _plant(detail["config"])
        detail["setup_tests"] = _messages("title")
        api.get(f"{API}/destinations/{destination['id']}", json=fx.ok(detail))
    transformation = {
        **fx.TRANSFORMATIONS[0],
        "transformation_config": _plant(fx.TRANSFORMATIONS[0]["transformation_config"]),
    }
    api.get(f"{API}/transformations", json=fx.page([transformation]))
    for project in fx.PROJECTS:
        detail = fx.project_detail(project)
        detail["project_config"] = _plant(detail["project_config"])
        detail["project_config"]["git_remote_url"] = f"https://{PLANTED}@github.com/a/b.git"
        detail["setup_tests"] = _messages("title")
        detail["errors"] = [f"clone of https://u:{PLANTED}@github.com failed"]
        api.get(f"{API}/transformation-projects/{project['id']}", json=fx.ok(detail))

    with caplog.at_level(logging.DEBUG):
        result = run_tap(fx.CONFIG)
    emitted = json.dumps(result.messages)
    assert PLANTED not in emitted
    assert PLANTED not in caplog.text
    assert "hunter2" not in emitted  # the fixture's environment_vars
    # What is known to be safe is still there.
    connection = result.records["connections"][0]
    # A URL field stays, without its user and password.
    dsn = {"dsn_url": "mysql://<redacted>@db/x"}
    assert connection["config"] == {"host": "db.example.com", "port": 5432, **dsn}
    assert connection["destination_configuration"] == {"virtual_warehouse": "WH", **dsn}
    assert connection["connect_card_config"] == {"redirect_uri": "https://example.com/back", **dsn}
    assert connection["external_secrets_keys_config"] == dsn
    assert connection["status"]["tasks"][0]["message"] == "failed with password=<redacted>"
    assert connection["status"]["tasks"][0]["details"] == {"host": "h", **dsn}
    destination = result.records["destinations"][0]
    assert destination["database"] == "PROJECTED_SICKLE_DB"
    project = result.records["transformation_projects"][0]
    assert project["project_config"]["git_branch"] == "main"
    assert project["project_config"]["git_remote_url"] == "https://<redacted>@github.com/a/b.git"
    assert re.fullmatch(r"clone of https://<redacted>@github.com failed", project["errors"][0])
    assert result.records["transformations"][0]["transformation_config"]["package_name"] == (
        "hubspot"
    )
