"""``python -m fivetran_sim serve`` as a subprocess."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[2]


def test_serve_prints_ready_line_and_exits_cleanly(tmp_path: Path) -> None:
    ready = tmp_path / "ready" / "sim.json"
    command = [
        sys.executable,
        "-m",
        "fivetran_sim",
        "serve",
        "--connections",
        "25",
        "--seed",
        "3",
        "--api-key",
        "K",
        "--api-secret",
        "S",
        "--ready-file",
        str(ready),
    ]
    with subprocess.Popen(
        command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as process:
        try:
            assert process.stdout is not None
            line = json.loads(process.stdout.readline())
            assert line["url"].startswith("http://127.0.0.1:")
            assert line["url"].endswith("/v1")
            assert line["admin"].endswith("/__admin")
            assert json.loads(ready.read_text()) == line
            response = requests.get(line["url"] + "/connections", auth=("K", "S"), timeout=5)
            assert response.status_code == 200
            assert len(response.json()["data"]["items"]) == 25
            expected = requests.get(line["admin"] + "/expected-counts", timeout=5).json()
            assert expected["connections"] == 25
            process.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + 10
            while process.poll() is None and time.monotonic() < deadline:
                time.sleep(0.05)
            assert process.returncode == 0
        finally:
            if process.poll() is None:
                process.kill()
            process.communicate(timeout=5)
