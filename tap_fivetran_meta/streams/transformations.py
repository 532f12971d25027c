"""Transformations and transformation projects (plan-gated on some accounts)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from singer_sdk import typing as th

from tap_fivetran_meta.client import FivetranStream
from tap_fivetran_meta.schemas.fragments import DT, OPAQUE, key, prop

if sys.version_info >= (3, 12):
    from typing import override
else:
    from typing_extensions import override

if TYPE_CHECKING:
    from singer_sdk.helpers.types import Context


class TransformationsStream(FivetranStream):
    """Transformations (dbt Core and Quickstart), with their schedule and last run."""

    name = "transformations"
    path = "/transformations"
    primary_keys = ("id",)
    optional_resource = True
    timestamp_fields = ("created_at", "last_started_at", "last_ended_at")
    permission_hint = "TRANSFORMATION at READ"
    schema = th.PropertiesList(
        key("id", "Transformation id."),
        prop("status", th.StringType, "NEW, RUNNING, SUCCEEDED, FAILED, BLOCKED..."),
        prop("type", th.StringType, "DBT_CORE or QUICKSTART."),
        prop("paused", th.BooleanType, "Whether the schedule is paused."),
        prop("created_at", DT, "When it was created (UTC)."),
        prop("created_by_id", th.StringType, "User who created it."),
        prop("last_started_at", DT, "Start of the last run (UTC)."),
        prop("last_ended_at", DT, "End of the last run (UTC)."),
        prop("output_model_names", th.ArrayType(th.StringType), "Models it builds."),
        prop("schedule", OPAQUE, "Schedule: type, cron, interval, connection_ids..."),
        prop("transformation_config", OPAQUE, "Project/steps or package settings."),
        prop(
            "connection_ids",
            th.ArrayType(th.StringType),
            "Connections that trigger or feed it (schedule and config, de-duplicated).",
        ),
    ).to_dict()

    @override
    def post_process(self, row: dict[str, Any], context: Context | None = None) -> dict | None:
        row["connection_ids"] = transformation_connection_ids(row)
        return super().post_process(row, context)


def transformation_connection_ids(row: dict[str, Any]) -> list[str]:
    """Connection ids named by a transformation's schedule and config, sorted, unique."""
    ids: set[str] = set()
    for part in ("schedule", "transformation_config"):
        section = row.get(part)
        if isinstance(section, dict):
            ids.update(i for i in section.get("connection_ids") or () if isinstance(i, str))
    return sorted(ids)


class TransformationProjectsStream(FivetranStream):
    """Transformation projects (the dbt repositories behind dbt Core transformations)."""

    name = "transformation_projects"
    path = "/transformation-projects"
    primary_keys = ("id",)
    optional_resource = True
    timestamp_fields = ("created_at",)
    schema = th.PropertiesList(
        key("id", "Project id."),
        prop("type", th.StringType, "Project type, e.g. DBT_GIT."),
        prop("group_id", th.StringType, "Group (destination) it runs in."),
        prop("created_at", DT, "When it was created (UTC)."),
        prop("created_by_id", th.StringType, "User who created it."),
    ).to_dict()

    @override
    def post_process(self, row: dict[str, Any], context: Context | None = None) -> dict | None:
        if not self._tap.filters.accepts_group(row.get("group_id")):
            return None
        return super().post_process(row, context)
