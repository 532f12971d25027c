"""config_jsonschema, meltano.yml settings, .env.example and the README table agree."""

from __future__ import annotations

import re
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
    assert names == {n.upper() for n in schema_settings()}


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
