"""The demo's HTML report: one self-contained file, charts drawn as inline SVG.

No script, no stylesheet or font from elsewhere, nothing fetched: it opens offline. The
markup is well-formed XML (XHTML syntax) so tests can parse it, and every bar, cell and
slice carries ``data-*`` attributes with the numbers it stands for.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from html import escape
from itertools import pairwise
from typing import Any

#: One colour per health value, none shared.
HEALTH_COLORS = {
    "healthy": "#1e8e3e",
    "syncing": "#12b5cb",
    "historical_sync": "#4285f4",
    "first_sync": "#8ab4f8",
    "rescheduled": "#f9ab00",
    "delayed": "#9334e6",
    "stale": "#b06000",
    "failing": "#e8710a",
    "broken": "#d93025",
    "blocked": "#a50e0e",
    "incomplete": "#f06292",
    "paused": "#9aa0a6",
    "deleted": "#202124",
}
#: Time no observation covers: white with a grey outline, never a health colour.
UNOBSERVED = "#ffffff"
UNOBSERVED_STROKE = "#bdc1c6"
#: Sync outcomes, each its own colour.
OUTCOME_COLORS = {
    "succeeded": "#1e8e3e",
    "failed": "#d93025",
    "canceled": "#5f6368",
    "rescheduled": "#f9ab00",
    "truncated": "#9334e6",
    "other": "#80868b",
}
#: Duration histogram bins, in minutes (the last one is open-ended).
DURATION_BINS = (0, 1, 2, 5, 10, 20, 30, 45, 60)


@dataclass
class ReportData:
    """What the report draws (rows as read from the models)."""

    health_counts: list[tuple[str, int]]
    #: (connection_id, day, main_health or None when unobserved, hours_observed).
    daily_health: list[tuple[str, date, str | None, float]]
    #: (connection_id, day, succeeded, failed, canceled, rescheduled, truncated, other).
    daily_syncs: list[tuple[str, date, int, int, int, int, int, int]]
    #: (connection_id, "destination / connection" label, current health).
    connections: list[tuple[str, str, str]]
    durations: list[float]
    #: (dbt source, connection_id, health, is_at_risk, last_success_at, is_fed_by_fivetran).
    sources: list[tuple[str, str | None, str | None, bool, Any, bool]]
    #: (observed_at, connection_id, change_type, object).
    changes: list[tuple[Any, str, str, str]] = field(default_factory=list)
    #: (label, health, since, uptime_7d) of connections that need attention, latest first.
    attention: list[tuple[str, str, Any, Any]] = field(default_factory=list)
    #: (label, deleted_at) of deleted connections.
    deleted: list[tuple[str, Any]] = field(default_factory=list)
    #: (label, running since, minutes running, p95 minutes) of stuck syncs.
    stuck: list[tuple[str, Any, Any, Any]] = field(default_factory=list)
    #: (label, uptime_7d, uptime_30d, hours counted 7d), lowest uptime first.
    uptime: list[tuple[str, Any, Any, Any]] = field(default_factory=list)
    #: (label, kind, code, first seen, message) of open tasks and warnings.
    issues: list[tuple[str, str, str, Any, str]] = field(default_factory=list)
    #: (project_id, status, errors) of transformation projects in ERROR.
    project_errors: list[tuple[str, str, str]] = field(default_factory=list)
    generated_from: str = ""
    #: Incidents, open first then latest: (label, worst health, started_at, ended_at,
    #: is_open, duration minutes, cause codes, cause messages, dbt sources the connection
    #: feeds, the dbt nodes downstream of them).
    incidents: list[tuple[str, str, Any, Any, bool, Any, Any, Any, int, Any]] = field(
        default_factory=list
    )
    #: Per service with incidents: (service, connections, incidents in 30 days, MTTR
    #: minutes or None).
    reliability: list[tuple[str, int, int, Any]] = field(default_factory=list)


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
    seen = {row[1] for row in data.daily_health} | {row[1] for row in data.daily_syncs}
    if not seen:
        return []
    first, last = min(seen), max(seen)
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


#: Width of the day area of the timeline and failure charts (pixels).
DAY_AREA = 880


def _label_every(days: int, cell_w: float, label_w: float = 44) -> int:
    """Label every n-th day so labels never overlap, whatever the number of days."""
    return max(1, math.ceil(label_w / max(cell_w, 1)))


def _day_labels(days: list[date], x0: float, cell_w: float, y: float) -> list[str]:
    every = _label_every(len(days), cell_w)
    return [
        _text(
            x0 + cell_w * i + cell_w / 2,
            y,
            day.strftime("%b %d"),
            text_anchor="middle",
            font_size=10,
        )
        for i, day in enumerate(days)
        if i % every == 0
    ]


def timeline_chart(data: ReportData) -> str:
    """Each connection's main (longest) health per day; unobserved days white, outlined."""
    days = _days(data)
    cells = {(c, d): (h, hours) for c, d, h, hours in data.daily_health}
    label_w, cell_h, top = 250, 12, 34
    cell_w = min(44.0, DAY_AREA / max(1, len(days)))
    width = int(label_w + cell_w * max(1, len(days)) + 30)
    parts = _day_labels(days, label_w, cell_w, 22)
    for row, (connection_id, label, health) in enumerate(data.connections):
        y = top + row * cell_h
        parts.append(_text(label_w - 14, y + 10, label[:40], text_anchor="end", font_size=10))
        for i, day in enumerate(days):
            value, hours = cells.get((connection_id, day), (None, 0.0))
            observed = value is not None
            cell = _attrs(
                x=round(label_w + cell_w * i, 1),
                y=y,
                width=round(max(1.0, cell_w - 2), 1),
                height=cell_h - 2,
                fill=HEALTH_COLORS.get(value or "", UNOBSERVED),
                stroke="none" if observed else UNOBSERVED_STROKE,
                data_connection=connection_id,
                data_day=day.isoformat(),
                data_health=value or "unobserved",
                data_hours=round(hours or 0.0, 2),
            )
            parts.append(f"<rect {cell}/>")
        dot = _attrs(cx=label_w - 6, cy=y + 5, r=4, fill=HEALTH_COLORS.get(health, "#888"))
        parts.append(f"<circle {dot}/>")
    height = top + cell_h * len(data.connections) + 8
    return _svg("chart-timeline", width, height, parts, "Main health of each connection per day")


