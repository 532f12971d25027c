"""Transformations and transformation projects (plan-gated on some accounts)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from singer_sdk import typing as th

from tap_fivetran_meta.client import FivetranStream
from tap_fivetran_meta.rules import redact
from tap_fivetran_meta.schemas.fragments import DT, OPAQUE, SETUP_TEST, key, prop

if sys.version_info >= (3, 12):
    from typing import override
else:
    from typing_extensions import override

if TYPE_CHECKING:
    from collections.abc import Iterable

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
        prop(
            "project_id",
            th.StringType,
            "transformation_config.project_id: its transformation project (DBT_CORE).",
        ),
        prop(
            "schedule_type",
            th.StringType,
            "schedule.schedule_type: INTEGRATED, TIME_OF_DAY, INTERVAL or CRON.",
        ),
        prop("connection_count", th.IntegerType, "Number of connection_ids."),
    ).to_dict()

    @override
    def post_process(self, row: dict[str, Any], context: Context | None = None) -> dict | None:
        row["connection_ids"] = transformation_connection_ids(row)
        row.update(transformation_scalars(row))
        redact.scrub_record(row, config_fields=("transformation_config",))
        return super().post_process(row, context)


def transformation_scalars(row: dict[str, Any]) -> dict[str, Any]:
    """``project_id``, ``schedule_type`` and ``connection_count`` (so no model reads JSON)."""
    config = row.get("transformation_config")
    schedule = row.get("schedule")
    project_id = config.get("project_id") if isinstance(config, dict) else None
    schedule_type = schedule.get("schedule_type") if isinstance(schedule, dict) else None
    return {
        "project_id": project_id if isinstance(project_id, str) else None,
        "schedule_type": schedule_type if isinstance(schedule_type, str) else None,
        "connection_count": len(row.get("connection_ids") or ()),
    }


def transformation_connection_ids(row: dict[str, Any]) -> list[str]:
    """Connection ids named by a transformation's schedule and config, sorted, unique."""
    ids: set[str] = set()
    for part in ("schedule", "transformation_config"):
        section = row.get(part)
        if isinstance(section, dict):
            ids.update(i for i in section.get("connection_ids") or () if isinstance(i, str))
    return sorted(ids)


class TransformationProjectsStream(FivetranStream):
    """Transformation projects (dbt repositories) with their health from the detail call.

    The list (``GET /transformation-projects``) lacks ``status``, ``errors`` and
    ``setup_tests``: each project costs one ``GET /transformation-projects/{id}``,
    fetched ahead on the worker pool. A project deleted in between is skipped.
    """

    name = "transformation_projects"
    path = "/transformation-projects"
    primary_keys = ("id",)
    optional_resource = True
    timestamp_fields = ("created_at",)
    schema = th.PropertiesList(
        key("id", "Project id."),
        prop("type", th.StringType, "Project type as on the wire: DBT_GIT."),
        prop("group_id", th.StringType, "Group (destination) it runs in."),
        prop("created_at", DT, "When it was created (UTC)."),
        prop("created_by_id", th.StringType, "User who created it."),
        prop("status", th.StringType, "NOT_READY, READY or ERROR (from the detail call)."),
        prop("errors", th.ArrayType(th.StringType), "Errors of the project setup, if any."),
        prop("error_count", th.IntegerType, "Number of errors."),
        prop("errors_text", th.StringType, "The errors joined with ' | '; null when none."),
        prop("setup_tests", th.ArrayType(SETUP_TEST), "Latest setup test results."),
        prop(
            "project_config",
            OPAQUE,
            "dbt version, git remote/branch, folder, target, threads (no environment "
            "variables, keys or secrets).",
        ),
    ).to_dict()

    @override
    def get_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        accepts = self.services.filters.accepts_group
        listed = (i for i in self.request_records(context) if accepts(i.get("group_id")))
        for item, detail in self.with_details(listed, _project_path, context):
            row = None if detail is None else self.checked_item({**item, **detail})
            if row is not None:
                yield row

    @override
    def post_process(self, row: dict[str, Any], context: Context | None = None) -> dict | None:
        row["project_config"] = row.get("project_config")
        redact.scrub_record(
            row,
            config_fields=("project_config",),
            message_lists=("setup_tests",),
            text_lists=("errors",),
        )
        row.update(project_error_columns(row.get("errors")))
        return super().post_process(row, context)


#: What ``errors_text`` joins a project's errors with.
ERRORS_SEPARATOR = " | "


def project_error_columns(errors: Any) -> dict[str, Any]:
    """``error_count`` and ``errors_text`` of a project's (scrubbed) ``errors`` list."""
    texts = [e for e in errors if isinstance(e, str)] if isinstance(errors, list) else []
    return {
        "error_count": len(texts),
        "errors_text": ERRORS_SEPARATOR.join(texts) if texts else None,
    }


def _project_path(item: dict[str, Any]) -> str:
    return f"/transformation-projects/{quote(str(item['id']), safe='')}"
