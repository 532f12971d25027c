"""Fields written without scrubbing before (issue 22, item 4).

``webhooks.url`` (a ``?token=`` or ``user:pass@``), the whole
``transformations.schedule`` object, the free-text fields of ``private_links`` and a
webhook event's ``reason`` must not carry a planted secret into a record.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import requests_mock
from history_helpers import run_capture

from tap_fivetran_meta.webhooks.events import parse_event
from tap_fivetran_meta.webhooks.store import Inbox

import api_fixtures as fx

API = fx.API
PLANTED = "planted-secret-44ab"


def _dumped(run: Any, stream: str) -> str:
    return json.dumps(run.records(stream))


def test_a_webhook_url_loses_its_token_and_user_info(api: requests_mock.Mocker) -> None:
    hooks = copy.deepcopy(fx.WEBHOOKS)
    hooks[0]["url"] = f"https://bob:{PLANTED}@hooks.example.com/in?token={PLANTED}&v=2"
    hooks.append({**hooks[0], "id": "second", "url": f"https://h.example.com/x?sig={PLANTED}"})
    api.get(f"{API}/webhooks", json=fx.page(hooks))
    run = run_capture(fx.CONFIG, streams={"webhooks"})
    assert PLANTED not in _dumped(run, "webhooks")
    urls = [r["url"] for r in run.records("webhooks")]
    assert urls[0].startswith("https://<redacted>@hooks.example.com/in?token=<redacted>")
    assert urls[1] == "https://h.example.com/x?sig=<redacted>"


def test_a_transformation_schedule_keeps_only_its_documented_fields(
    api: requests_mock.Mocker,
) -> None:
    transformations = copy.deepcopy(fx.TRANSFORMATIONS)
    transformations[0]["schedule"] = {
        "schedule_type": "CRON",
        "cron": ["0 * * * *"],
        "days_of_week": ["MONDAY"],
        "smart_syncing": False,
        "webhook_token": PLANTED,
        "vendor_blob": {"inner": PLANTED},
        "time_of_day": f"password={PLANTED}",
    }
    api.get(f"{API}/transformations", json=fx.page(transformations))
    run = run_capture(fx.CONFIG, streams={"transformations"})
    assert PLANTED not in _dumped(run, "transformations")
    schedule = run.records("transformations")[0]["schedule"]
    assert schedule == {
        "schedule_type": "CRON",
        "cron": ["0 * * * *"],
        "days_of_week": ["MONDAY"],
        "smart_syncing": False,
        "time_of_day": "password=<redacted>",
    }


def test_private_link_free_text_is_scrubbed(api: requests_mock.Mocker) -> None:
    links = copy.deepcopy(fx.PRIVATE_LINKS)
    links[0]["state_summary"] = f"Failed: postgres://fivetran:{PLANTED}@db.internal:5432/app"
    links[0]["resource_upstream_status"] = f"Rejected (token={PLANTED})"
    links[0]["host"] = f"admin:{PLANTED}@vpce-1.example.com"
    api.get(f"{API}/private-links", json=fx.page(links))
    run = run_capture(fx.CONFIG, streams={"private_links"})
    assert PLANTED not in _dumped(run, "private_links")
    row = run.records("private_links")[0]
    assert "db.internal:5432/app" in row["state_summary"]
    assert row["name"] == "salesforce-link"


def test_a_webhook_reason_is_scrubbed_in_the_column_and_the_payload(
    api: requests_mock.Mocker, tmp_path: Path
) -> None:
    body = json.dumps(
        {
            "event": "sync_end",
            "created": "2026-05-22T00:06:08.638Z",
            "connector_id": "speak_inexpensive",
            "data": {
                "status": "FAILURE_WITH_TASK",
                "reason": f"login failed: password={PLANTED}; see https://u:{PLANTED}@h.x/",
            },
        }
    ).encode()
    path = tmp_path / "inbox.sqlite"
    with Inbox(path) as inbox:
        inbox.add(parse_event(body), received_at="2026-05-22T00:06:09Z", signature_verified=True)
    run = run_capture({**fx.CONFIG, "webhook_inbox_path": str(path)}, streams={"webhook_events"})
    assert run.error is None
    rows = run.records("webhook_events")
    assert len(rows) == 1
    assert PLANTED not in json.dumps(rows)
    assert rows[0]["reason"].startswith("login failed: password=<redacted>")
