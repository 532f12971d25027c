"""The demo's HTML report: one self-contained file, charts drawn as inline SVG.

No script, no stylesheet or font from elsewhere, nothing fetched: it opens offline. The
markup is well-formed XML (XHTML syntax) so tests can parse it, and every bar, cell and
slice carries ``data-*`` attributes with the numbers it stands for.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from html import escape
from itertools import pairwise
from typing import Any

HEALTH_COLORS = {
    "healthy": "#1e8e3e",
    "syncing": "#12b5cb",
    "historical_sync": "#4285f4",
    "first_sync": "#8ab4f8",
    "rescheduled": "#f9ab00",
    "delayed": "#fbbc04",
    "stale": "#b06000",
    "failing": "#e8710a",
    "broken": "#d93025",
    "blocked": "#a50e0e",
    "incomplete": "#c58af9",
    "paused": "#9aa0a6",
}
NO_DATA = "#eceff1"
#: Duration histogram bins, in minutes (the last one is open-ended).
DURATION_BINS = (0, 1, 2, 5, 10, 20, 30, 45, 60)


@dataclass
class ReportData:
    """What the report draws (rows as read from the models)."""

    health_counts: list[tuple[str, int]]
    #: (connection_id, day, last_health) from connection_daily_health.
    daily_health: list[tuple[str, date, str]]
    #: (connection_id, day, succeeded, failed, canceled, rescheduled, running).
    daily_syncs: list[tuple[str, date, int, int, int, int, int]]
    #: (connection_id, name, current health).
    connections: list[tuple[str, str, str]]
    durations: list[float]
    #: (dbt source, connection_id, health, is_at_risk, last_success_at, is_fed_by_fivetran).
    sources: list[tuple[str, str | None, str | None, bool, Any, bool]]
    #: (observed_at, connection_id, change_type, object).
    changes: list[tuple[Any, str, str, str]] = field(default_factory=list)
    generated_from: str = ""


def _attrs(**values: Any) -> str:
    return " ".join(f'{k.replace("_", "-")}="{escape(str(v))}"' for k, v in values.items())


def _rect(**values: Any) -> str:
    return f"<rect {_attrs(**values)}/>"


def _text(x: float, y: float, body: str, **extra: Any) -> str:
    return f"<text {_attrs(x=round(x, 1), y=round(y, 1), **extra)}>{escape(body)}</text>"


def _svg(chart_id: str, width: int, height: int, parts: list[str], title: str) -> str:
    head = _attrs(
        id=chart_id,
        xmlns="http://www.w3.org/2000/svg",
        width=width,
        height=height,
        viewBox=f"0 0 {width} {height}",
        role="img",
    )
    return f"<svg {head}><title>{escape(title)}</title>{''.join(parts)}</svg>"


def health_chart(data: ReportData) -> str:
    """Connections by health: one horizontal bar per health value."""
    rows = data.health_counts
    top = max((count for _, count in rows), default=1)
    width, bar_area, line = 640, 420, 26
    parts = []
    for i, (health, count) in enumerate(rows):
        y = 10 + i * line
        length = max(2.0, bar_area * count / top)
        parts.append(_text(130, y + 15, health, text_anchor="end", font_size=13))
        parts.append(
            _rect(
                x=140,
                y=y,
                width=round(length, 1),
                height=18,
                fill=HEALTH_COLORS.get(health, "#888"),
                data_health=health,
                data_count=count,
            )
        )
        parts.append(_text(146 + length, y + 14, str(count), font_size=12))
    return _svg("chart-health", width, 20 + line * len(rows), parts, "Connections by health")


def _days(data: ReportData) -> list[date]:
    seen = {d for _, d, _ in data.daily_health} | {row[1] for row in data.daily_syncs}
    if not seen:
        return []
    first, last = min(seen), max(seen)
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _inferred(row: tuple[str, date, int, int, int, int, int]) -> str | None:
    """A day's colour from its syncs alone (before the tap observed the connection)."""
    _, _, succeeded, failed, _canceled, rescheduled, running = row
    if failed:
        return "failing"
    if rescheduled:
        return "rescheduled"
    if succeeded:
        return "healthy"
    if running:
        return "syncing"
    return None


