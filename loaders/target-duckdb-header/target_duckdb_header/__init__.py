r"""target-duckdb 0.8.0, with its CSV ``COPY`` made to say ``header false``.

target-duckdb writes each batch to a CSV file without a header line and loads it with
``COPY <table> FROM '<file>' WITH (new_line '\\r\\n')``. From duckdb 1.1 on, ``COPY``
guesses whether the first line is a header when not told; on a batch whose values all
look like text it guesses yes and the first row is silently lost (a one-row ``account``
table arrives empty). Upstream fixed this by passing the header option; no release has
the fix. This wrapper runs the released target unchanged, except that every statement
it sends goes through :class:`HeaderlessCopy`, which adds ``header false`` to that one
``COPY``. Any other ``COPY`` shape stops the load (a newer target-duckdb must be
checked again) instead of risking a silent loss.
"""

from __future__ import annotations

import re
from typing import Any

_COPY = re.compile(r"^\s*COPY\s+\S+\s+FROM\s+'[^']*'\s+WITH\s*\(", re.IGNORECASE)
_STARTS_WITH_COPY = re.compile(r"^\s*COPY\b", re.IGNORECASE)
_HAS_HEADER = re.compile(r"\bheader\b", re.IGNORECASE)


class UnexpectedCopyError(RuntimeError):
    """target-duckdb sent a COPY this wrapper does not know how to fix."""


def with_header_false(query: str) -> str:
    """The statement with ``header false`` added when it is target-duckdb's CSV COPY."""
    if not _STARTS_WITH_COPY.match(query):
        return query
    if _HAS_HEADER.search(query):
        return query
    match = _COPY.match(query)
    if match is None:
        msg = f"unexpected COPY statement from target-duckdb, not loading it: {query[:200]}"
        raise UnexpectedCopyError(msg)
    return f"{query[: match.end()]}header false, {query[match.end() :]}"


class HeaderlessCopy:
    """A duckdb connection whose ``execute`` fixes target-duckdb's COPY statement."""

    def __init__(self, connection: Any) -> None:
        self._connection = connection

    def execute(self, query: Any, *args: Any, **kwargs: Any) -> Any:
        """Run a statement (COPY statements get ``header false``)."""
        if isinstance(query, str):
            query = with_header_false(query)
        return self._connection.execute(query, *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._connection, name)


def main() -> None:
    """Run target-duckdb's own entry point with the fixed connection."""
    import target_duckdb  # noqa: PLC0415 - only the installed loader has it

    connect = target_duckdb.duckdb_connect

    def connect_fixed(config: dict[str, Any]) -> HeaderlessCopy:
        return HeaderlessCopy(connect(config))

    target_duckdb.duckdb_connect = connect_fixed
    target_duckdb.main()
