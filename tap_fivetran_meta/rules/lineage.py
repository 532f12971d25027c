"""Where a source table lands: Fivetran's destination naming rules, as far as they are known.

The schema config is the authority. Each schema and table in it carries
``name_in_destination`` (required in Fivetran's OpenAPI definition, "following Fivetran
naming conventions"), so almost every row uses it as is (rule ``name_in_destination``)::

    postgres connection "pg_prod", source public.Orders
        -> schema config: public -> "pg_prod_public", Orders -> "orders"
        -> pg_prod_public.orders

The other rules only apply when the config lacks a name, or holds a name that cannot be
a schema. They follow Fivetran's naming documentation ("Destination schema vs
destination schema prefix"):

* ``schema_dot_table``: file and webhook connectors let the user name the schema *and*
  the table, and the connection's ``schema`` field then reads ``"schema.table"``
  (e.g. ``google_sheets`` connection ``gsheets.budget`` -> schema ``gsheets``, table
  ``budget``). Used when the config lacks a name, or when it gives the whole dotted
  connection name as the schema name (GUESS: not seen in Fivetran's examples; a
  schema name cannot contain the dot).
* ``schema_prefix``: database connectors replicate several schemas and name each
  ``<connection schema>_<source schema>`` (``azure_sql_db`` + ``schema1`` ->
  ``azure_sql_db_schema1``). Used when a config with more than one schema lacks the
  schema's name. The source schema is passed through :func:`fivetran_style_name`
  (GUESS: the documented example is already lower case).
* ``connection_schema``: other connectors (SaaS apps, events, functions) replicate one
  schema named after the connection. Used when a single-schema config lacks the
  schema's name (GUESS: a database connection with one schema would really be
  ``<prefix>_<schema>``).
* ``normalized_source_name``: a table without ``name_in_destination`` gets
  :func:`fivetran_style_name` of its source name (GUESS: the rules Fivetran documents
  for the Connector SDK; other connectors and ``SOURCE_NAMING`` differ).

``lineage_rule`` is ``name_in_destination`` when both names came from the config, else
the derived rules joined with ``+`` (schema rule first).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

NAME_IN_DESTINATION = "name_in_destination"
SCHEMA_DOT_TABLE = "schema_dot_table"
SCHEMA_PREFIX = "schema_prefix"
CONNECTION_SCHEMA = "connection_schema"
NORMALIZED_SOURCE_NAME = "normalized_source_name"
UNKNOWN = "unknown"

_NOT_WORD = re.compile(r"[^A-Za-z0-9_]+")
_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_UNDERSCORES = re.compile(r"_+")


@dataclass(frozen=True)
class DestinationName:
    """A table's destination schema and table name, and the rule that gave them."""

    schema: str | None
    table: str | None
    rule: str


def split_schema_table(connection_schema: str | None) -> tuple[str, str] | None:
    """``("gsheets", "budget")`` for a connection named ``"gsheets.budget"``, else None."""
    if not connection_schema or "." not in connection_schema:
        return None
    schema, _, table = connection_schema.partition(".")
    return (schema, table) if schema and table else None


def destination_name(
    *,
    connection_schema: str | None,
    source_schema: str,
    schema_name_in_destination: str | None,
    source_table: str,
    table_name_in_destination: str | None,
    multi_schema: bool,
) -> DestinationName:
    """Destination schema and table of one source table (see the module docstring).

    Args:
        connection_schema: The connection's ``schema`` field (its name in Fivetran).
        source_schema: Source schema name (key of the schema config's map).
        schema_name_in_destination: The schema's ``name_in_destination``, if any.
        source_table: Source table name (key of the tables map).
        table_name_in_destination: The table's ``name_in_destination``, if any.
        multi_schema: Whether the connection's config lists more than one schema.

    Returns:
        The names (None where nothing is known) and the rule.
    """
    split = split_schema_table(connection_schema)
    schema, schema_rule = _schema(
        connection_schema, source_schema, schema_name_in_destination, split, multi_schema
    )
    if table_name_in_destination:
        table, table_rule = table_name_in_destination, NAME_IN_DESTINATION
    elif split:
        table, table_rule = split[1], SCHEMA_DOT_TABLE
    else:
        table, table_rule = fivetran_style_name(source_table), NORMALIZED_SOURCE_NAME
    return DestinationName(schema, table, _rule(schema_rule, table_rule))


def _schema(
    connection_schema: str | None,
    source_schema: str,
    name_in_destination: str | None,
    split: tuple[str, str] | None,
    multi_schema: bool,
) -> tuple[str | None, str]:
    if name_in_destination:
        if split and name_in_destination == connection_schema:
            return split[0], SCHEMA_DOT_TABLE
        return name_in_destination, NAME_IN_DESTINATION
    if split:
        return split[0], SCHEMA_DOT_TABLE
    if not connection_schema:
        return None, UNKNOWN
    if multi_schema:
        return f"{connection_schema}_{fivetran_style_name(source_schema)}", SCHEMA_PREFIX
    return connection_schema, CONNECTION_SCHEMA


def _rule(schema_rule: str, table_rule: str) -> str:
    derived = [r for r in (schema_rule, table_rule) if r != NAME_IN_DESTINATION]
    unique = list(dict.fromkeys(derived))
    return "+".join(unique) if unique else NAME_IN_DESTINATION


def fivetran_style_name(name: str) -> str:
    """Approximate Fivetran naming of a source name (GUESS, see the module docstring).

    Accents and other non-ASCII marks are dropped, camelCase becomes snake_case, every
    run of other characters becomes one underscore, the result is lower case, and a
    leading digit gets an underscore in front: ``"Order Items"`` -> ``"order_items"``,
    ``"OpportunityLineItem"`` -> ``"opportunity_line_item"``, ``"2024 Q1"`` ->
    ``"_2024_q1"``.
    """
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    snake = _CAMEL_BOUNDARY.sub("_", ascii_name)
    cleaned = _UNDERSCORES.sub("_", _NOT_WORD.sub("_", snake)).strip("_").lower()
    if cleaned[:1].isdigit():
        cleaned = f"_{cleaned}"
    return cleaned or "_"


def destination_fqn(database: str | None, schema: str | None, table: str | None) -> str | None:
    """``database.schema.table`` without quotes; ``schema.table`` when no database is known.

    Returns None when the schema or the table is unknown.
    """
    if not schema or not table:
        return None
    return ".".join(part for part in (database, schema, table) if part)


#: Destination config keys that name its database (project, catalog), first match wins.
DATABASE_CONFIG_KEYS = ("database", "project_id", "catalog", "dataset", "database_name")


def destination_config_problem(config: object) -> str | None:
    """Why a destination detail's ``config`` cannot tell its database, or None.

    A config that is not an object, or a database field that is not a string, is
    malformed: reading it as "no database" would wipe the database of every lineage row.
    """
    if not isinstance(config, dict):
        return "'config' is not an object"
    for name in DATABASE_CONFIG_KEYS:
        value = config.get(name)
        if value is not None and not isinstance(value, str):
            return f"config '{name}' is not a string"
    return None


def destination_database(config: dict | None) -> str | None:
    """The destination's database (project, catalog) named in its config, if any."""
    for name in DATABASE_CONFIG_KEYS:
        value = (config or {}).get(name)
        if isinstance(value, str) and value:
            return value
    return None
