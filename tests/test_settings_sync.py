"""config_jsonschema, meltano.yml settings, .env.example and the README table agree."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import yaml

from tap_fivetran_meta.tap import TapFivetranMeta

ROOT = Path(__file__).resolve().parents[1]


# Settings the SDK merges into config_jsonschema itself (it does so in place, once a tap
# has validated its config): documented by the SDK, not by us.
SDK_BUILTINS = {
    "stream_maps",
    "stream_map_config",
    "faker_config",
    "flattening_enabled",
    "flattening_max_depth",
    "flattening_max_key_length",
    "flattening_separator",
    "batch_config",
}


def schema_settings() -> dict[str, dict]:
    properties = TapFivetranMeta.config_jsonschema["properties"]
    return {k: v for k, v in properties.items() if k not in SDK_BUILTINS}


def meltano_settings() -> dict[str, dict]:
    project = yaml.safe_load((ROOT / "meltano.yml").read_text())
    (tap,) = [p for p in project["plugins"]["extractors"] if p["name"] == "tap-fivetran-meta"]
    return {s["name"]: s for s in tap["settings"]}


def test_meltano_settings_match_config_schema() -> None:
    assert set(meltano_settings()) == set(schema_settings())


def test_secrets_are_sensitive_in_meltano() -> None:
    for name, prop in schema_settings().items():
        assert bool(prop.get("secret")) == bool(meltano_settings()[name].get("sensitive")), name


def test_env_example_lists_every_setting() -> None:
    text = (ROOT / ".env.example").read_text()
    names = set(re.findall(r"^#?\s*TAP_FIVETRAN_META_([A-Z0-9_]+)=", text, re.MULTILINE))
    assert names - {"LOGLEVEL"} == {n.upper() for n in schema_settings()}


def test_env_example_configures_target_postgres() -> None:
    text = (ROOT / ".env.example").read_text()
    names = set(re.findall(r"^#?\s*TARGET_POSTGRES_([A-Z_]+)=", text, re.MULTILINE))
    assert {"HOST", "PORT", "USER", "PASSWORD", "DATABASE"} <= names
    assert re.search(r"^TARGET_POSTGRES_PASSWORD=", text, re.MULTILINE)  # not optional


# meltano.yml kind of each JSON Schema type the tap's settings use.
KINDS = {
    "string": "string",
    "integer": "integer",
    "number": "decimal",
    "boolean": "boolean",
    "array": "array",
}


def test_meltano_kinds_and_defaults_follow_the_schema() -> None:
    for name, prop in schema_settings().items():
        meltano = meltano_settings()[name]
        if prop.get("format") == "date-time":
            assert meltano["kind"] == "date_iso8601", name
        else:
            types = set(prop["type"]) - {"null"}
            assert {KINDS[t] for t in types} == {meltano["kind"]}, name
        assert meltano.get("value") == prop.get("default") or name == "user_agent", name


def test_capabilities_agree_between_about_and_meltano() -> None:
    project = yaml.safe_load((ROOT / "meltano.yml").read_text())
    (tap,) = [p for p in project["plugins"]["extractors"] if p["name"] == "tap-fivetran-meta"]
    about = {str(c.value) for c in TapFivetranMeta.capabilities}
    assert set(tap["capabilities"]) == about
    assert "test" in about
    assert "batch" not in about


def test_hub_definition_is_generated_from_the_sources() -> None:
    result = subprocess.run(
        [sys.executable, "scripts/hub_plugin.py", "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    hub = yaml.safe_load((ROOT / "hub" / "tap-fivetran-meta.yml").read_text())
    assert hub["pip_url"] == "tap-fivetran-meta"
    assert {s["name"] for s in hub["settings"]} == set(schema_settings())
    assert all(s["description"] and s["kind"] for s in hub["settings"])
    secret = {s["name"] for s in hub["settings"] if s.get("sensitive")}
    assert secret == {n for n, p in schema_settings().items() if p.get("secret")}


def test_readme_documents_every_setting() -> None:
    readme = (ROOT / "README.md").read_text()
    table = readme.split("<!-- settings-table -->")[1].split("<!-- /settings-table -->")[0]
    documented = set(re.findall(r"^\| `([a-z_]+)` \|", table, re.MULTILINE))
    assert documented == set(schema_settings())


def test_readme_lists_every_stream() -> None:
    tap = TapFivetranMeta(config={}, parse_env_config=False, validate_config=False)
    readme = (ROOT / "README.md").read_text()
    table = readme.split("<!-- streams-table -->")[1].split("<!-- /streams-table -->")[0]
    documented = set(re.findall(r"^\| `([a-z_]+)` \|", table, re.MULTILINE))
    assert documented == set(tap.streams)
