"""The dbt models on a held-out account with the cases that used to give false answers.

tests/model_fixtures.py writes the tap's tables into a DuckDB file (dates relative to
today, every raw row twice, as an append-only loader leaves them); a consumer dbt project
installs transform/ as a local package, declares sources on Fivetran destination tables
(one of them disabled in Fivetran) and runs ``dbt build`` with the demo's dbt-duckdb
utility, offline. Each test is one bullet of issue 20.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import model_fixtures as fx
import pytest

from conftest import ROOT

if TYPE_CHECKING:
    import duckdb

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("meltano_installed")]

MODELS = "fivetran_meta_models"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, meltano_installed: None) -> Path:
    """The warehouse after ``dbt deps`` and ``dbt build`` in a consumer project."""
    root = tmp_path_factory.mktemp("truth")
    warehouse = root / "warehouse.duckdb"
    fx.build(warehouse)
    project = root / "consumer"
    (project / "models").mkdir(parents=True)
    (project / "dbt_project.yml").write_text(
        "name: consumer\nversion: '1.0'\nconfig-version: 2\nprofile: fivetran_meta\n"
    )
    (project / "packages.yml").write_text(f"packages:\n  - local: {ROOT / 'transform'}\n")
    sources = [
        {
            "name": "shop",
            "database": "analytics",
            "schema": "shop_public",
            "tables": [{"name": "orders"}, {"name": "legacy_orders"}],
        },
        {
            "name": "crm",
            "database": "analytics",
            "schema": "crm_crm",
            "tables": [{"name": "accounts"}],
        },
        {"name": "hand_made", "schema": "public", "tables": [{"name": "budget"}]},
    ]
    (project / "models" / "sources.yml").write_text(json.dumps({"version": 2, "sources": sources}))
    run = fx.dbt_build(project, warehouse, models_schema=MODELS, source_schema=fx.SCHEMA)
    # Source key tests warn (the raw rows are all there twice) but never stop the build.
    assert "WARN" in run.stdout
    assert "source_unique_fivetran_meta_connections_id" in run.stdout
    return warehouse


def rows(warehouse: Path, model: str, where: str = "") -> list[dict[str, Any]]:
    import duckdb

    con: duckdb.DuckDBPyConnection = duckdb.connect(str(warehouse), read_only=True)
    try:
        result = con.execute(f"select * from {MODELS}.fivetran_meta__{model} {where}")
        names = [d[0] for d in result.description]
        return [dict(zip(names, r, strict=True)) for r in result.fetchall()]
    finally:
        con.close()


def by_id(warehouse: Path, model: str, key: str = "connection_id") -> dict[str, dict[str, Any]]:
    return {r[key]: r for r in rows(warehouse, model)}


# --- item 4: connection_status ------------------------------------------------------------


def test_deleted_connections_show_as_deleted_and_at_risk(built: Path) -> None:
    status = by_id(built, "connection_status")
    assert set(status) == set(fx.CONNECTIONS)  # deleted ones do not vanish
    for cid in ("c_deleted", "c_flagged"):  # tap's 'deleted' row / loader's _sdc_deleted_at
        assert (status[cid]["health"], status[cid]["is_deleted"]) == ("deleted", True), cid
        assert status[cid]["is_at_risk"] is True
    assert status["c_ok"]["health"] == "healthy"
    assert status["c_ok"]["is_deleted"] is False
    assert status["c_deleted"]["warning_count"] == 0


def test_last_observed_at_is_the_last_run_that_listed_it(built: Path) -> None:
    status = by_id(built, "connection_status")
    assert status["c_ok"]["last_observed_at"] == fx.LAST_RUN
    assert status["c_deleted"]["last_observed_at"] == fx.LISTED["c_deleted"][-1]
    assert status["c_flagged"]["last_observed_at"] == fx.LISTED["c_flagged"][-1]


def test_freshness_is_judged_at_build_time_in_utc(built: Path) -> None:
    status = by_id(built, "connection_status")
    ok = status["c_ok"]
    # Fresh at the last run (success 30 min before it), but that run was over a day ago.
    built_minutes = (datetime.utcnow() - (fx.LAST_RUN - timedelta(minutes=30))).total_seconds() / 60
    assert abs(ok["minutes_since_success"] - built_minutes) < 15
    assert ok["is_fresh"] is False
    assert ok["judged_at"] > fx.LAST_RUN + timedelta(hours=20)


def test_manual_schedule_and_past_reschedule(built: Path) -> None:
    status = by_id(built, "connection_status")
    manual = status["c_manual"]
    assert manual["schedule_type"] == "manual"
    assert manual["health"] != "stale"
    assert manual["is_fresh"] is None  # no schedule to be late against
    resched = status["c_resched"]
    assert resched["rescheduled_for"] < resched["last_observed_at"]
    assert resched["health"] == "stale"


def test_a_ten_hour_sync_where_syncs_take_minutes_is_stuck(built: Path) -> None:
    status = by_id(built, "connection_status")
    stuck = status["c_stuck"]
    assert stuck["is_sync_stuck"] is True
    assert stuck["running_sync_started_at"] == fx.LAST_RUN - timedelta(hours=10)
    assert stuck["running_sync_minutes"] == 600
    assert stuck["sync_duration_p95_seconds"] < 600
    assert status["c_ok"]["running_sync_started_at"] is not None
    assert status["c_ok"]["is_sync_stuck"] is False  # running 20 minutes


# --- items 5 and 6: observed hours and uptime ------------------------------------------------


def observed_hours(cid: str) -> dict[tuple[str, str], float]:
    """(day, health) -> hours, recomputed from the fixture: a snapshot holds until the
    next observation, at most 12 h, and a deletion holds nothing."""
    points = {at: h for at, h, _ in fx.STATUS[cid]}
    listed = fx.LISTED.get(cid, fx.RUNS)
    first = min(points)
    for run in fx.RUNS:
        if first < run <= listed[-1]:
            points.setdefault(run, "")
    deleted = [at for at, h in points.items() if h == "deleted"]
    if cid == "c_flagged":
        deleted = [min(r for r in fx.RUNS if r > listed[-1])]
        points[deleted[0]] = "deleted"
    times = sorted(points)
    health = ""
    now = datetime.utcnow()
    hours: dict[tuple[str, str], float] = {}
    for i, start in enumerate(times):
        health = points[start] or health
        if health == "deleted":
            break
        end = min(times[i + 1] if i + 1 < len(times) else now, start + fx.HORIZON, now)
        t = start
        while t < end:
            day_end = datetime.combine(t.date() + timedelta(days=1), datetime.min.time())
            piece = min(end, day_end)
            key = (t.date().isoformat(), health)
            hours[key] = hours.get(key, 0.0) + (piece - t).total_seconds() / 3600
            t = piece
    return hours


def test_hours_observed_count_only_what_an_observation_covers(built: Path) -> None:
    days = rows(built, "connection_daily_health", "order by connection_id, day")
    for cid in fx.CONNECTIONS:
        truth = observed_hours(cid)
        for row in (r for r in days if r["connection_id"] == cid):
            day = row["day"].isoformat()
            want = sum(h for (d, _), h in truth.items() if d == day)
            assert abs(row["hours_observed"] - want) < 0.02, (cid, day, row["hours_observed"], want)
    gap_day = (fx.D - timedelta(days=2)).isoformat()  # inside the 39 h gap: nobody ran
    gap = [r for r in days if r["day"].isoformat() == gap_day]
    assert gap
    assert all(r["hours_observed"] == 0 for r in gap)
    assert all(r["hours_unobserved"] == pytest.approx(24) and r["main_health"] is None for r in gap)


def test_a_broken_day_that_recovers_at_2350_is_broken(built: Path) -> None:
    (day,) = rows(
        built, "connection_daily_health", f"where connection_id = 'c_broken' and day = '{fx.D}'"
    )
    assert (day["main_health"], day["last_health"]) == ("broken", "healthy")
    assert day["hours_broken"] == pytest.approx(22 + 50 / 60, abs=0.01)
    assert day["hours_unobserved"] == pytest.approx(50 / 60, abs=0.01)  # 23:00 .. 23:50


def test_a_deleted_connection_has_no_hours_after_deletion(built: Path) -> None:
    days = rows(built, "connection_daily_health", "where connection_id = 'c_deleted' order by day")
    deleted_at = fx.RUNS[6]
    assert days[-1]["day"] == deleted_at.date()
    assert days[-1]["last_health"] == "deleted"
    assert days[-1]["hours_observed"] == pytest.approx(20 / 60, abs=0.01)  # 00:00 .. 00:20
    assert days[-1]["hours_unobserved"] == pytest.approx(0, abs=0.01)


def test_uptime_is_hour_weighted_over_the_last_7_days(built: Path) -> None:
    uptime = by_id(built, "connection_uptime")
    assert set(uptime) == set(fx.CONNECTIONS)
    truth = observed_hours("c_broken")
    up = sum(h for (_, health), h in truth.items() if health == "healthy")
    counted = sum(truth.values())
    row = uptime["c_broken"]
    assert row["hours_counted_7d"] == pytest.approx(counted, abs=0.05)
    assert row["hours_up_7d"] == pytest.approx(up, abs=0.05)
    assert row["uptime_7d"] == pytest.approx(up / counted, abs=0.001)
    # The average of daily shares would be something else (days weigh alike).
    shares = [
        r["up_share"]
        for r in rows(built, "connection_daily_health", "where connection_id = 'c_broken'")
        if r["up_share"] is not None
    ]
    assert abs(sum(shares) / len(shares) - row["uptime_7d"]) > 0.05
    assert uptime["c_paused"]["uptime_7d"] is None  # paused all week: nothing counted
    assert uptime["c_paused"]["hours_counted_7d"] == 0
    assert uptime["c_ok"]["uptime_30d"] == 1


# --- item 7: errors and warnings ---------------------------------------------------------


def test_codes_last_seen_where_present_and_closed_at_deletion(built: Path) -> None:
    found = {(r["connection_id"], r["code"]): r for r in rows(built, "errors_and_warnings")}
    task = found[("c_broken", "reconnect")]
    assert task["first_seen_at"] == fx.RUNS[3]
    assert task["last_seen_at"] == fx.RUNS[4]  # the last run that saw it, not the next
    assert task["closed_at"] == fx.RUNS[5]
    assert task["is_open"] is False
    warning = found[("c_deleted", "schema_drift")]
    assert warning["last_seen_at"] == fx.LISTED["c_deleted"][-1]
    assert warning["closed_at"] == fx.RUNS[6]  # its deletion
    assert warning["is_open"] is False
    assert warning["message"] == "Column types changed"


# --- item 8: sync metrics ------------------------------------------------------------------


def test_sync_metrics_has_every_day_and_every_outcome(built: Path) -> None:
    days = {r["sync_day"]: r for r in rows(built, "sync_metrics", "where connection_id = 'c_ok'")}
    first = fx.D - timedelta(days=4)
    want = {first + timedelta(days=n) for n in range((fx.TODAY - first).days + 1)}
    assert set(days) == want
    quiet = days[fx.D - timedelta(days=2)]
    assert (quiet["syncs"], quiet["failure_rate"]) == (0, None)
    d = days[fx.D]
    assert (d["syncs_succeeded"], d["syncs_failed"], d["syncs_canceled"]) == (1, 1, 1)
    assert (d["syncs_rescheduled"], d["syncs_truncated"], d["syncs_other"]) == (1, 1, 0)
    assert d["syncs"] == 5  # the matching webhook sync_end is not counted again
    assert d["failure_rate"] == pytest.approx(1 / 5)
    # Raw rows twice, counted once: 3 syncs on D-4.
    assert days[first]["syncs"] == 3
    deleted = rows(built, "sync_metrics", "where connection_id = 'c_deleted'")
    assert max(r["sync_day"] for r in deleted) == fx.RUNS[6].date()


# --- item 9: dbt source health ------------------------------------------------------------


def test_a_source_on_a_disabled_table_is_fed_and_at_risk(built: Path) -> None:
    found = {r["source_table"]: r for r in rows(built, "dbt_source_health")}
    legacy = found["legacy_orders"]
    assert (legacy["is_fed_by_fivetran"], legacy["is_at_risk"]) == (True, True)
    assert legacy["risk_reason"] == "table_disabled"
    assert (found["orders"]["is_at_risk"], found["orders"]["risk_reason"]) == (False, None)
    assert (found["accounts"]["risk_reason"], found["accounts"]["is_at_risk"]) == ("deleted", True)
    assert found["budget"]["is_fed_by_fivetran"] is False


# --- item 10: transformation projects --------------------------------------------------------


def test_a_project_in_error_without_transformations_is_failing(built: Path) -> None:
    found = {r["project_id"]: r for r in rows(built, "transformation_status")}
    err = found["p_err"]
    assert err["transformation_id"] is None
    assert (err["project_status"], err["is_failing"]) == ("ERROR", True)
    assert err["project_errors"] == "Unable to clone the repository"
    assert (found["p_ok"]["transformation_id"], found["p_ok"]["is_failing"]) == ("t_ok", False)


# --- item 11: append-only loaders -----------------------------------------------------------


def test_rows_loaded_twice_are_counted_once(built: Path) -> None:
    syncs = rows(built, "syncs", "where known_from = 'sync_history'")
    assert len(syncs) == len(fx.tables().rows["sync_history"])
    assert len(rows(built, "connection_status")) == len(fx.CONNECTIONS)
    keys = [(r["connection_id"], r["day"]) for r in rows(built, "connection_daily_health")]
    assert len(keys) == len(set(keys))
