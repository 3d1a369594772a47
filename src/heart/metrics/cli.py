"""`heart metrics`: the dashboard's figures for a period, as a table or as JSON.

With ``--by agency`` it shows instead the baseline of imported CAD history (how police, EMS or fire
answer today), computed by ``heart.metrics.baseline`` with the same definitions.
"""

from __future__ import annotations

import json
from datetime import date
from enum import StrEnum
from typing import Annotated, Any

import typer
from rich.table import Table

from heart.console import OutputFormat
from heart.errors import DomainError
from heart.metrics.schemas import BASELINE_FIGURES, MISSED_WORDS, MORE_FIGURES, PUBLISHED_FIGURES, MetricsReport


class GroupBy(StrEnum):
    PROGRAM = "program"
    AGENCY = "agency"


def metrics(
    program: Annotated[str | None, typer.Option(help="one program's code, e.g. CRT (default: every program)")] = None,
    since: Annotated[str | None, typer.Option(help="first day, YYYY-MM-DD, in the program's local time")] = None,
    until: Annotated[str | None, typer.Option(help="last day (included), YYYY-MM-DD")] = None,
    output: Annotated[OutputFormat, typer.Option("--format", help="table or json")] = OutputFormat.table,
    by: Annotated[GroupBy, typer.Option(help="program: HEART's responses; agency: imported CAD history "
                                             "(baseline)")] = GroupBy.PROGRAM,
    batch: Annotated[str | None, typer.Option(help="with --by agency: one import batch's label")] = None,
) -> None:
    """Responses, minutes to and on scene, transports, backup and EMS shares, by program (period by cleared_at)."""
    from heart.console import console, fail, settings

    database_url = settings().database_url
    if by == GroupBy.AGENCY:
        _baseline(database_url, batch, output)
        return
    if batch is not None:
        raise fail("--batch goes with --by agency (it names a batch of imported CAD history)")
    from heart.metrics.backends import open_database
    from heart.metrics.definitions import Period
    from heart.metrics.service import compute_metrics

    try:
        period = Period(since=_day(since, "--since"), until=_day(until, "--until"))
        with open_database(database_url) as source:
            report = compute_metrics(source=source, period=period, program=program.upper() if program else None)
    except (ValueError, DomainError) as error:
        raise fail(str(error)) from None
    if output == OutputFormat.json:
        typer.echo(json.dumps(report.model_dump(mode="json"), indent=2))
    else:
        console.print(report_table(report))


def _day(text: str | None, option: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{option} must be a date written YYYY-MM-DD, not {text!r}") from None


def report_table(report: MetricsReport) -> Table:
    """The published panel's layout: one column per program, one row per figure."""
    from heart.metrics.service import report_programs

    codes = report_programs(report)
    period = f"{report.period.since or 'first record'} to {report.period.until or 'last record'}"
    table = Table("", *codes, title=f"Responses cleared {period}", title_justify="left")
    for figure in (*PUBLISHED_FIGURES, *MORE_FIGURES):
        table.add_row(figure.label, *(figure.shown(getattr(report.programs[code], figure.key)) for code in codes))
    table.add_row("Left out (data-quality exceptions)",
                  *(f"{report.programs[code].data_quality.excluded_responses:,}" for code in codes))
    reach = {code: report.programs[code].reach for code in codes}
    if any(reach.values()):
        table.add_section()
        table.add_row("Reach: eligible calls (received, closed)",
                      *(f"{r.eligible_calls:,}" if r else "—" for r in reach.values()))
        table.add_row("Reached by the program", *(f"{r.reached_calls:,}" if r else "—" for r in reach.values()))
        table.add_row("Reach", *(_cell(r.pct_reached, "{:.2f}%") if r else "—" for r in reach.values()))
        for reason, words in MISSED_WORDS.items():
            table.add_row(f"  missed: {words}", *(f"{r.missed.get(reason, 0):,}" if r else "—"
                                                  for r in reach.values()))
        table.add_row("Eligible calls still open", *(f"{r.in_progress:,}" if r else "—" for r in reach.values()))
    return table


def _cell(value: Any, fmt: str) -> str:
    return "—" if value is None else fmt.format(value)


def _baseline(database_url: str, batch: str | None, output: OutputFormat) -> None:
    """The CAD-history baseline per agency: the same as ``heart cad baseline``."""
    from heart.console import console, fail
    from heart.metrics.baseline import baseline_by_agency

    try:
        result = baseline_by_agency(database_url=database_url, batch=batch)
    except DomainError as error:
        raise fail(str(error)) from None
    if output == OutputFormat.json:
        typer.echo(json.dumps(result, indent=2, default=str))
        return
    console.print(baseline_table(result))


def baseline_table(figures: dict[str, Any]) -> Table:
    """One row per agency with the dashboard's figures and labels, and the rows left out (missing / negative)."""
    batch = figures.get("batch")
    table = Table("agency", *(figure.label for figure in BASELINE_FIGURES), "missing time", "negative time",
                  title=f"CAD history baseline ({f'batch {batch}' if batch else 'all imported rows'})",
                  title_justify="left")
    for column in table.columns[1:]:
        column.justify = "right"
    for agency, row in figures["agencies"].items():
        table.add_row(agency, *(figure.shown(row[figure.key]) for figure in BASELINE_FIGURES),
                      f"{row['left_out']['missing_timestamp']:,}", f"{row['left_out']['negative_duration']:,}")
    return table
