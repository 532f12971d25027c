"""Issue 20's check through the real tap and loader: every answer of "What to build" 4-11.

A simulator account with the issue's cases (a connection deleted in Fivetran, a 39 h gap
between runs, a broken day that recovers at 23:50, a manual schedule, a past
``rescheduled_for``, a sync running for 10 hours, days without syncs, a disabled table
under a consumer's dbt source, a transformation project in ERROR). The tap runs five
times with its clock fixed at D-2 10:00, D-1 09:00, D 23:50, D+1 00:20 and D+1 00:40 UTC
(D is two days before today), each run landed in DuckDB by the demo's target-duckdb; then
every raw row is loaded once more, as an append-only loader leaves it. A separate
consumer dbt project installs transform/ as a ``local:`` package and builds with the
``fivetran_meta`` profile's duckdb target. One test per bullet of the issue.
"""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import duckdb
import pytest
from model_fixtures import dbt_build

from fivetran_sim import SimConfig, Simulator
from fivetran_sim import model as m
from fivetran_sim.timefmt import to_us
from tap_fivetran_meta.rules.timeutil import format_timestamp
from tap_fivetran_meta.streams.syncs import SyncHistoryStream
from tap_fivetran_meta.tap import TapFivetranMeta

from conftest import ROOT

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.usefixtures("meltano_installed")]

PLUGINS = ROOT / ".meltano"
TARGET = PLUGINS / "loaders" / "target-duckdb" / "venv" / "bin" / "target-duckdb-header"
RAW, MODELS = "fivetran_meta", "fivetran_meta_models"
D = datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(
    days=2
)
RUNS = [
    D - timedelta(days=2) + timedelta(hours=10),
    D - timedelta(days=1) + timedelta(hours=9),
    D + timedelta(hours=23, minutes=50),
    D + timedelta(days=1, minutes=20),
    D + timedelta(days=1, minutes=40),
]
HORIZON = timedelta(hours=12)  # var fivetran_meta_observation_horizon_hours
STUCK_SINCE = RUNS[4] - timedelta(hours=10)
PAST_RESCHEDULE = D - timedelta(hours=12)
WARNING = {"code": "resync_table_warning", "message": "Resync Table Warning"}
TASK = {"code": "reconnect", "message": "Reconnect: the password changed"}


@dataclass
class Account:
    """What the test made happen, and where the models are."""

    warehouse: Path
    cases: dict[str, str]  # case -> connection id
    disabled_source: tuple[str, str]  # (schema, table) in the destination
    error_project: str
    raw_syncs: int


def _pick(sim: Simulator, count: int) -> list[str]:
    """Healthy connections that sync and have a schema config."""
    ids = [
        cid
        for cid, conn in sorted(sim.dataset.connections.items())
        if conn.scenario == m.HEALTHY and conn.has_schema_config and conn.plan.interval
    ]
    assert len(ids) >= count, ids
    return ids[:count]


def _stage(sim: Simulator) -> tuple[dict[str, str], str]:
    """The cases that hold from the first run on; returns them and the ERROR project."""
    names = ["deleted", "recovers", "manual", "past_rescheduled", "stuck", "gaps", "disabled"]
    cases = dict(zip(names, _pick(sim, len(names)), strict=True))
    plans = {name: sim.dataset.connections[cid].plan for name, cid in cases.items()}
    # No sync since before the first run: stale by sync_frequency, unless manual.
    for name in ("manual", "past_rescheduled"):
        plans[name].stop = to_us(RUNS[0] - timedelta(hours=6))
    sim.mutate_connection(cases["manual"], schedule_type="manual")
    sim.mutate_connection(
        cases["past_rescheduled"],
        sync_state="rescheduled",
        rescheduled_for=format_timestamp(PAST_RESCHEDULE),
    )
    # One sync at a time: the connection's last sync started 10 h before the last run.
    plans["stuck"].stop = to_us(STUCK_SINCE)
    plans["stuck"].extra_running_at = to_us(STUCK_SINCE)
    plans["gaps"].pauses = [[to_us(D - timedelta(days=1)), to_us(D + timedelta(days=1))]]
    sim.mutate_connection(cases["deleted"], warnings=[WARNING])
    project = sorted(sim.dataset.projects)[0]
    sim.dataset.projects[project].update(status="ERROR", errors=["Unable to clone the repository"])
    return cases, project


