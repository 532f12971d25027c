"""Reusable ``th`` schema fragments (Fivetran repeats these shapes across endpoints)."""

from __future__ import annotations

from singer_sdk import typing as th

DT = th.DateTimeType


def prop(
    name: str, kind: th.JSONTypeHelper | type[th.JSONTypeHelper], description: str
) -> th.Property:
    """A nullable property with a description (every column documents itself)."""
    return th.Property(name, kind, description=description)


def key(name: str, description: str) -> th.Property:
    """A required string key column."""
    return th.Property(name, th.StringType, required=True, description=description)


OPAQUE = th.ObjectType()  # free-form JSON object, stored as jsonb by target-postgres

CODE_MESSAGE = th.ObjectType(
    prop("code", th.StringType, "Machine-readable code, e.g. 'reconnect'."),
    prop("message", th.StringType, "Human-readable text."),
    prop("details", th.CustomType({"type": ["object", "string", "null"]}), "Extra details."),
)

SETUP_TEST = th.ObjectType(
    prop("title", th.StringType, "Name of the setup test."),
    prop("status", th.StringType, "PASSED, SKIPPED, WARNING, FAILED or JOB_FAILED."),
    prop("message", th.StringType, "Message of the test, if any."),
    prop("details", th.CustomType({"type": ["object", "string", "null"]}), "Extra details."),
)

#: Columns a child of ``connections`` copies from its parent connection.
CONNECTION_COLUMNS = (
    prop("group_id", th.StringType, "Group (and destination) of the connection."),
    prop("service", th.StringType, "Connector type of the connection, e.g. 'postgres'."),
)

MEMBERSHIP_FIELDS = (
    prop("role", th.StringType, "Role granted by the membership, e.g. 'Destination Analyst'."),
    prop("created_at", DT, "When the membership was created (UTC)."),
)
