"""Webhooks, connector-type metadata, transformations and transformation projects."""

from __future__ import annotations

from typing import Any

from fivetran_sim import catalog as cat
from fivetran_sim.context import GenContext
from fivetran_sim.gen_groups import MASKED
from fivetran_sim.model import Connection, JsonDict
from fivetran_sim.timefmt import MILLI, fmt, fmt_date
from fivetran_sim.words import NOUNS


def build_webhooks(
    ctx: GenContext, count: int, group_ids: list[str], user_ids: list[str]
) -> dict[str, JsonDict]:
    """Account- and group-level webhooks (secrets always masked).

    Args:
        ctx: Generator context.
        count: Number of webhooks.
        group_ids: Groups for group webhooks.
        user_ids: Candidate creators.

    Returns:
        Webhook id -> webhook JSON.
    """
    hooks: dict[str, JsonDict] = {}
    for index in range(count):
        hook_id = ctx.ids.new()
        is_group = index % 2 == 1
        events = sorted(ctx.rng.sample(cat.WEBHOOK_EVENTS, ctx.rng.randint(1, 4)))
        hook: JsonDict = {"id": hook_id, "type": "group" if is_group else "account"}
        if is_group:
            hook["group_id"] = ctx.rng.choice(group_ids)
        hook.update(
            {
                "url": f"https://hooks.example.com/fivetran/{ctx.rng.choice(NOUNS)}/{index}",
                "events": events,
                "active": ctx.rng.random() < 0.85,
                "secret": MASKED,
                "created_at": fmt(ctx.ago(1, 400), MILLI),
                "created_by": ctx.rng.choice(user_ids),
            }
        )
        hooks[hook_id] = hook
    return hooks


def build_connector_types(ctx: GenContext, used: set[str]) -> dict[str, JsonDict]:
    """Metadata for every service in use plus a few unused ones.

    Args:
        ctx: Generator context.
        used: Service ids used by connections.

    Returns:
        Service id -> connector-type JSON.
    """
    entries = [(s.id, s.name, s.category) for s in cat.SOURCE_SERVICES if s.id in used]
    entries.extend(cat.EXTRA_CONNECTOR_TYPES)
    types: dict[str, JsonDict] = {}
    for service_id, name, category in entries:
        types[service_id] = _connector_type(ctx, service_id, name, category)
    return types


def _connector_type(ctx: GenContext, service_id: str, name: str, category: str) -> JsonDict:
    rng = ctx.rng
    base = f"https://fivetran.com/integrations/coil_connectors/resources/{service_id}/resources"
    features = sorted(rng.sample(cat.SUPPORTED_FEATURES, rng.randint(1, 5)))
    status = ctx.weighted(
        (("general_availability", 16), ("beta", 3), ("private_preview", 1), ("sunset", 1))
    )
    return {
        "id": service_id,
        "name": name,
        "type": category,
        "description": f"{name} is a data source supported by Fivetran.",
        "icon_url": f"{base}/{service_id}.svg",
        "icons": [f"{base}/{service_id}_512.png"],
        "link_to_docs": f"https://fivetran.com/docs/connectors/{service_id}",
        "link_to_erd": f"https://fivetran.com/docs/connectors/{service_id}#schemainformation",
        "connector_class": "lite" if rng.random() < 0.3 else "standard",
        "supported_features": [
            {"id": feature, "notes": "All tables" if feature == "CAPTURE_DELETES" else ""}
            for feature in features
        ],
        "service_status": status,
        "service_status_updated_at": fmt_date(ctx.ago(30, 900)),
    }


def build_projects(
    ctx: GenContext, group_ids: list[str], user_ids: list[str]
) -> dict[str, JsonDict]:
    """One dbt project for every other group.

    Args:
        ctx: Generator context.
        group_ids: Groups.
        user_ids: Candidate creators.

    Returns:
        Project id -> project JSON (list fields plus details-only fields).
    """
    projects: dict[str, JsonDict] = {}
    for group_id in group_ids[::2]:
        project_id = ctx.ids.new()
        word = ctx.rng.choice(NOUNS)
        status = ctx.weighted((("READY", 8), ("NOT_READY", 1), ("ERROR", 1)))
        projects[project_id] = project_body(
            project_id,
            group_id=group_id,
            status=status,
            created_at=fmt(ctx.ago(5, 500), ctx.precision()),
            created_by_id=ctx.rng.choice(user_ids),
            word=word,
            dbt_version=ctx.rng.choice(("1.7.9", "1.8.4", "1.9.1")),
        )
    return projects


#: The error a project in ERROR reports when its git repository cannot be read.
CLONE_ERROR = "Unable to clone the repository"


