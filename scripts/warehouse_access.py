"""Read the report's tables from any warehouse: a DuckDB file or a SQLAlchemy URL.

    open_warehouse("output/warehouse.duckdb")                       DuckDB (read-only)
    open_warehouse("postgresql+psycopg://user:pw@host:5432/warehouse")
    open_warehouse("snowflake://user:pw@account/ANALYTICS")          needs snowflake-sqlalchemy
    open_warehouse("bigquery://project")                             needs sqlalchemy-bigquery
    open_warehouse("redshift+redshift_connector://...")              needs sqlalchemy-redshift
    open_warehouse("databricks://token:...@host?http_path=...")      needs databricks-sqlalchemy

The URL may also come from the environment (``FIVETRAN_META_REPORT_URL``), so that no
password is typed on a command line. Every warehouse answers through the same small
interface (``execute(sql)`` with ``description``/``fetchall``/``fetchone``, and
``tables(schema)``); numbers come back as int or float whatever the driver returns
(Decimal on PostgreSQL and Snowflake), so the report computes the same everywhere.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

import duckdb
import sqlalchemy

URL_ENV = "FIVETRAN_META_REPORT_URL"


class Result(Protocol):
    """What ``Warehouse.execute`` returns (DuckDB's own result has the same shape)."""

    description: Any

    def fetchall(self) -> list[tuple[Any, ...]]: ...

    def fetchone(self) -> tuple[Any, ...] | None: ...


class Warehouse(Protocol):
    """A read-only connection to the tap's tables and the models."""

    def execute(self, sql: str) -> Result: ...

    def tables(self, schema: str) -> list[str]: ...

    def relation(self, schema: str, name: str) -> str: ...

    def close(self) -> None: ...


class WarehouseError(Exception):
    """The warehouse cannot be opened: one line saying which setting to fix."""


def open_warehouse(target: str) -> Warehouse:
    """A DuckDB file path, or a SQLAlchemy URL (``dialect+driver://...``)."""
    if "://" in target:
        return SqlAlchemyWarehouse(target)
    if not Path(target).is_file():
        raise WarehouseError(
            f"report: no DuckDB file at {target!r}; give the warehouse file, or a SQLAlchemy "
            f"URL (argument or {URL_ENV})"
        )
    return DuckDBWarehouse(target)


def _plain(value: Any) -> Any:
    # A DECIMAL with no scale (PostgreSQL's sum of integers) is an int; others floats.
    if isinstance(value, Decimal):
        exponent = value.as_tuple().exponent
        return int(value) if isinstance(exponent, int) and exponent >= 0 else float(value)
    return value


class _Rows:
    def __init__(self, names: list[str], rows: list[tuple[Any, ...]]) -> None:
        self.description = [(name,) for name in names]
        self._rows = [tuple(_plain(v) for v in row) for row in rows]

    def fetchall(self) -> list[tuple[Any, ...]]:
        rows, self._rows = self._rows, []
        return rows

    def fetchone(self) -> tuple[Any, ...] | None:
        return self._rows.pop(0) if self._rows else None


class DuckDBWarehouse:
    """The demo's warehouse file."""

    def __init__(self, path: str) -> None:
        self._con = duckdb.connect(path, read_only=True)

    def execute(self, sql: str) -> Result:
        result = self._con.execute(sql)
        return _Rows([d[0] for d in result.description], result.fetchall())

    def tables(self, schema: str) -> list[str]:
        rows = self._con.execute(
            "select table_name from information_schema.tables where table_schema = ?", [schema]
        ).fetchall()
        return sorted(r[0] for r in rows)

    def relation(self, schema: str, name: str) -> str:
        return f'{schema}."{name}"'

    def close(self) -> None:
        self._con.close()


class SqlAlchemyWarehouse:
    """Any warehouse SQLAlchemy has a dialect for (installed separately but PostgreSQL's)."""

    def __init__(self, url: str) -> None:
        try:
            self._engine = sqlalchemy.create_engine(url)
            self._con = self._engine.connect()
        except (sqlalchemy.exc.NoSuchModuleError, ModuleNotFoundError) as error:
            scheme = url.split("://", 1)[0]
            raise WarehouseError(
                f"report: no SQLAlchemy dialect for {scheme!r} here ({error.__class__.__name__}); "
                "install the warehouse's SQLAlchemy package into this Python"
            ) from None
        except sqlalchemy.exc.SQLAlchemyError as error:
            message = str(error.orig if getattr(error, "orig", None) else error).splitlines()[0]
            raise WarehouseError(
                f"report: cannot connect to the warehouse URL: {message}"
            ) from None

    def execute(self, sql: str) -> Result:
        result = self._con.exec_driver_sql(sql)
        return _Rows(list(result.keys()), [tuple(r) for r in result.fetchall()])

    def tables(self, schema: str) -> list[str]:
        names = sqlalchemy.inspect(self._con).get_table_names(schema=schema)
        return sorted(names)

    def relation(self, schema: str, name: str) -> str:
        quote = self._engine.dialect.identifier_preparer.quote
        return f"{quote(schema)}.{quote(name)}"

    def close(self) -> None:
        self._con.close()
        self._engine.dispose()