def failures_chart(data: ReportData) -> str:
    """Per day: the outcomes of finished syncs as a 100 % stacked bar, the failure rate
    (failed / finished) written above it, and a y axis in percent."""
    days = _days(data)
    totals: dict[date, Counter[str]] = defaultdict(Counter)
    for _, day, *counts in data.daily_syncs:
        totals[day].update(dict(zip(OUTCOME_COLORS, counts, strict=True)))
    x0, base, plot_h = 50, 200, 160
    cell_w = min(44.0, DAY_AREA / max(1, len(days)))
    bar_w = max(1.0, cell_w * 0.75)
    width = int(x0 + cell_w * max(1, len(days)) + 30)
    parts = [f"<line {_attrs(x1=x0, y1=base, x2=width - 10, y2=base, stroke='#555')}/>"]
    parts.append(f"<line {_attrs(x1=x0, y1=base - plot_h, x2=x0, y2=base, stroke='#555')}/>")
    for pct in (0, 25, 50, 75, 100):
        y = base - plot_h * pct / 100
        parts.append(_text(x0 - 4, y + 4, f"{pct}%", text_anchor="end", font_size=10))
        parts.append(f"<line {_attrs(x1=x0, y1=y, x2=width - 10, y2=y, stroke='#eee')}/>")
    every = _label_every(len(days), cell_w, 30)
    for i, day in enumerate(days):
        x = x0 + i * cell_w + (cell_w - bar_w) / 2
        finished = sum(totals[day].values())
        y = float(base)
        for kind, color in OUTCOME_COLORS.items():
            value = totals[day][kind]
            h = plot_h * value / finished if finished else 0.0
            y -= h
            parts.append(
                _rect(
                    x=round(x, 1),
                    y=round(y, 1),
                    width=round(bar_w, 1),
                    height=round(h, 1),
                    fill=color,
                    data_day=day.isoformat(),
                    data_kind=kind,
                    data_count=value,
                )
            )
        rate = totals[day]["failed"] / finished if finished else None
        if i % every == 0:
            label = "-" if rate is None else f"{rate:.0%}"
            parts.append(
                _text(
                    x + bar_w / 2,
                    base - plot_h - 6,
                    label,
                    text_anchor="middle",
                    font_size=9,
                    data_rate="" if rate is None else round(rate, 4),
                )
            )
    parts += _day_labels(days, x0, cell_w, base + 16)
    for n, (kind, color) in enumerate(OUTCOME_COLORS.items()):
        parts.append(_rect(x=x0 + n * 110, y=224, width=12, height=12, fill=color))
        parts.append(_text(x0 + 16 + n * 110, 234, kind, font_size=12))
    title = "Outcomes of finished syncs per day; failure rate above each bar"
    return _svg("chart-failures", max(width, 720), 244, parts, title)


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