def _between_runs(sim: Simulator, run: int, cases: dict[str, str], table: tuple[str, str]) -> None:
    """What changes in the account before run ``run`` (0-based)."""
    if run == 1:  # broken from D-1 09:00, a task to act on
        sim.mutate_connection(cases["recovers"], setup_state="broken", tasks=[TASK])
    elif run == 2:  # fixed by D 23:50
        sim.mutate_connection(cases["recovers"], setup_state="connected", tasks=[])
    elif run == 3:
        sim.delete_connection(cases["deleted"])
        sim.edit_table(cases["disabled"], *table, enabled=False)


def _tap_run(sim: Simulator, at: datetime, state: dict[str, Any] | None, out: Path) -> dict:
    """One tap run with its clock at ``at``; messages to ``out``; returns the final state."""
    config = {
        "api_key": "truth-key",
        "api_secret": "truth-secret",
        "api_url": sim.url,
        "start_date": format_timestamp(RUNS[0] - timedelta(days=3)),
        "schema_refresh_hours": 0,  # runs 20 minutes apart still read the disabled table
    }
    buffer = io.StringIO()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("tap_fivetran_meta.tap.utcnow", lambda: at)
        tap = TapFivetranMeta(config=config, state=state, parse_env_config=False)
        with contextlib.redirect_stdout(buffer):
            tap.sync_all()
    out.write_text(buffer.getvalue())
    states = [
        json.loads(line)["value"]
        for line in buffer.getvalue().splitlines()
        if line.startswith('{"type":"STATE"') or '"type": "STATE"' in line
    ]
    assert states, "the tap wrote no STATE"
    return states[-1]


