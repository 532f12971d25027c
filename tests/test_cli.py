"""The tap's command line: about, discovery and readable config errors (subprocess)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import api_fixtures as fx

TAP = [sys.executable, "-m", "tap_fivetran_meta"]


def run(args: list[str], tmp_path: Path, config: dict | None = None) -> subprocess.CompletedProcess:
    if config is not None:
        path = tmp_path / "config.json"
        path.write_text(json.dumps(config))
        args = [*args, "--config", str(path)]
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    return subprocess.run(
        [*TAP, *args], capture_output=True, text=True, timeout=60, env=env, check=False
    )


def test_about_json_lists_settings(tmp_path: Path) -> None:
    result = run(["--about", "--format=json"], tmp_path)
    assert result.returncode == 0, result.stderr
    about = json.loads(result.stdout)
    settings = about["settings"]["properties"]
    assert settings["api_secret"]["secret"] is True
    assert {"api_key", "api_url", "page_size", "group_ids", "max_retries"} <= set(settings)


def test_discover_without_config(tmp_path: Path) -> None:
    result = run(["--discover"], tmp_path)
    assert result.returncode == 0, result.stderr
    catalog = json.loads(result.stdout)
    assert len(catalog["streams"]) >= 13


@pytest.mark.parametrize(
    ("config", "needle"),
    [
        ({"api_secret": "x"}, "'api_key' is a required property"),
        ({**fx.CONFIG, "api_key": "  "}, "api_key is empty"),
        ({**fx.CONFIG, "column_details": "maybe"}, "column_details"),
        ({**fx.CONFIG, "page_size": 0}, "page_size"),
        ({**fx.CONFIG, "page_size": 1001}, "page_size"),
        ({**fx.CONFIG, "page_size": "big"}, "page_size"),
        ({**fx.CONFIG, "api_url": "http://api.example.com/v1"}, "api_url must use https"),
        ({**fx.CONFIG, "api_url": "ftp://x"}, "api_url must be an https URL"),
        ({**fx.CONFIG, "start_date": "2999-01-01T00:00:00Z"}, "start_date 2999-01-01"),
        ({**fx.CONFIG, "group_ids": "abc"}, "group_ids"),
    ],
)
def test_bad_config_is_one_readable_error(tmp_path: Path, config: dict, needle: str) -> None:
    result = run([], tmp_path, config)
    assert result.returncode != 0
    assert needle in result.stderr
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert fx.SECRET not in result.stderr


def test_http_to_loopback_is_allowed_by_config_checks() -> None:
    from tap_fivetran_meta.rules.config_checks import api_url_error

    assert api_url_error("http://127.0.0.1:8080/v1") is None
    assert api_url_error("http://localhost/v1") is None
    assert api_url_error("http://[::1]:9/v1") is None
    assert api_url_error("https://api.fivetran.com/v1") is None
    assert api_url_error("http://10.0.0.1/v1") is not None


def test_malformed_state_file_is_a_readable_error(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    state.write_text("{not json")
    result = run(["--state", str(state)], tmp_path, fx.CONFIG)
    assert result.returncode != 0
    assert "not valid JSON" in result.stderr
    assert "Traceback" not in result.stderr


def test_malformed_catalog_file_is_a_readable_error(tmp_path: Path) -> None:
    catalog = tmp_path / "catalog.json"
    catalog.write_text('{"streams": [')
    result = run(["--catalog", str(catalog)], tmp_path, fx.CONFIG)
    assert result.returncode != 0
    assert "not valid JSON" in result.stderr
    assert result.stdout == ""
    assert "Traceback" not in result.stderr


def test_unknown_stream_in_catalog_is_refused(tmp_path: Path) -> None:
    discovered = run(["--discover"], tmp_path)
    catalog = json.loads(discovered.stdout)
    entry = dict(catalog["streams"][0])
    entry["tap_stream_id"] = entry["stream"] = "conections"
    catalog["streams"].append(entry)
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps(catalog))
    result = run(["--catalog", str(path)], tmp_path, fx.CONFIG)
    assert result.returncode != 0
    assert "unknown streams: conections" in result.stderr
    assert result.stdout == ""
    assert "Traceback" not in result.stderr


def test_termination_is_held_until_a_record_and_its_state_are_done() -> None:
    import signal

    from tap_fivetran_meta.runtime.shutdown import RunInterrupted
    from tap_fivetran_meta.tap import TapFivetranMeta

    tap = TapFivetranMeta(config=fx.CONFIG, parse_env_config=False)
    steps: list[str] = []

    def nested_blocks() -> None:
        with tap.deferred_termination():
            with tap.deferred_termination():
                tap._handle_termination(signal.SIGTERM, None)  # held: no raise here
                steps.append("inner done")
            steps.append("outer done")  # still inside the outer block

    with pytest.raises(RunInterrupted) as stopped:
        nested_blocks()
    assert steps == ["inner done", "outer done"]
    assert stopped.value.exit_code == 143
    assert tap.stop.requested  # worker threads were told at once, not at block end

    other = TapFivetranMeta(config=fx.CONFIG, parse_env_config=False)
    with pytest.raises(RunInterrupted) as stopped:
        other._handle_termination(signal.SIGINT, None)
    assert stopped.value.exit_code == 130
    other._handle_termination(signal.SIGTERM, None)  # a second signal does not interrupt


RANDOM_BYTES = bytes(range(128, 256)) * 2

# (option, file content or None for a missing file, what the one error line says)
BAD_FILES = [
    ("--config", None, "no such file"),
    ("--config", b'{"api_key": ', "is not valid JSON (line 1, column 13"),
    ("--config", RANDOM_BYTES, "is not UTF-8 text"),
    ("--config", b"[1, 2]", "must hold a JSON object of settings, not an array"),
    ("--config", b"", "is empty"),
    ("--state", None, "no such file"),
    ("--state", b"[1,2]", "the top level must be an object, not an array"),
    (
        "--state",
        b'{"bookmarks": {"sync_history": "oops"}}',
        "bookmarks.sync_history must be an object, not a string",
    ),
    ("--state", b'{"bookmarks": []}', "bookmarks must be an object, not an array"),
    ("--state", b'{"bookmarks": null}', "bookmarks must be an object, not null"),
    (
        "--state",
        b'{"bookmarks": {"sync_history": {"partitions": "x"}}}',
        "bookmarks.sync_history.partitions must be an array, not a string",
    ),
    (
        "--state",
        b'{"bookmarks": {"sync_history": {"partitions": [{"replication_key_value": "2026-01-01"}]}}}',
        "bookmarks.sync_history.partitions[0] lacks 'context'",
    ),
    ("--state", RANDOM_BYTES, "is not UTF-8 text"),
    ("--state", b"[" * 200_000, "is JSON nested too deeply to read"),
    ("--catalog", b'{"streams": "oops"}', "streams must be an array, not a string"),
    ("--catalog", b"[]", "the top level must be an object, not an array"),
    (
        "--catalog",
        b'{"streams": [{"tap_stream_id": "groups", "metadata": []}]}',
        "streams[0] lacks 'schema'",
    ),
    ("--catalog", RANDOM_BYTES, "is not UTF-8 text"),
]


@pytest.mark.parametrize(("option", "content", "problem"), BAD_FILES)
def test_bad_file_is_one_line_naming_it(
    tmp_path: Path, option: str, content: bytes | None, problem: str
) -> None:
    path = tmp_path / "input.json"
    if content is not None:
        path.write_bytes(content)
    args = [option, str(path)]
    if option != "--config":
        config = tmp_path / "config.json"
        config.write_text(json.dumps(fx.CONFIG))
        args += ["--config", str(config)]
    result = run(args, tmp_path)
    assert result.returncode == 1, result.stderr
    assert result.stdout == ""
    errors = [line for line in result.stderr.splitlines() if "ERROR" in line]
    assert len(errors) == 1, result.stderr
    assert f"{option} {path}: {problem}" in errors[0]
    assert "Traceback" not in result.stderr


def test_secret_of_the_wrong_type_is_not_printed(tmp_path: Path) -> None:
    result = run([], tmp_path, {"api_key": "key-abc", "api_secret": 918273645})
    assert result.returncode == 1
    assert "api_secret must be a non-empty string (the value is not shown" in result.stderr
    assert "918273645" not in result.stderr


@pytest.mark.parametrize(
    ("variable", "value", "problem"),
    [
        ("PAGE_SIZE", "abc", "TAP_FIVETRAN_META_PAGE_SIZE must be a whole number (got 'abc')"),
        ("COLUMN_DETAILS", "maybe", "TAP_FIVETRAN_META_COLUMN_DETAILS must be true or false"),
        ("GROUP_IDS", '["a",', "TAP_FIVETRAN_META_GROUP_IDS starts like a JSON array"),
        ("API_KEY", "", "api_key is empty"),
    ],
)
def test_bad_environment_value_names_the_variable(
    tmp_path: Path, variable: str, value: str, problem: str
) -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "TAP_FIVETRAN_META_API_KEY": "key-abc",
        "TAP_FIVETRAN_META_API_SECRET": fx.SECRET,
        f"TAP_FIVETRAN_META_{variable}": value,
    }
    result = subprocess.run(
        [*TAP, "--config", "ENV"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode == 1
    assert problem in result.stderr
    assert "Traceback" not in result.stderr
    assert fx.SECRET not in result.stderr
    assert result.stdout == ""


def test_inbox_path_that_is_a_directory_is_refused(tmp_path: Path) -> None:
    result = run([], tmp_path, {**fx.CONFIG, "webhook_inbox_path": str(tmp_path)})
    assert result.returncode == 1
    assert f"webhook_inbox_path {tmp_path} is a directory" in result.stderr
    assert "Traceback" not in result.stderr
