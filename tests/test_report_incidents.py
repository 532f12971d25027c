"""The report's incidents section: open incidents first with cause and downstream impact,
incidents and MTTR per service as a chart (scripts/report_html.py)."""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

from report_html import ReportData, render

SVG = "{http://www.w3.org/2000/svg}"
XHTML = "{http://www.w3.org/1999/xhtml}"


def data() -> ReportData:
    return ReportData(
        health_counts=[("healthy", 1), ("broken", 1), ("deleted", 1)],
        daily_health=[],
        daily_syncs=[],
        connections=[],
        durations=[],
        sources=[],
        incidents=[
            (
                "wh / shop",
                "broken",
                datetime(2026, 12, 4, 8, 10),
                None,
                True,
                3000,
                "grant_permissions",
                "Grant SELECT on schema shop",
                1,
                "orders_daily (model), revenue_dashboard (exposure)",
            ),
            (
                "lake / crm",
                "deleted",
                datetime(2026, 12, 7, 0, 20),
                None,
                True,
                90,
                None,
                None,
                2,
                None,
            ),
            (
                "wh / billing <eu>",
                "broken",
                datetime(2026, 12, 5, 8, 7),
                datetime(2026, 12, 6, 23, 20),
                False,
                2353,
                "reconnect",
                "Reconnect: the password changed",
                0,
                None,
            ),
        ],
        reliability=[("postgres", 3, 3, 2353.0), ("google_analytics", 1, 0, None)],
        generated_from="2026-12-07 00:40:00",
    )


def page() -> ET.Element:
    return ET.fromstring(render(data()).split("\n", 1)[1])  # noqa: S314 - our own output


def section(root: ET.Element, title: str) -> ET.Element:
    for s in root.iter(f"{XHTML}section"):
        h2 = s.find(f"{XHTML}h2")
        if h2 is not None and h2.text == title:
            return s
    raise AssertionError(f"no section {title!r}")


def test_incidents_table_lists_open_ones_first_with_cause_and_impact() -> None:
    root = page()
    table = section(root, "Incidents (open first)").find(f".//{XHTML}table")
    assert table is not None
    assert table.get("id") == "table-incidents"
    rows = [[td.text or "" for td in tr] for tr in table.iter(f"{XHTML}tr")][1:]
    assert [(r[0], r[1]) for r in rows] == [
        ("wh / shop", "open"),
        ("lake / crm", "open"),
        ("wh / billing <eu>", "closed"),
    ]
    shop = rows[0]
    assert shop[6] == "grant_permissions"
    assert shop[7] == "Grant SELECT on schema shop"
    assert shop[8] == "1 dbt source; downstream: orders_daily (model), revenue_dashboard (exposure)"
    assert rows[1][8] == "2 dbt sources"  # deleted: nothing downstream, two sources fed
    assert rows[2][8] == ""
    assert shop[5] == "2d 2h"  # 3000 minutes
    assert (rows[2][4], rows[2][5]) == ("2026-12-06 23:20:00", "1d 15h")
    # The incidents come right after the connections that need attention.
    titles = [h.text for h in root.iter(f"{XHTML}h2")]
    assert (
        titles.index("Incidents (open first)")
        == titles.index("Connections that need attention (latest breakage first)") + 1
    )


def test_incidents_and_mttr_per_service_chart() -> None:
    svg = [e for e in page().iter(f"{SVG}svg") if e.get("id") == "chart-reliability"]
    assert len(svg) == 1
    bars = {
        (r.get("data-service"), r.get("data-kind")): r
        for r in svg[0].iter(f"{SVG}rect")
        if r.get("data-service")
    }
    assert bars[("postgres", "incidents_30d")].get("data-value") == "3"
    assert bars[("postgres", "mttr_minutes")].get("data-value") == "2353.0"
    assert bars[("google_analytics", "incidents_30d")].get("width") == "0.0"
    assert bars[("google_analytics", "mttr_minutes")].get("data-value") == ""
    widest = max(float(r.get("width", "0")) for r in bars.values())
    assert float(bars[("postgres", "mttr_minutes")].get("width", "0")) == widest
    texts = [t.text for t in svg[0].iter(f"{SVG}text")]
    assert "1d 15h" in texts  # MTTR told in words
    assert "-" in texts  # no closed incident: no MTTR


def test_without_incidents_the_section_says_none() -> None:
    empty = data()
    empty.incidents, empty.reliability = [], []
    root = ET.fromstring(render(empty).split("\n", 1)[1])  # noqa: S314
    p = section(root, "Incidents (open first)").find(f"{XHTML}p")
    assert p is not None
    assert (p.get("id"), p.text) == ("table-incidents", "none")
