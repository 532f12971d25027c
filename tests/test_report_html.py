"""The demo's HTML report: well-formed, self-contained, and each chart holds its data."""

from __future__ import annotations

import re
import sys
import xml.etree.ElementTree as ET
from datetime import date, datetime, timedelta
from itertools import pairwise
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

from report_html import HEALTH_COLORS, ReportData, duration_bins, render

SVG = "{http://www.w3.org/2000/svg}"
D1, D2, D3 = date(2026, 11, 28), date(2026, 11, 29), date(2026, 11, 30)


def sample() -> ReportData:
    return ReportData(
        health_counts=[("healthy", 5), ("broken", 2), ("stale", 1)],
        daily_health=[
            ("c1", D2, "broken", 23.8),  # broken most of the day, healthy at its end
            ("c1", D3, "healthy", 20.0),
            ("c2", D3, "healthy", 24.0),
            ("c2", D2, None, 0.0),  # no observation covers it
        ],
        daily_syncs=[
            ("c1", D1, 4, 1, 0, 0, 0, 0),
            ("c1", D2, 0, 3, 1, 0, 1, 0),
            ("c2", D1, 2, 0, 0, 2, 0, 0),
        ],
        connections=[
            ("c1", "warehouse / crm <prod>", "broken"),
            ("c2", "warehouse / shop", "healthy"),
            ("c3", "lake / shop", "stale"),
        ],
        durations=[30, 59, 61, 150, 700, 4000],
        sources=[
            ("crm.contact", "c1", "broken", True, datetime(2026, 11, 29, 5), True),
            ("shop.orders", "c2", "healthy", False, datetime(2026, 11, 30, 5), True),
            ("files.budget", None, None, False, None, False),
        ],
        changes=[(datetime(2026, 11, 30, 6), "c2", "disabled", "public.orders")],
        attention=[
            (f"lake / conn{n:02d}", "broken", datetime(2026, 11, 30, n), 0.5) for n in range(20)
        ],
        deleted=[("warehouse / old", datetime(2026, 11, 29, 1))],
        stuck=[("warehouse / erp", datetime(2026, 11, 29, 14), 600, 5.0)],
        uptime=[("warehouse / crm <prod>", 0.38, 0.6, 120.0)],
        issues=[("warehouse / crm <prod>", "task", "reconnect", D2, "Reconnect: password")],
        project_errors=[("p_err", "ERROR", "Unable to clone the repository")],
        generated_from="2026-11-30 06:00:00",
    )


def many_days(days: int) -> ReportData:
    """A report over ``days`` days (for the scaling checks and the screenshots)."""
    data = sample()
    first = D3 - timedelta(days=days - 1)
    healths = list(HEALTH_COLORS)
    data.daily_health = [
        (f"c{c}", first + timedelta(days=n), healths[(c + n) % len(healths)], 12.0)
        for c in range(1, 4)
        for n in range(days)
        if n % 7 != 3
    ]
    data.daily_syncs = [
        ("c1", first + timedelta(days=n), 20, n % 4, n % 2, n % 3, n % 5 == 0, 0)
        for n in range(days)
    ]
    return data


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


def test_timeline_colours_each_day_by_its_main_health(page: ET.Element) -> None:
    cells = {
        (r.get("data-connection"), r.get("data-day")): r
        for r in rects(chart(page, "chart-timeline"), "data-connection")
    }
    assert len(cells) == 3 * 3
    broken_day = cells[("c1", D2.isoformat())]
    assert broken_day.get("data-health") == "broken"  # main health, not the day's last
    assert broken_day.get("fill") == HEALTH_COLORS["broken"]
    # Unobserved: its own look, whatever the day's syncs say.
    for key in (("c2", D2.isoformat()), ("c1", D1.isoformat()), ("c3", D1.isoformat())):
        assert cells[key].get("data-health") == "unobserved"
        assert cells[key].get("fill") not in HEALTH_COLORS.values()


def test_one_colour_per_health() -> None:
    assert len(set(HEALTH_COLORS.values())) == len(HEALTH_COLORS)
    assert "deleted" in HEALTH_COLORS


def test_failures_are_a_rate_with_every_outcome_apart(page: ET.Element) -> None:
    svg = chart(page, "chart-failures")
    found = {
        (r.get("data-day"), r.get("data-kind")): int(r.get("data-count", "0"))
        for r in rects(svg, "data-day")
    }
    assert found[(D1.isoformat(), "failed")] == 1
    assert found[(D2.isoformat(), "failed")] == 3
    assert found[(D2.isoformat(), "canceled")] == 1
    assert found[(D2.isoformat(), "truncated")] == 1
    assert found[(D1.isoformat(), "rescheduled")] == 2
    rates = {t.get("data-rate") for t in svg.iter(f"{SVG}text") if t.get("data-rate")}
    assert rates == {str(round(1 / 9, 4)), str(round(3 / 5, 4))}


@pytest.mark.parametrize("days", [14, 30, 90])
def test_days_scale_without_overlapping_labels(days: int) -> None:
    html = render(many_days(days))
    root = ET.fromstring(html.split("\n", 1)[1])  # noqa: S314 - our own output
    for chart_id in ("chart-timeline", "chart-failures"):
        svg = chart(root, chart_id)
        assert int(svg.get("width", "0")) <= 1200, chart_id
        day_rects = {r.get("data-day") for r in rects(svg, "data-day")}
        assert len(day_rects) == days
        labels = sorted(
            float(t.get("x", "0"))
            for t in svg.iter(f"{SVG}text")
            if t.text and t.text[:3] in {"Nov", "Oct", "Sep", "Aug"}
        )
        assert labels
        assert all(b - a >= 40 for a, b in pairwise(labels)), chart_id


def test_lists_say_how_many_more(page: ET.Element) -> None:
    more = [e for e in page.iter("{http://www.w3.org/1999/xhtml}p") if e.get("data-more")]
    assert [e.get("data-more") for e in more] == ["5"]
    html = render(sample())
    for shown in ("warehouse / old", "Unable to clone the repository", "Reconnect: password"):
        assert shown in html
    assert "38.0%" in html


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
