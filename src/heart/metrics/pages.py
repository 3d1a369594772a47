"""The metrics dashboard: the published panel's seven figures per program, charts, and data quality."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import plotly
from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse

from heart.city.programs import city_programs
from heart.deps import allow
from heart.errors import DomainError
from heart.metrics.backends import open_database
from heart.metrics.definitions import EXCEPTION_KINDS, Period
from heart.metrics.schemas import MISSED_WORDS, MORE_FIGURES, PUBLISHED_FIGURES, MetricsReport, PeriodPublic
from heart.metrics.service import compute_metrics, report_programs
from heart.navigation.followups.rules import care_rules
from heart.templating import render, templates

router = APIRouter(include_in_schema=False)
PLOTLY_JS = Path(plotly.__file__).resolve().parent / "package_data" / "plotly.min.js"
"""plotly.js as shipped inside the installed Python package: no CDN, works offline."""
# plotly.js adds its map library's CSS as an inline <style id="<hash>"> on load unless an element with that id
# exists; the Content-Security-Policy refuses it (and we draw no maps), so chart pages hold an empty one.
_INJECTED_STYLE = re.compile(rb'getElementById\("([0-9a-f]{64})"\)\)\{var \w+=document\.createElement\("style"\)')


@cache
def plotly_injected_style_ids() -> tuple[str, ...]:
    """The ids of the <style> elements plotly.js would inject when the page has none (read once)."""
    return tuple(found.decode() for found in _INJECTED_STYLE.findall(PLOTLY_JS.read_bytes()))


templates.env.globals["plotly_style_ids"] = plotly_injected_style_ids

EXCEPTION_WORDS = {
    "missing_on_scene": "cleared without an arrival time",
    "negative_minutes_to_scene": "arrival recorded before dispatch",
    "negative_minutes_on_scene": "cleared before the recorded arrival",
    "cleared_and_cancelled": "both cleared and cancelled",
    "negative_received_to_scene": "arrival before the call was received (left out of call → on scene only)",
}
PALETTE = ("#1b6e3a", "#2f5fb3", "#7a4a9e", "#a65b00", "#8a1c3c", "#0f6b73", "#5a5a1e")
"""Colours of the city's programs, in the order its programs file lists them (a program keeps its colour)."""


def program_colors() -> dict[str, str]:
    """Each program of the city and its colour on the charts."""
    codes = city_programs().codes("field", "phone", "case")
    return {code: PALETTE[i % len(PALETTE)] for i, code in enumerate(codes)}


@router.get("/metrics", dependencies=[allow("metrics.read")])
def dashboard(request: Request, since: str | None = None, until: str | None = None) -> HTMLResponse:
    """Figures for the chosen period (all of the history by default)."""
    settings = request.app.state.settings
    today = datetime.now(ZoneInfo(settings.timezone)).date()
    error = None
    try:
        period = Period(since=_day(since), until=_day(until))
    except ValueError as problem:
        error, period = str(problem), Period()
    try:
        with open_database(settings.database_url) as source:
            report = compute_metrics(source=source, period=period)
    except DomainError as problem:  # pragma: no cover - every program exists when no code is asked for
        error, report = str(problem), MetricsReport(period=PeriodPublic(), programs={})
    codes = report_programs(report)
    care = care_rules(settings)
    return render(request, "metrics/dashboard.html", {
        "care_codes": list(report.care.by_program) if report.care else [],
        "due_hours": f"{care.config.follow_up_due_hours:g}", "need_label": care.need_label,
        "report": report, "codes": codes, "seven": PUBLISHED_FIGURES, "more": MORE_FIGURES, "error": error,
        "since": since or "", "until": until or "", "presets": presets(today),
        "exception_kinds": [(kind, EXCEPTION_WORDS[kind]) for kind in EXCEPTION_KINDS],
        "charts": charts(report, codes), "month_rows": month_rows(report, codes), "fmt": _format,
        "missed_words": MISSED_WORDS, "reach_codes": [c for c in codes if report.programs[c].reach is not None],
    }, status_code=422 if error else 200)


@router.get("/metrics/plotly.min.js", dependencies=[allow("metrics.read")])
def plotly_js() -> FileResponse:
    """The charting library, from the installed plotly package."""
    return FileResponse(PLOTLY_JS, media_type="text/javascript", headers={"Cache-Control": "private, max-age=86400"})


def _day(text: str | None) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a date; pick one or write YYYY-MM-DD") from None


def _format(value: Any, fmt: str, unit: str = "") -> str:
    return "—" if value is None else fmt.format(value) + unit


def presets(today: date) -> list[tuple[str, str, str]]:
    """(label, since, until) for the period picker's shortcuts."""
    first_of_month = today.replace(day=1)
    last_month_end = first_of_month - timedelta(days=1)
    return [
        ("All time", "", ""),
        ("Last 12 months", (today - timedelta(days=365)).isoformat(), (today - timedelta(days=1)).isoformat()),
        ("This year", today.replace(month=1, day=1).isoformat(), today.isoformat()),
        ("Last month", last_month_end.replace(day=1).isoformat(), last_month_end.isoformat()),
    ]


def charts(report: MetricsReport, codes: list[str]) -> dict[str, dict[str, Any]]:
    """Plotly figure specifications (data and layout) for responses by month and by hour of day."""
    months = [month for month, _ in month_rows(report, codes)]
    layout = {"barmode": "group", "height": 320, "margin": {"l": 50, "r": 10, "t": 10, "b": 40},
              "legend": {"orientation": "h", "y": 1.12}, "font": {"family": "system-ui, sans-serif"},
              "paper_bgcolor": "rgba(0,0,0,0)", "plot_bgcolor": "rgba(0,0,0,0)"}
    colors = program_colors()
    by_month = [{"type": "bar", "name": code, "x": months, "marker": {"color": colors.get(code, "#888")},
                 "y": [report.programs[code].responses_by_month.get(month, 0) for month in months]} for code in codes]
    by_hour = [{"type": "bar", "name": code, "x": list(range(24)), "marker": {"color": colors.get(code, "#888")},
                "y": report.programs[code].responses_by_hour} for code in codes]
    return {
        "by-month": {"data": by_month, "layout": {**layout, "xaxis": {"title": {"text": "month cleared"},
                                                                      "type": "category"},
                                                  "yaxis": {"title": {"text": "responses"}}}},
        "by-hour": {"data": by_hour, "layout": {**layout, "xaxis": {"title": {"text": "local hour of dispatch"},
                                                                    "dtick": 1},
                                                "yaxis": {"title": {"text": "responses"}}}},
    }


def month_rows(report: MetricsReport, codes: list[str]) -> list[tuple[str, list[int]]]:
    """Responses by month as table rows (the charts' data, for screen readers and copying)."""
    months = sorted({month for code in codes for month in report.programs[code].responses_by_month})
    return [(month, [report.programs[code].responses_by_month.get(month, 0) for code in codes]) for month in months]
