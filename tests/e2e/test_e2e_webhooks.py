"""webhook_events: the inbox lands incrementally through Meltano into PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fivetran_sim import SimConfig, Simulator
from tap_fivetran_meta.webhooks.events import parse_event
from tap_fivetran_meta.webhooks.store import Inbox

from conftest import Warehouse, meltano_run

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("meltano_installed")]


def deliver(inbox_path: Path, first: int, count: int) -> None:
    with Inbox(inbox_path) as inbox:
        for n in range(first, first + count):
            body = {
                "event": "sync_end",
                "created": f"2026-11-26T10:{n // 60:02d}:{n % 60:02d}.000Z",
                "connector_type": "postgres",
                "connector_id": f"conn_{n % 3}",
                "connector_name": "pg",
                "sync_id": f"sync-{n}",
                "destination_group_id": "group_a",
                "data": {"status": "SUCCESSFUL" if n % 4 else "FAILURE_WITH_TASK", "reason": None},
            }
            raw = json.dumps(body, separators=(",", ":")).encode()
            inbox.add(
                parse_event(raw), received_at="2026-11-26T11:00:00.000000Z", signature_verified=True
            )


def test_webhook_events_round_trip(warehouse: Warehouse, tmp_path: Path) -> None:
    inbox_path = tmp_path / "inbox.sqlite"
    deliver(inbox_path, 0, 30)
    env = {
        "TAP_FIVETRAN_META_WEBHOOK_INBOX_PATH": str(inbox_path),
        "TAP_FIVETRAN_META__SELECT": json.dumps(["webhook_events.*"]),
    }
    config = SimConfig(
        connections=20, seed=3, api_key="e2e-key", api_secret="e2e-secret-never-logged"
    )
    with Simulator(config) as sim:
        first = meltano_run(warehouse, sim.url, extra_env=env)
        assert first.returncode == 0, first.stderr[-4000:]
        assert warehouse.count("webhook_events") == 30
        # This stream alone asks the API one thing: the account its rows belong to.
        assert sim.request_counts() == {"GET /v1/account/info": 1}
        account_id = sim.dataset.account["account_id"]
        assert warehouse.count("webhook_events", f"where account_id = '{account_id}'") == 30

        second_started = warehouse.query("select now() at time zone 'utc'")[0][0]
        deliver(inbox_path, 30, 12)
        deliver(inbox_path, 0, 5)  # Fivetran retries: identical bodies, stored once
        second = meltano_run(warehouse, sim.url, extra_env=env)
        assert second.returncode == 0, second.stderr[-4000:]
        assert warehouse.count("webhook_events") == 42
        touched = warehouse.count("webhook_events", f"where _sdc_batched_at >= '{second_started}'")
        assert touched == 12  # only the new events were read (bookmark on seq)
        failures = warehouse.count("webhook_events", "where status = 'FAILURE_WITH_TASK'")
        assert failures == len([n for n in range(42) if n % 4 == 0])

        # The inbox is deleted and created again: seq restarts at 1, far below the bookmark.
        # Its new id, kept in the state next to the bookmark, makes the tap read it whole.
        for path in tmp_path.glob("inbox.sqlite*"):
            path.unlink()
        deliver(inbox_path, 100, 3)
        third = meltano_run(warehouse, sim.url, extra_env=env)
        assert third.returncode == 0, third.stderr[-4000:]
    assert warehouse.count("webhook_events") == 45
    assert "belongs to another inbox" in third.stderr


# A delivery as Fivetran's JSON could carry it: a NUL and lone UTF-16 surrogates as escapes.
POISON = (
    b'{"event":"sync_end","created":"9999-12-31T23:59:59-01:00","connector_type":"pg",'
    b'"connector_id":"conn_\\ud800","connector_name":"pg\\u0000name","sync_id":"sync-p",'
    b'"destination_group_id":"group_a","data":{"status":"FAILURE","reason":"x\\udfff"}}'
)


def test_a_poison_event_loads_into_postgres_on_every_run(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    # Issue 22 items 6 and 9: NUL/lone surrogates made every later run crash (or
    # target-postgres refuse the load); a created past datetime's range broke parsing.
    inbox_path = tmp_path / "inbox.sqlite"
    deliver(inbox_path, 0, 2)
    with Inbox(inbox_path) as inbox:
        inbox.add(
            parse_event(POISON), received_at="2026-11-26T11:00:00.000000Z", signature_verified=True
        )
    env = {
        "TAP_FIVETRAN_META_WEBHOOK_INBOX_PATH": str(inbox_path),
        "TAP_FIVETRAN_META__SELECT": json.dumps(["webhook_events.*"]),
    }
    config = SimConfig(
        connections=5, seed=3, api_key="e2e-key", api_secret="e2e-secret-never-logged"
    )
    with Simulator(config) as sim:
        first = meltano_run(warehouse, sim.url, extra_env=env)
        assert first.returncode == 0, first.stderr[-4000:]
        with Inbox(inbox_path) as inbox:  # the next run reads another one
            again = POISON.replace(b"sync-p", b"sync-q")
            inbox.add(
                parse_event(again),
                received_at="2026-11-26T12:00:00.000000Z",
                signature_verified=True,
            )
        second = meltano_run(warehouse, sim.url, extra_env=env)
        assert second.returncode == 0, second.stderr[-4000:]
    assert warehouse.count("webhook_events") == 4
    rows = warehouse.query(
        "select sync_id, connection_id, connection_name, created, payload->>'created', "
        f"payload->>'connector_name' from \"{warehouse.schema}\".webhook_events "
        "where sync_id in ('sync-p', 'sync-q') order by sync_id"
    )
    assert rows == [
        (sync_id, "conn_\ufffd", "pgname", None, "9999-12-31T23:59:59-01:00", "pgname")
        for sync_id in ("sync-p", "sync-q")
    ]
    for run in (first, second):
        assert run.stderr.count("holding a NUL or a lone UTF-16 surrogate") == 1