def _load(messages: Path, warehouse: Path, tmp: Path) -> None:
    config = tmp / "target.json"
    config.write_text(json.dumps({"filepath": str(warehouse), "default_target_schema": RAW}))
    with messages.open() as stdin:
        loaded = subprocess.run(
            [str(TARGET), "--config", str(config)],
            stdin=stdin,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    assert loaded.returncode == 0, loaded.stderr[-4000:]


def _append_twice(warehouse: Path) -> None:
    """Every raw row once more: what an append-only loader leaves after a replay."""
    con = duckdb.connect(str(warehouse))
    tables = con.execute(
        "select table_name from information_schema.tables where table_schema = ?", [RAW]
    ).fetchall()
    for (table,) in tables:  # without the loader's primary keys, as an appending loader
        name = f'{RAW}."{table}"'
        con.execute(
            f"create table {RAW}.doubled as select * from {name} union all select * from {name}"
        )
        con.execute(f"drop table {name}")
        con.execute(f'alter table {RAW}.doubled rename to "{table}"')
    con.close()


def _consumer(root: Path, warehouse: Path, sources: list[dict[str, Any]]) -> None:
    project = root / "consumer"
    (project / "models").mkdir(parents=True)
    (project / "dbt_project.yml").write_text(
        "name: consumer\nversion: '1.0'\nconfig-version: 2\nprofile: fivetran_meta\n"
    )
    (project / "packages.yml").write_text(f"packages:\n  - local: {ROOT / 'transform'}\n")
    spec = {"version": 2, "sources": sources}
    (project / "models" / "sources.yml").write_text(json.dumps(spec))
    dbt_build(project, warehouse, models_schema=MODELS, source_schema=RAW)


def _lineage(
    warehouse: Path, connection_id: str, source: tuple[str, str] | None = None
) -> tuple[str, str, str, str, str]:
    """(source schema, table, destination database, schema, table): the given source table,
    or the connection's first enabled one."""
    where = "source_schema = ? and source_table = ?" if source else "enabled"
    con = duckdb.connect(str(warehouse), read_only=True)
    row = con.execute(
        f"""select distinct source_schema, source_table, destination_database,
        destination_schema, destination_table from {RAW}.table_lineage
        where connection_id = ? and {where} order by 4, 5 limit 1""",
        [connection_id, *(source or ())],
    ).fetchone()
    con.close()
    assert row is not None, connection_id
    return row


@pytest.fixture(scope="module")
def account(tmp_path_factory: pytest.TempPathFactory, meltano_installed: None) -> Account:
    del meltano_installed
    root = tmp_path_factory.mktemp("truth-e2e")
    warehouse = root / "warehouse.duckdb"
    config = SimConfig(
        connections=24, seed=20, api_key="truth-key", api_secret="truth-secret", now=RUNS[0]
    )
    with Simulator(config) as sim:
        cases, project = _stage(sim)
        state: dict[str, Any] | None = None
        table: tuple[str, str] = ("", "")
        for run, at in enumerate(RUNS):
            if at > sim.now:
                sim.advance((at - sim.now).total_seconds() / 60)
            _between_runs(sim, run, cases, table)
            messages = root / f"run{run}.jsonl"
            state = _tap_run(sim, at, state, messages)
            _load(messages, warehouse, root)
            if run == 0:
                table = _lineage(warehouse, cases["disabled"])[:2]
    _append_twice(warehouse)
    fed = _lineage(warehouse, cases["disabled"], table)
    database, schema, name = fed[2:]
    key = ", ".join(SyncHistoryStream.primary_keys)
    raw = duckdb.connect(str(warehouse), read_only=True)
    raw_syncs = raw.execute(
        f"select count(*) from (select distinct {key} from {RAW}.sync_history)"
    ).fetchone()[0]
    raw.close()
    _consumer(
        root,
        warehouse,
        [{"name": "shop", "database": database, "schema": schema, "tables": [{"name": name}]}],
    )
    return Account(warehouse, cases, (schema, name), project, raw_syncs)


def _rows(account: Account, sql: str, *params: Any) -> list[dict[str, Any]]:
    con = duckdb.connect(str(account.warehouse), read_only=True)
    cursor = con.execute(sql.replace("@", f"{MODELS}.fivetran_meta__"), list(params))
    names = [d[0] for d in cursor.description]
    rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    con.close()
    return rows


def _status(account: Account, case: str) -> dict[str, Any]:
    (row,) = _rows(
        account, "select * from @connection_status where connection_id = ?", account.cases[case]
    )
    return row


def _naive(moment: datetime) -> datetime:
    return moment.replace(tzinfo=None)


def test_4_connection_status_deleted_fresh_at_build_time_stuck(account: Account) -> None:
    deleted = _status(account, "deleted")
    assert (deleted["health"], deleted["is_at_risk"]) == ("deleted", True)
    assert deleted["last_observed_at"] == _naive(RUNS[2])  # the last run that listed it
    # Every connection still there was last observed by the last run.
    observed = _rows(account, "select health, last_observed_at from @connection_status")
    assert {r["last_observed_at"] for r in observed if r["health"] != "deleted"} == {
        _naive(RUNS[4])
    }
    # Judged at build time (two days after the last run), not at extraction.
    since_run = (datetime.now(timezone.utc) - RUNS[4]).total_seconds() / 60
    for case in ("gaps", "recovers"):
        row = _status(account, case)
        assert row["minutes_since_success"] >= since_run - 1, (case, row)
        assert row["is_fresh"] is False, (case, row)  # an hourly-ish schedule, 2 days ago
    # A manual schedule is never stale by sync_frequency; a past rescheduled_for hides nothing.
    manual = _status(account, "manual")
    assert (manual["health"], manual["is_fresh"]) != ("stale", False)
    assert manual["is_fresh"] is None
    past = _status(account, "past_rescheduled")
    assert past["rescheduled_for"] == _naive(PAST_RESCHEDULE)
    assert past["health"] == "stale"
    stuck = _status(account, "stuck")
    assert stuck["is_sync_stuck"] is True
    assert stuck["running_sync_started_at"] == _naive(STUCK_SINCE)
    assert stuck["sync_duration_p95_seconds"] < 3600


def _daily(account: Account, case: str) -> dict[Any, dict[str, Any]]:
    rows = _rows(
        account,
        "select * from @connection_daily_health where connection_id = ?",
        account.cases[case],
    )
    return {r["day"]: r for r in rows}


def test_5_daily_health_counts_only_observed_hours(account: Account) -> None:
    days = _daily(account, "recovers")
    # D-2: 10:00 + 12 h horizon; D-1: broken 09:00-21:00; D: healthy from 23:50.
    assert days[(D - timedelta(days=2)).date()]["hours_observed"] == pytest.approx(12)
    minus1 = days[(D - timedelta(days=1)).date()]
    assert (minus1["hours_observed"], minus1["hours_broken"]) == (pytest.approx(12),) * 2
    assert minus1["main_health"] == "broken"
    day = days[D.date()]  # the 39 h gap: 10 observed minutes, healthy, never 24 h
    assert day["hours_observed"] == pytest.approx(10 / 60, abs=0.01)
    assert (day["main_health"], day["hours_broken"]) == ("healthy", 0)
    # Deleted at D+1 00:20: the D 23:50 snapshot holds until then, nothing after it.
    gone = _daily(account, "deleted")
    assert max(gone) == (D + timedelta(days=1)).date(), sorted(gone)
    assert gone[D.date()]["hours_observed"] == pytest.approx(10 / 60, abs=0.01)
    assert gone[max(gone)]["hours_observed"] == pytest.approx(20 / 60, abs=0.01)


def test_6_uptime_is_hour_weighted(account: Account) -> None:
    (row,) = _rows(
        account,
        "select * from @connection_uptime where connection_id = ?",
        account.cases["recovers"],
    )
    # Independently: up 12 h (D-2) + 10 + 20 + 20 min + 12 h after the last run (the
    # build is two days later, so the horizon ends it); down 12 h (D-1).
    up = 12 + 50 / 60 + 12
    assert row["hours_counted_7d"] == pytest.approx(up + 12, abs=0.02)
    assert row["hours_up_7d"] == pytest.approx(up, abs=0.02)
    assert row["uptime_7d"] == pytest.approx(up / (up + 12), abs=0.001)


def test_7_errors_last_seen_and_closed_at_deletion(account: Account) -> None:
    (task,) = _rows(
        account,
        "select * from @errors_and_warnings where connection_id = ? and kind = 'task'",
        account.cases["recovers"],
    )
    assert (task["code"], task["is_open"]) == (TASK["code"], False)
    assert task["last_seen_at"] == _naive(RUNS[1])  # not D 23:50, where it was gone
    (warning,) = _rows(
        account,
        "select * from @errors_and_warnings where connection_id = ? and kind = 'warning'",
        account.cases["deleted"],
    )
    assert (warning["code"], warning["is_open"]) == (WARNING["code"], False)
    assert warning["last_seen_at"] == _naive(RUNS[2])


def test_8_sync_metrics_every_day_and_outcome(account: Account) -> None:
    rows = _rows(
        account,
        "select * from @sync_metrics where connection_id = ? order by sync_day",
        account.cases["gaps"],
    )
    days = [r["sync_day"] for r in rows]
    first = days[0]
    today = datetime.now(timezone.utc).date()
    assert days == [first + timedelta(n) for n in range((today - first).days + 1)]
    by_day = {r["sync_day"]: r for r in rows}
    assert by_day[(D - timedelta(days=1)).date()]["syncs"] == 0
    assert by_day[D.date()]["syncs"] == 0
    assert by_day[(D - timedelta(days=2)).date()]["syncs"] > 0
    columns = set(rows[0])
    assert {"syncs_truncated", "failure_rate"} <= columns, columns
    # Deduplicated: the doubled raw rows count once.
    (total,) = _rows(account, "select sum(syncs) as n from @sync_metrics")
    assert total["n"] == account.raw_syncs


def test_9_disabled_table_source_is_at_risk(account: Account) -> None:
    (row,) = _rows(account, "select * from @dbt_source_health")
    assert row["connection_id"] == account.cases["disabled"]
    assert (row["is_fed_by_fivetran"], row["is_at_risk"], row["risk_reason"]) == (
        True,
        True,
        "table_disabled",
    )


def test_10_project_in_error(account: Account) -> None:
    rows = _rows(
        account, "select * from @transformation_status where project_id = ?", account.error_project
    )
    assert rows
    for row in rows:
        assert (row["project_status"], row["is_failing"]) == ("ERROR", True)
        assert "Unable to clone the repository" in row["project_errors"]


def test_11_deduplicated_on_an_append_only_loader(account: Account) -> None:
    raw = _rows(account, f"select count(*) as n, count(distinct id) as d from {RAW}.connections")
    assert raw[0]["n"] == 2 * raw[0]["d"]
    status = _rows(
        account, "select count(*) as n, count(distinct connection_id) as d from @connection_status"
    )
    assert status[0]["n"] == status[0]["d"] == raw[0]["d"]
    uptime = _rows(account, "select count(*) as n from @connection_uptime")
    assert uptime[0]["n"] == raw[0]["d"]