#: Rows a table shows before saying "and N more".
TABLE_ROWS = 15


def _table(
    head: tuple[str, ...], rows: list[tuple[Any, ...]], table_id: str, limit: int = TABLE_ROWS
) -> str:
    if not rows:
        return f'<p id="{table_id}" class="empty">none</p>'
    cells = "".join(f"<th>{escape(h)}</th>" for h in head)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape('' if v is None else str(v))}</td>" for v in row) + "</tr>"
        for row in rows[:limit]
    )
    more = (
        f'<p class="more" data-more="{len(rows) - limit}">and {len(rows) - limit} more</p>'
        if len(rows) > limit
        else ""
    )
    return (
        f'<table id="{table_id}"><thead><tr>{cells}</tr></thead><tbody>{body}</tbody></table>'
        + more
    )


def _pct(value: Any) -> str:
    return "-" if value is None else f"{float(value):.1%}"


def _legend() -> str:
    items = "".join(
        f'<span class="key"><span class="swatch" style="background:{color}"></span>'
        f"{escape(name)}</span>"
        for name, color in [*HEALTH_COLORS.items(), ("unobserved", UNOBSERVED)]
    )
    return f'<p class="legend">{items}</p>'


STYLE = """
body { font-family: sans-serif; margin: 24px; color: #202124; max-width: 1100px; }
h1 { font-size: 22px; } h2 { font-size: 17px; margin-top: 28px; }
section { margin-bottom: 12px; } p.note { color: #5f6368; font-size: 13px; }
table { border-collapse: collapse; font-size: 12px; }
td, th { border: 1px solid #dadce0; padding: 3px 8px; text-align: left; }
.legend { font-size: 12px; } .key { margin-right: 12px; white-space: nowrap; }
.swatch { display: inline-block; width: 10px; height: 10px; margin-right: 4px;
  border: 1px solid #bdc1c6; }
p.more { font-size: 12px; color: #5f6368; margin: 4px 0; }
section { overflow-x: auto; }
svg text { font-family: sans-serif; fill: #202124; }
"""


def _duration(minutes: Any) -> str:
    if minutes is None:
        return "-"
    hours, rest = divmod(round(float(minutes)), 60)
    return f"{hours // 24}d {hours % 24}h" if hours >= 24 else f"{hours}h {rest:02d}m"


def reliability_chart(data: ReportData) -> str:
    """Per service: incidents in the last 30 days and MTTR, as two bars side by side."""
    rows = data.reliability
    top_n = max((r[2] for r in rows), default=0) or 1
    top_mttr = max((float(r[3]) for r in rows if r[3] is not None), default=0.0) or 1.0
    label_w, panel, line = 170, 300, 24
    width = label_w + 2 * (panel + 40)
    parts = [
        _text(label_w, 14, "incidents, last 30 days", font_size=12),
        _text(label_w + panel + 40, 14, "mean time to recovery", font_size=12),
    ]
    for i, (service, connections, incidents, mttr) in enumerate(rows):
        y = 24 + i * line
        name = f"{service} ({connections})"
        parts.append(_text(label_w - 8, y + 13, name, text_anchor="end", font_size=11))
        n_w = max(1.0, panel * incidents / top_n) if incidents else 0.0
        parts.append(
            _rect(
                x=label_w,
                y=y,
                width=round(n_w, 1),
                height=16,
                fill="#d93025",
                data_service=service,
                data_kind="incidents_30d",
                data_value=incidents,
            )
        )
        parts.append(_text(label_w + n_w + 4, y + 12, str(incidents), font_size=11))
        x_mttr = label_w + panel + 40
        m_w = max(1.0, panel * float(mttr) / top_mttr) if mttr is not None else 0.0
        parts.append(
            _rect(
                x=x_mttr,
                y=y,
                width=round(m_w, 1),
                height=16,
                fill="#4285f4",
                data_service=service,
                data_kind="mttr_minutes",
                data_value="" if mttr is None else round(float(mttr), 1),
            )
        )
        parts.append(_text(x_mttr + m_w + 4, y + 12, _duration(mttr), font_size=11))
    height = 32 + line * max(1, len(rows))
    return _svg("chart-reliability", width, height, parts, "Incidents and MTTR per service")


