"""`heart metrics`: the dashboard's figures for a period, as a table or as JSON.

With ``--by agency`` it shows instead the baseline of imported CAD history (how police, EMS or fire
answer today), computed by ``heart.metrics.baseline`` with the same definitions.
"""

from __future__ import annotations

import json
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from heart.console import OutputFormat
from heart.errors import DomainError
from heart.metrics.engines import Engine
from heart.metrics.schemas import (
    BASELINE_FIGURES,
    MISSED_WORDS,
    MORE_FIGURES,
    PUBLISHED_FIGURES,
    CareMetrics,
    MetricsReport,
)


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
    history: Annotated[Path | None, typer.Option(help="a history folder (heart export history) or Parquet file of "
                                                      "responses, instead of the operational database")] = None,
    engine: Annotated[Engine | None, typer.Option(help="what runs the definitions over --history: duckdb "
                                                       "(default), postgres or spark")] = None,
    postgres_url: Annotated[str | None, typer.Option(help="--engine postgres: the database to load the history "
                                                          "into (default: HEART_DATABASE_URL)")] = None,
    spark_master: Annotated[str | None, typer.Option(help="--engine spark: local[*] (default), spark://host:7077, "
                                                          "yarn, k8s://…; or set SPARK_REMOTE")] = None,
) -> None:
    """Responses, minutes to and on scene, transports, backup and EMS shares, by program (period by cleared_at)."""
    from heart.console import console, fail, migrated_database_url

    database_url = migrated_database_url()
    if by == GroupBy.AGENCY:
        _baseline(database_url, batch, output)
        return
    if batch is not None:
        raise fail("--batch goes with --by agency (it names a batch of imported CAD history)")
    from heart.metrics.definitions import Period
    from heart.metrics.history import metrics_source
    from heart.metrics.service import compute_metrics

    try:
        period = Period(since=_day(since, "--since"), until=_day(until, "--until"))
        with metrics_source(database_url=database_url, history=history, engine=engine, postgres_url=postgres_url,
                            spark_master=spark_master) as source:
            report = compute_metrics(source=source, period=period, program=program.upper() if program else None)
    except (ValueError, DomainError, OSError) as error:
        raise fail(str(error)) from None
    except ImportError as error:  # PySpark not installed
        raise fail(str(error)) from None
    if output == OutputFormat.json:
        typer.echo(json.dumps(report.model_dump(mode="json"), indent=2))
    else:
        console.print(report_table(report))
        if report.care is not None:
            console.print(care_table(report.care))
            console.print(referrals_table(report.care))


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


def care_table(care: CareMetrics) -> Table:
    """Care navigation: follow-up of consented encounters (all, then by program) and referrals by need."""
    columns = {"all": care.all, **care.by_program}
    table = Table("", *columns, title="Care navigation (by the encounter's date; referrals by when made)",
                  title_justify="left")
    for key, label, fmt in (("consented_encounters", "Consented encounters", "{:,}"),
                            ("pct_followed_up_in_time", "% followed up by the due time", "{:.2f}%"),
                            ("median_hours_to_first_contact", "Median hours to first contact", "{:.2f}")):
        table.add_row(label, *(_cell(getattr(figures, key), fmt) for figures in columns.values()))
    return table


def referrals_table(care: CareMetrics) -> Table:
    """Referrals made in the period by need, and how their loops closed so far."""
    table = Table("need", "made", "accepted", "completed", "declined", "no response",
                  title="Referrals by need (made in the period)", title_justify="left")
    for need, counts in care.referrals_by_need.items():
        table.add_row(need, *(f"{value:,}" for value in (counts.made, counts.accepted, counts.completed,
                                                          counts.declined, counts.no_response)))
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
