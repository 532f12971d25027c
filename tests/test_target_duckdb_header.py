"""The target-duckdb wrapper adds `header false` to exactly the COPY it must fix."""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "loaders" / "target-duckdb-header"))

from target_duckdb_header import HeaderlessCopy, UnexpectedCopyError, with_header_false

TARGET_COPY = "COPY accounts_temp FROM '/tmp/x/accounts_temp.csv' WITH (new_line '\\r\\n')"


def test_the_target_copy_gets_header_false() -> None:
    fixed = with_header_false(TARGET_COPY)
    assert (
        fixed
        == "COPY accounts_temp FROM '/tmp/x/accounts_temp.csv' WITH (header false, new_line '\\r\\n')"
    )


@pytest.mark.parametrize(
    "query",
    [
        "INSERT INTO t SELECT * FROM s",
        "create table copy_of_it (a int)",
        "COPY t FROM 'f.csv' WITH (HEADER true)",
    ],
)
def test_other_statements_pass_unchanged(query: str) -> None:
    assert with_header_false(query) == query


def test_an_unknown_copy_shape_stops_the_load() -> None:
    with pytest.raises(UnexpectedCopyError, match="unexpected COPY"):
        with_header_false("COPY t FROM 'f.csv'")


def test_a_text_only_first_row_survives_the_copy(tmp_path: Path) -> None:
    """What went wrong with duckdb >= 1.1: a batch of text values lost its first row."""
    csv = tmp_path / "batch.csv"
    csv.write_text("acc_1,Our account,user_9,,user\r\n", newline="")
    con = HeaderlessCopy(duckdb.connect())
    con.execute("create table t (a varchar, b varchar, c varchar, d varchar, e varchar)")
    con.execute(f"COPY t FROM '{csv}' WITH (new_line '\\r\\n')")
    assert con.execute("select count(*) from t").fetchone() == (1,)