def _impact(sources: int, nodes: Any) -> str:
    if not sources:
        return ""
    fed = f"{sources} dbt source{'s' if sources != 1 else ''}"
    return f"{fed}; downstream: {nodes}" if nodes else fed


def incident_sections(data: ReportData) -> list[tuple[str, str, str]]:
    """The incidents table (open ones first) and the per-service reliability chart."""
    rows = [
        (
            label,
            "open" if is_open else "closed",
            worst,
            started,
            "-" if ended is None else ended,
            _duration(minutes),
            codes or "",
            (messages or "")[:80],
            _impact(sources, nodes),
        )
        for (label, worst, started, ended, is_open, minutes, codes, messages, sources, nodes) in (
            data.incidents
        )
    ]
    head = ("connection", "state", "worst health", "started", "ended", "duration", "cause")
    head += ("message", "downstream impact")
    return [
        (
            "Incidents (open first)",
            _table(head, rows, "table-incidents"),
            "fivetran_meta__incidents: each spell a connection was unhealthy, from the earliest "
            "evidence (a failed sync may precede the run that saw it) to its recovery. Impact: "
            "the dbt sources the connection feeds and, while open, every dbt node downstream "
            "of them (fivetran_meta__dbt_impact).",
        ),
        (
            "Incidents and mean time to recovery per service",
            reliability_chart(data),
            "fivetran_meta__reliability_rollup (grain service): incidents started in the last "
            "30 days and the mean duration of closed incidents; connections in brackets. "
            "Services without incidents are left out.",
        ),
    ]


def render(data: ReportData) -> str:
    """The whole report as one XHTML document."""
    at_risk = [(s[0], s[1], s[2], s[4]) for s in data.sources if s[3]]
    sections = [
        ("Connections by health", health_chart(data), ""),
        (
            "Connections that need attention (latest breakage first)",
            _table(
                ("connection", "health", "since", "uptime 7d"),
                [(a, h, since, _pct(u)) for a, h, since, u in data.attention],
                "table-attention",
            ),
            "fivetran_meta__connection_status and __connection_uptime.",
        ),
        *incident_sections(data),
        (
            "Health of each connection over the period",
            _legend() + timeline_chart(data),
            "Each day coloured by its main health: the value the connection spent the most "
            "observed hours in (connection_daily_health.main_health). White: no observation "
            "covers that day (a tap run's snapshot counts for at most 12 hours).",
        ),
        (
            "Sync outcomes and failure rate per day",
            failures_chart(data),
            "From fivetran_meta__sync_metrics: every finished sync by outcome (running ones "
            "left out); the figure above each bar is failed / finished.",
        ),
        (
            "Uptime (hour-weighted, paused and unobserved time left out)",
            _table(
                ("connection", "7 days", "30 days", "hours counted (7 d)"),
                [
                    (a, _pct(u7), _pct(u30), round(float(h or 0), 1))
                    for a, u7, u30, h in data.uptime
                ],
                "table-uptime",
            ),
            "fivetran_meta__connection_uptime, lowest first.",
        ),
        (
            "Stuck syncs",
            _table(
                ("connection", "running since", "minutes running", "p95 minutes"),
                data.stuck,
                "table-stuck",
            ),
            "A sync running far longer than this connection's syncs take (is_sync_stuck).",
        ),
        (
            "Deleted connections",
            _table(("connection", "deleted at"), data.deleted, "table-deleted"),
            "Gone from Fivetran: no longer counted as up or down.",
        ),
        (
            "Open tasks and warnings",
            _table(
                ("connection", "kind", "code", "first seen", "message"),
                data.issues,
                "table-issues",
            ),
            "fivetran_meta__errors_and_warnings.",
        ),
        (
            "Transformation projects in error",
            _table(("project", "status", "errors"), data.project_errors, "table-projects"),
            "fivetran_meta__transformation_status.",
        ),
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
            _table(("observed", "connection", "change", "object"), data.changes, "table-changes"),
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