def project_body(
    project_id: str,
    *,
    group_id: str,
    status: str,
    created_at: str,
    created_by_id: str,
    word: str,
    dbt_version: str,
) -> JsonDict:
    """One transformation project (list fields plus the details-only ones)."""
    return {
        "id": project_id,
        "type": "DBT_GIT",
        "created_at": created_at,
        "created_by_id": created_by_id,
        "group_id": group_id,
        "status": status,
        "errors": [CLONE_ERROR] if status == "ERROR" else [],
        "setup_tests": [
            {
                "title": "Git connection",
                "status": "FAILED" if status == "ERROR" else "PASSED",
                "message": CLONE_ERROR if status == "ERROR" else "",
            }
        ],
        "project_config": {
            "dbt_version": dbt_version,
            "default_schema": f"dbt_{word}",
            "git_remote_url": f"git@github.com:example/{word}-dbt.git",
            "folder_path": "/",
            "git_branch": "main",
            "threads": 4,
            "target_name": "prod",
            "environment_vars": [],
            "public_key": "ssh-rsa AAAAB3NzaC1yc2E fivetran user key",
        },
    }


def build_transformations(
    ctx: GenContext,
    count: int,
    projects: dict[str, JsonDict],
    connections: dict[str, Connection],
    user_ids: list[str],
) -> dict[str, JsonDict]:
    """DBT_CORE transformations (on projects) and QUICKSTART ones (on connections).

    Args:
        ctx: Generator context.
        count: Number of transformations.
        projects: Transformation projects.
        connections: Connections (Quickstart packages attach to matching services).
        user_ids: Candidate creators.

    Returns:
        Transformation id -> transformation JSON.
    """
    packaged = [c.id for c in connections.values() if c.service in cat.QUICKSTART_PACKAGES]
    project_ids = list(projects)
    result: dict[str, JsonDict] = {}
    for index in range(count):
        transformation_id = ctx.ids.new()
        base = _transformation_base(ctx, transformation_id, user_ids)
        if packaged and (index % 2 == 1 or not project_ids):
            connection = connections[ctx.rng.choice(packaged)]
            base.update(_quickstart(connection))
        else:
            base.update(_dbt_core(ctx, ctx.rng.choice(project_ids) if project_ids else None))
        result[transformation_id] = base
    return result


def _transformation_base(ctx: GenContext, transformation_id: str, users: list[str]) -> JsonDict:
    status = ctx.weighted(
        (("SUCCEEDED", 10), ("FAILED", 2), ("RUNNING", 1), ("NEW", 1), ("PARTIALLY_SUCCEEDED", 1))
    )
    started = ctx.ago(0.1, 3)
    return {
        "id": transformation_id,
        "status": status,
        "paused": ctx.rng.random() < 0.1,
        "created_at": fmt(ctx.ago(5, 300), ctx.precision()),
        "created_by_id": ctx.rng.choice(users),
        "last_started_at": None if status == "NEW" else fmt(started),
        "last_ended_at": (
            None
            if status in ("NEW", "RUNNING")
            else fmt(started + ctx.rng.randint(10, 900) * 10**6)
        ),
    }


#: The fields of a transformation ``schedule`` in Fivetran's definition.
SCHEDULE_FIELDS = (
    "schedule_type",
    "cron",
    "interval",
    "days_of_week",
    "time_of_day",
    "connection_ids",
    "transformation_ids",
    "smart_syncing",
)


def _schedule(**values: Any) -> JsonDict:
    """A schedule with every documented field, null where it does not apply."""
    return {name: values.get(name) for name in SCHEDULE_FIELDS}


def _quickstart(connection: Connection) -> JsonDict:
    package = connection.service
    return {
        "type": "QUICKSTART",
        "output_model_names": [f"{package}__overview", f"{package}__daily_metrics"],
        "schedule": _schedule(
            schedule_type="INTEGRATED", connection_ids=[connection.id], smart_syncing=True
        ),
        "transformation_config": {
            "package_name": package,
            "connection_ids": [connection.id],
            "excluded_models": [],
            "upgrade_available": False,
        },
    }


def _dbt_core(ctx: GenContext, project_id: str | None) -> JsonDict:
    word = ctx.rng.choice(NOUNS)
    name = f"{word} models"
    schedule: JsonDict = ctx.rng.choice(
        (
            {"schedule_type": "INTERVAL", "interval": 60, "days_of_week": ["MONDAY", "FRIDAY"]},
            {"schedule_type": "TIME_OF_DAY", "time_of_day": "03:00", "days_of_week": []},
            {"schedule_type": "CRON", "cron": ["0 */6 * * *"]},
        )
    )
    return {
        "type": "DBT_CORE",
        "output_model_names": [f"stg_{word}", f"fct_{word}"],
        "schedule": _schedule(**schedule, smart_syncing=False),
        "transformation_config": {
            "project_id": project_id,
            "name": name,
            "steps": [
                {"name": "run models", "command": "dbt run"},
                {"name": "test models", "command": "dbt test"},
            ],
        },
    }
