"""Output that cannot be delivered (issue 22, items 9 and 14).

SIGTERM must end the run even while the target has stopped reading stdout (the writes
hold signals so that no line is cut in half); stdout closed or full must be one line
and exit code 1, not a traceback.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hostile_server import HostileServer

from tap_fivetran_meta.runtime.blocked_output import STOP_GRACE_SECONDS

TAP = [sys.executable, "-m", "tap_fivetran_meta"]
#: Enough group records (about 100 bytes each) to fill any pipe buffer many times.
PAGES = 3000


def _config(tmp_path: Path, url: str) -> Path:
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"api_key": "kkkk", "api_secret": "ssss-xyz", "api_url": url}))
    return path


def _env(tmp_path: Path) -> dict[str, str]:
    return {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}


def test_sigterm_ends_the_run_while_the_target_reads_nothing(tmp_path: Path) -> None:
    log = tmp_path / "stderr.log"
    with HostileServer("honest", pages=PAGES, name_size=4000) as server:
        read_end, write_end = os.pipe()  # nobody reads read_end: the pipe fills up
        with log.open("wb") as stderr:
            tap = subprocess.Popen(
                [*TAP, "--config", str(_config(tmp_path, server.url))],
                stdout=write_end,
                stderr=stderr,
                env=_env(tmp_path),
            )
        os.close(write_end)
        try:
            # 3000 records of 4 kB: the pipe (64 kB) is full long before the end.
            deadline = time.monotonic() + 60
            seen = 0
            while time.monotonic() < deadline and (seen == 0 or len(server.requests) != seen):
                seen = len(server.requests)  # started, then no new page: blocked on output
                time.sleep(1.0)
            assert tap.poll() is None, "the run ended although nobody read its output"
            tap.send_signal(signal.SIGTERM)
            try:
                code = tap.wait(timeout=STOP_GRACE_SECONDS + 20)
            except subprocess.TimeoutExpired:
                pytest.fail("SIGTERM was ignored while stdout was blocked")
        finally:
            if tap.poll() is None:
                tap.kill()
                tap.wait(timeout=10)
            os.close(read_end)
    stderr_text = log.read_text()
    assert code == 128 + signal.SIGTERM, stderr_text[-2000:]
    assert "Traceback" not in stderr_text
    assert "stopped by SIGTERM while the target was not reading" in stderr_text


@pytest.mark.parametrize("target", ["closed", "full"])
def test_a_closed_or_full_stdout_is_one_line(tmp_path: Path, target: str) -> None:
    with HostileServer("honest", pages=PAGES) as server:
        command = [*TAP, "--config", str(_config(tmp_path, server.url))]
        if target == "full":
            with open("/dev/full", "wb") as full:
                result = subprocess.run(
                    command,
                    check=False,
                    stdout=full,
                    stderr=subprocess.PIPE,
                    env=_env(tmp_path),
                    timeout=120,
                )
            stderr = result.stderr.decode()
            code = result.returncode
        else:
            with subprocess.Popen(
                command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env(tmp_path)
            ) as tap:
                assert tap.stdout is not None
                tap.stdout.read(100)
                tap.stdout.close()  # the target went away
                code = tap.wait(timeout=120)
                stderr = tap.stderr.read().decode() if tap.stderr else ""
    assert code == 1, stderr[-2000:]
    assert "Traceback" not in stderr
    errors = [line for line in stderr.splitlines() if "| ERROR" in line]
    assert len(errors) == 1, errors
    assert "cannot write its output" in errors[0]