def timeline_chart(data: ReportData) -> str:
    """Each connection's health per day: observed (solid) or inferred from syncs (faded)."""
    days = _days(data)
    observed = {(c, d): h for c, d, h in data.daily_health}
    inferred = {(row[0], row[1]): _inferred(row) for row in data.daily_syncs}
    label_w, cell_w, cell_h, top = 190, 44, 12, 34
    width = label_w + cell_w * max(1, len(days)) + 10
    parts = [
        _text(
            label_w + cell_w * i + cell_w / 2,
            22,
            day.strftime("%b %d"),
            text_anchor="middle",
            font_size=11,
        )
        for i, day in enumerate(days)
    ]
    for row, (connection_id, name, health) in enumerate(data.connections):
        y = top + row * cell_h
        parts.append(
            _text(
                label_w - 6,
                y + 10,
                f"{name or connection_id}"[:28],
                text_anchor="end",
                font_size=10,
            )
        )
        for i, day in enumerate(days):
            key = (connection_id, day)
            value = observed.get(key)
            source = "observed"
            if value is None:
                value, source = inferred.get(key), "syncs"
            fill = HEALTH_COLORS.get(value or "", NO_DATA)
            cell = _attrs(
                x=label_w + cell_w * i,
                y=y,
                width=cell_w - 2,
                height=cell_h - 2,
                fill=fill,
                opacity=1 if source == "observed" else 0.45,
                data_connection=connection_id,
                data_day=day.isoformat(),
                data_health=value or "none",
                data_source=source if value else "none",
            )
            parts.append(f"<rect {cell}/>")
        dot = _attrs(cx=label_w - 186, cy=y + 5, r=4, fill=HEALTH_COLORS.get(health, "#888"))
        parts.append(f"<circle {dot}/>")
    height = top + cell_h * len(data.connections) + 8
    return _svg("chart-timeline", width, height, parts, "Health of each connection per day")


def failures_chart(data: ReportData) -> str:
    """Failed, canceled and rescheduled syncs per day, stacked."""
    days = _days(data)
    totals: dict[date, Counter[str]] = defaultdict(Counter)
    for _, day, _ok, failed, canceled, rescheduled, _running in data.daily_syncs:
        totals[day].update(failed=failed, canceled=canceled, rescheduled=rescheduled)
    kinds = (("failed", "#d93025"), ("canceled", "#9aa0a6"), ("rescheduled", "#f9ab00"))
    top = max((sum(totals[d].values()) for d in days), default=1) or 1
    width, height, base, bar_w = 640, 240, 200, 40
    step = (width - 60) / max(1, len(days))
    parts = [f"<line {_attrs(x1=40, y1=base, x2=width - 10, y2=base, stroke='#555')}/>"]
    for i, day in enumerate(days):
        x = 50 + i * step
        y = float(base)
        for kind, color in kinds:
            value = totals[day][kind]
            h = 150 * value / top
            y -= h
            parts.append(
                _rect(
                    x=round(x, 1),
                    y=round(y, 1),
                    width=bar_w,
                    height=round(h, 1),
                    fill=color,
                    data_day=day.isoformat(),
                    data_kind=kind,
                    data_count=value,
                )
            )
        parts.append(
            _text(
                x + bar_w / 2,
                y - 4,
                str(sum(totals[day].values())),
                text_anchor="middle",
                font_size=11,
            )
        )
        parts.append(
            _text(
                x + bar_w / 2, base + 16, day.strftime("%b %d"), text_anchor="middle", font_size=11
            )
        )
    for n, (kind, color) in enumerate(kinds):
        parts.append(_rect(x=60 + n * 120, y=224, width=12, height=12, fill=color))
        parts.append(_text(76 + n * 120, 234, kind, font_size=12))
    return _svg("chart-failures", width, height, parts, "Sync failures per day")


def duration_bins(durations: list[float]) -> list[tuple[str, int]]:
    """(label, count) per duration bin."""
    counts = [0] * len(DURATION_BINS)
    for seconds in durations:
        minutes = seconds / 60
        index = max(i for i, lower in enumerate(DURATION_BINS) if minutes >= lower or i == 0)
        counts[index] += 1
    labels = [f"{lo}-{hi} min" for lo, hi in pairwise(DURATION_BINS)] + [
        f"{DURATION_BINS[-1]}+ min"
    ]
    return list(zip(labels, counts, strict=True))


def durations_chart(data: ReportData) -> str:
    """Histogram of finished syncs' durations."""
    bins = duration_bins(data.durations)
    top = max((c for _, c in bins), default=1) or 1
    width, base, bar_w = 640, 200, 56
    parts = [f"<line {_attrs(x1=20, y1=base, x2=width - 10, y2=base, stroke='#555')}/>"]
    for i, (label, count) in enumerate(bins):
        x = 24 + i * (bar_w + 12)
        h = 160 * count / top
        parts.append(
            _rect(
                x=x,
                y=round(base - h, 1),
                width=bar_w,
                height=round(h, 1),
                fill="#4285f4",
                data_bin=label,
                data_count=count,
            )
        )
        parts.append(
            _text(x + bar_w / 2, base - h - 4, str(count), text_anchor="middle", font_size=11)
        )
        parts.append(_text(x + bar_w / 2, base + 16, label, text_anchor="middle", font_size=10))
    return _svg("chart-durations", width, 230, parts, "Sync duration distribution")


