"""The demo's HTML report: well-formed, self-contained, and each chart holds its data."""

from __future__ import annotations

import re
import sys
import xml.etree.ElementTree as ET
from datetime import date, datetime
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

from report_html import ReportData, duration_bins, render

SVG = "{http://www.w3.org/2000/svg}"
D1, D2, D3 = date(2026, 11, 28), date(2026, 11, 29), date(2026, 11, 30)


def sample() -> ReportData:
    return ReportData(
        health_counts=[("healthy", 5), ("broken", 2), ("stale", 1)],
        daily_health=[("c1", D3, "broken"), ("c2", D3, "healthy")],
        daily_syncs=[
            ("c1", D1, 4, 1, 0, 0, 0),
            ("c1", D2, 0, 3, 1, 0, 0),
            ("c2", D1, 2, 0, 0, 2, 0),
            ("c3", D2, 0, 0, 0, 0, 1),
        ],
        connections=[
            ("c1", "crm <prod>", "broken"),
            ("c2", "shop", "healthy"),
            ("c3", "ads", "stale"),
        ],
        durations=[30, 59, 61, 150, 700, 4000],
        sources=[
            ("crm.contact", "c1", "broken", True, datetime(2026, 11, 29, 5), True),
            ("shop.orders", "c2", "healthy", False, datetime(2026, 11, 30, 5), True),
            ("files.budget", None, None, False, None, False),
        ],
        changes=[(datetime(2026, 11, 30, 6), "c2", "disabled", "public.orders")],
        generated_from="2026-11-30 06:00:00",
    )


@pytest.fixture(scope="module")
def page() -> ET.Element:
    html = render(sample())
    assert html.startswith("<!DOCTYPE html>\n")
    return ET.fromstring(html.split("\n", 1)[1])  # noqa: S314 - our own output; raises if malformed


def chart(page: ET.Element, chart_id: str) -> ET.Element:
    found = [e for e in page.iter(f"{SVG}svg") if e.get("id") == chart_id]
    assert len(found) == 1, chart_id
    return found[0]


def rects(svg: ET.Element, attribute: str) -> list[ET.Element]:
    return [r for r in svg.iter(f"{SVG}rect") if r.get(attribute) is not None]


def test_nothing_is_fetched_from_anywhere() -> None:
    html = render(sample())
    assert not re.search(r"""(src|href)\s*=|url\(|@import|<script""", html, re.IGNORECASE)
    # The only URLs are the XML namespaces.
    urls = set(re.findall(r"https?://[^\s\"']+", html))
    assert urls == {"http://www.w3.org/1999/xhtml", "http://www.w3.org/2000/svg"}


def test_connections_by_health(page: ET.Element) -> None:
    bars = rects(chart(page, "chart-health"), "data-health")
    assert [(b.get("data-health"), int(b.get("data-count", "0"))) for b in bars] == [
        ("healthy", 5),
        ("broken", 2),
        ("stale", 1),
    ]
    widths = [float(b.get("width", "0")) for b in bars]
    assert widths == sorted(widths, reverse=True)


def test_timeline_has_a_cell_per_connection_and_day(page: ET.Element) -> None:
    cells = {
        (r.get("data-connection"), r.get("data-day")): (r.get("data-health"), r.get("data-source"))
        for r in rects(chart(page, "chart-timeline"), "data-connection")
    }
    assert len(cells) == 3 * 3
    assert cells[("c1", D3.isoformat())] == ("broken", "observed")
    assert cells[("c1", D1.isoformat())] == ("failing", "syncs")  # a failed sync that day
    assert cells[("c2", D1.isoformat())] == ("rescheduled", "syncs")
    assert cells[("c3", D2.isoformat())] == ("syncing", "syncs")
    assert cells[("c3", D1.isoformat())] == ("none", "none")


def test_failures_per_day(page: ET.Element) -> None:
    found = {
        (r.get("data-day"), r.get("data-kind")): int(r.get("data-count", "0"))
        for r in rects(chart(page, "chart-failures"), "data-day")
    }
    assert found[(D1.isoformat(), "failed")] == 1
    assert found[(D2.isoformat(), "failed")] == 3
    assert found[(D2.isoformat(), "canceled")] == 1
    assert found[(D1.isoformat(), "rescheduled")] == 2


def test_duration_distribution(page: ET.Element) -> None:
    bins = {
        r.get("data-bin"): int(r.get("data-count", "0"))
        for r in rects(chart(page, "chart-durations"), "data-bin")
    }
    assert bins == dict(duration_bins(sample().durations))
    assert bins["0-1 min"] == 2
    assert bins["1-2 min"] == 1
    assert bins["2-5 min"] == 1
    assert bins["60+ min"] == 1
    assert sum(bins.values()) == 6


def test_sources_at_risk(page: ET.Element) -> None:
    kinds = {
        r.get("data-kind"): int(r.get("data-count", "0"))
        for r in rects(chart(page, "chart-sources"), "data-kind")
    }
    assert kinds == {"at_risk": 1, "ok": 1, "not_fed": 1}
    listed = [
        e
        for e in page.iter("{http://www.w3.org/1999/xhtml}table")
        if e.get("id") == "table-sources"
    ]
    assert "crm.contact" in ET.tostring(listed[0], encoding="unicode")


def test_text_is_escaped() -> None:
    assert "crm &lt;prod&gt;" in render(sample())
