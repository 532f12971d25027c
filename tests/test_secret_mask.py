"""Secret values are masked in every line the tap writes (issue 22, item 3).

An API or proxy error may echo the API key and secret: plain, as the base64 of
``key:secret`` without ``Basic``, URL-encoded, or inside a URL, in its ``code``,
``message``, ``X-Request-Id`` or ``Location``. The retry WARNING and the final ERROR
must carry none of them, whichever code path wrote the line.
"""

from __future__ import annotations

import base64
import json
import logging
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest
from hostile_server import HostileServer

from tap_fivetran_meta.rules.redact import REDACTED, SecretMask, secret_variants
from tap_fivetran_meta.runtime.log_levels import SecretMaskFilter

KEY = "key-Hostile-1234"
SECRET = "s3cr3t/+= with&odd?chars>>>"
WEBHOOK_SECRET = "whsec-planted-98765"
SPELLINGS = list(
    dict.fromkeys(
        [
            SECRET,
            KEY,
            base64.b64encode(f"{KEY}:{SECRET}".encode()).decode(),
            base64.b64encode(f"{KEY}:{SECRET}".encode()).decode().rstrip("="),
            base64.urlsafe_b64encode(f"{KEY}:{SECRET}".encode()).decode(),
            quote(SECRET, safe=""),
            quote(SECRET, safe="").lower(),
            quote_plus(SECRET),
            f"https://{KEY}:{quote(SECRET, safe='')}@proxy.example/v1",
            WEBHOOK_SECRET,
        ]
    )
)


@pytest.mark.parametrize(
    "spelling", SPELLINGS, ids=[f"spelling-{i}" for i in range(len(SPELLINGS))]
)
def test_every_spelling_is_masked(spelling: str) -> None:
    mask = SecretMask.of((KEY, SECRET, WEBHOOK_SECRET), basic_pairs=[(KEY, SECRET)])
    masked = mask(f"error: {spelling}; request id {spelling}")
    assert REDACTED in masked
    for variant in secret_variants((KEY, SECRET, WEBHOOK_SECRET), [(KEY, SECRET)]):
        assert variant not in masked


def test_short_values_are_not_masked_in_free_text() -> None:
    assert SecretMask.of(("ab",))("a cab") == "a cab"


def test_the_filter_masks_messages_arguments_and_exceptions() -> None:
    log_filter = SecretMaskFilter()
    log_filter.mask = SecretMask.of((SECRET,))
    error = RuntimeError(f"boom {SECRET}")
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "got %s", (SECRET,), None)
    record.exc_info = (RuntimeError, error, None)
    assert log_filter.filter(record)
    assert SECRET not in record.getMessage()
    assert record.exc_info is None  # the traceback would repeat it


def test_an_api_error_echoing_the_secret_is_masked_in_every_line(tmp_path: Path) -> None:
    with HostileServer("echo", echo=SPELLINGS) as server:
        config = {
            "api_key": KEY,
            "api_secret": SECRET,
            "api_url": server.url,
            "max_retries": 1,
            "retry_backoff_base": 0.01,
            "request_timeout": 5,
        }
        path = tmp_path / "config.json"
        path.write_text(json.dumps(config))
        env = {
            "PATH": "/usr/bin:/bin",
            "HOME": str(tmp_path),
            "FIVETRAN_WEBHOOK_SECRET": WEBHOOK_SECRET,
        }
        result = subprocess.run(
            [sys.executable, "-m", "tap_fivetran_meta", "--config", str(path)],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
            check=False,
        )
    assert result.returncode == 1
    output = result.stdout + result.stderr
    assert "Retrying" in result.stderr  # the retry WARNING was written...
    assert "tap-fivetran-meta failed" in result.stderr  # ...and the final ERROR
    assert "Traceback" not in output
    for spelling in SPELLINGS:
        assert spelling not in output, spelling
    for variant in secret_variants((KEY, SECRET, WEBHOOK_SECRET), [(KEY, SECRET)]):
        assert variant not in output, variant
