"""Through real Meltano into real PostgreSQL, against the bundled Fivetran simulator."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from fivetran_sim import SimConfig, Simulator

from conftest import ROOT, Warehouse, meltano_run

if TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("meltano_installed")]

# Streams whose row count the simulator predicts exactly for a full run.
ENTITY_STREAMS = (
    "account",
    "groups",
    "destinations",
    "connections",
    "connector_types",
    "users",
    "user_memberships",
    "teams",
    "team_memberships",
    "roles",
    "webhooks",
    "transformations",
    "transformation_projects",
    "hybrid_deployment_agents",
    "proxy_agents",
    "private_links",
    "system_keys",
    "external_logging",
)


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with Simulator(
        SimConfig(connections=40, seed=11, api_key="e2e-key", api_secret="e2e-secret-never-logged")
    ) as simulator:
        yield simulator


def _assert_ok(result) -> None:
    assert result.returncode == 0, result.stderr[-6000:]
    assert "e2e-secret-never-logged" not in result.stderr + result.stdout


def test_rows_equal_simulator_counts_and_rerun_upserts(
    sim: Simulator, warehouse: Warehouse
) -> None:
    first = meltano_run(warehouse, sim.url)
    _assert_ok(first)
    expected = sim.expected_counts()
    tables = warehouse.tables()
    for stream in ENTITY_STREAMS:
        assert stream in tables, stream
        assert warehouse.count(stream) == expected[stream], stream

    # Every row of every table names the account (several accounts can share the schema).
    account_id = sim.dataset.account["account_id"]
    for table in tables:
        if not table.startswith("_"):
            assert warehouse.count(table, f"where account_id is distinct from '{account_id}'") == 0

    second = meltano_run(warehouse, sim.url)
    _assert_ok(second)
    for stream in ENTITY_STREAMS:
        assert warehouse.count(stream) == expected[stream], f"{stream} duplicated on rerun"


def test_health_columns_cover_every_situation(sim: Simulator, warehouse: Warehouse) -> None:
    _assert_ok(meltano_run(warehouse, sim.url))
    rows = warehouse.query(
        f'select health, count(*) from "{warehouse.schema}".connections group by 1'
    )
    seen = {r[0] for r in rows}
    assert {"healthy", "paused", "broken", "incomplete", "rescheduled", "failing"} <= seen, seen
    # The simulator's three blocked scenarios, each named by the object that is down.
    blocked = warehouse.query(
        f'select id, blocked_by from "{warehouse.schema}".connections '
        "where health = 'blocked' order by id"
    )
    expected = sorted(
        (c.id, prefix)
        for scenario, prefix in (
            ("agent_offline", "hybrid_deployment_agent:"),
            ("proxy_down", "proxy_agent:"),
            ("private_link_down", "private_link:"),
        )
        for c in sim.dataset.by_scenario(scenario)
    )
    assert [(cid, by.split(":")[0] + ":") for cid, by in blocked] == expected
    # The README's health queries run as written.
    attention, behind_agents, keys = _readme_health_queries(warehouse.schema)
    assert {row[0] for row in warehouse.query(attention)} >= {cid for cid, _ in expected}
    offline = sim.dataset.by_scenario("agent_offline")[0].id
    assert [(row[0], row[3]) for row in warehouse.query(behind_agents)] == [(offline, False)]
    # expiring in 12 days; expired and unused for 130 days; never used since its creation
    expected_keys = {"terraform-ci", "legacy-airflow", "dbt-trigger"}
    assert {row[0] for row in warehouse.query(keys)} == expected_keys


def _readme_health_queries(schema: str) -> list[str]:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Connection health")[1].split("\n## ")[0]
    sql = section.split("```sql")[1].split("```")[0].replace("fivetran_meta.", f'"{schema}".')
    return [statement.strip() for statement in sql.split(";") if statement.strip()]


def test_deleted_connection_is_flagged_with_activate_version(
    sim: Simulator, warehouse: Warehouse
) -> None:
    env = {"TAP_FIVETRAN_META_EMIT_ACTIVATE_VERSION_MESSAGES": "true"}
    _assert_ok(meltano_run(warehouse, sim.url, extra_env=env))
    victim = sorted(sim.dataset.connections)[0]
    sim.delete_connection(victim)
    _assert_ok(meltano_run(warehouse, sim.url, extra_env=env))
    table = f'"{warehouse.schema}".connections'
    deleted = warehouse.query(f"select id from {table} where _sdc_deleted_at is not null")
    assert deleted == [(victim,)]
    live = warehouse.count("connections", "where _sdc_deleted_at is null")
    assert live == sim.expected_counts()["connections"]


def test_a_filter_matching_nothing_loads_and_deletes_nothing(
    sim: Simulator, warehouse: Warehouse
) -> None:
    # Issue 22, items 1 and 2: ACTIVATE_VERSION for a stream without a SCHEMA stopped
    # target-postgres with KeyError, and a filtered read flagged every other row deleted.
    env = {"TAP_FIVETRAN_META_EMIT_ACTIVATE_VERSION_MESSAGES": "true"}
    _assert_ok(meltano_run(warehouse, sim.url, extra_env=env))
    filtered = {**env, "TAP_FIVETRAN_META_GROUP_IDS": '["no_such_group"]'}
    _assert_ok(meltano_run(warehouse, sim.url, extra_env=filtered))
    for stream in ("connections", "groups", "team_memberships", "user_memberships"):
        deleted = warehouse.count(stream, "where _sdc_deleted_at is not null")
        assert deleted == 0, stream
    assert warehouse.count("connections") == sim.expected_counts()["connections"]