def sources_chart(data: ReportData) -> str:
    """dbt sources: at risk, fine, not fed by Fivetran (one stacked bar)."""
    at_risk = sum(1 for s in data.sources if s[3])
    fed_ok = sum(1 for s in data.sources if s[5] and not s[3])
    not_fed = sum(1 for s in data.sources if not s[5])
    total = max(1, at_risk + fed_ok + not_fed)
    width, bar_w = 640, 600.0
    parts = []
    x = 20.0
    for kind, value, color in (
        ("at_risk", at_risk, "#d93025"),
        ("ok", fed_ok, "#1e8e3e"),
        ("not_fed", not_fed, "#9aa0a6"),
    ):
        w = bar_w * value / total
        parts.append(
            _rect(
                x=round(x, 1),
                y=10,
                width=round(w, 1),
                height=28,
                fill=color,
                data_kind=kind,
                data_count=value,
            )
        )
        if value:
            parts.append(
                _text(x + w / 2, 29, str(value), text_anchor="middle", font_size=13, fill="#fff")
            )
        x += w
    labels = ("at risk", "fed by a healthy connection", "not fed by Fivetran")
    colors = ("#d93025", "#1e8e3e", "#9aa0a6")
    for n, (label, color) in enumerate(zip(labels, colors, strict=True)):
        parts.append(_rect(x=20 + n * 200, y=50, width=12, height=12, fill=color))
        parts.append(_text(36 + n * 200, 60, label, font_size=12))
    return _svg("chart-sources", width, 72, parts, "dbt sources at risk")


def _table(head: tuple[str, ...], rows: list[tuple[Any, ...]], table_id: str) -> str:
    if not rows:
        return f'<p id="{table_id}" class="empty">none</p>'
    cells = "".join(f"<th>{escape(h)}</th>" for h in head)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape('' if v is None else str(v))}</td>" for v in row) + "</tr>"
        for row in rows
    )
    return f'<table id="{table_id}"><thead><tr>{cells}</tr></thead><tbody>{body}</tbody></table>'


def _legend() -> str:
    items = "".join(
        f'<span class="key"><span class="swatch" style="background:{color}"></span>'
        f"{escape(name)}</span>"
        for name, color in HEALTH_COLORS.items()
    )
    return f'<p class="legend">{items}</p>'


STYLE = """
body { font-family: sans-serif; margin: 24px; color: #202124; max-width: 1100px; }
h1 { font-size: 22px; } h2 { font-size: 17px; margin-top: 28px; }
section { margin-bottom: 12px; } p.note { color: #5f6368; font-size: 13px; }
table { border-collapse: collapse; font-size: 12px; }
td, th { border: 1px solid #dadce0; padding: 3px 8px; text-align: left; }
.legend { font-size: 12px; } .key { margin-right: 12px; white-space: nowrap; }
.swatch { display: inline-block; width: 10px; height: 10px; margin-right: 4px; }
svg text { font-family: sans-serif; fill: #202124; }
"""


def render(data: ReportData) -> str:
    """The whole report as one XHTML document."""
    at_risk = [(s[0], s[1], s[2], s[4]) for s in data.sources if s[3]]
    sections = [
        ("Connections by health", health_chart(data), ""),
        (
            "Health of each connection over the period",
            _legend() + timeline_chart(data),
            "Solid: health the tap observed (connection_daily_health: in force at the day's "
            "end, or at the latest run). "
            "Faded: before the tap observed the connection, the day's syncs alone "
            "(any failed: failing; rescheduled; succeeded: healthy).",
        ),
        ("Sync failures per day", failures_chart(data), "From fivetran_meta__sync_metrics."),
        (
            "Sync duration distribution",
            durations_chart(data),
            f"{len(data.durations)} finished syncs (fivetran_meta__syncs).",
        ),
        (
            "dbt sources at risk",
            sources_chart(data)
            + _table(
                ("dbt source", "connection", "health", "last success"), at_risk, "table-sources"
            ),
            "fivetran_meta__dbt_source_health: sources matched through table_lineage to the "
            "connection feeding them.",
        ),
        (
            "Schema changes",
            _table(
                ("observed", "connection", "change", "object"), data.changes[:30], "table-changes"
            ),
            "fivetran_meta__schema_changelog.",
        ),
    ]
    body = "".join(
        f"<section><h2>{escape(title)}</h2>{content}"
        + (f'<p class="note">{escape(note)}</p>' if note else "")
        + "</section>"
        for title, content, note in sections
    )
    return (
        "<!DOCTYPE html>\n"
        '<html xmlns="http://www.w3.org/1999/xhtml" lang="en"><head><meta charset="utf-8"/>'
        "<title>Fivetran account health</title>"
        f"<style>{STYLE}</style></head><body>"
        "<h1>Fivetran account health</h1>"
        '<p class="note">From the dbt models of tap-fivetran-meta; latest tap run '
        f"{escape(data.generated_from)} UTC.</p>"
        f"{body}</body></html>\n"
    )
