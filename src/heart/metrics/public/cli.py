"""`heart export`: a history folder for the analytics engines and the open data (the public figures as JSON are
``heart.public.cli``'s, put here by the app)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from heart.errors import DomainError
from heart.metrics.engines import Engine

app = typer.Typer(help="Export the history (Parquet), the open data (CSV, Parquet, data package) or the public "
                       "figures (JSON).", no_args_is_help=True)
# `public-figures` is added by the app (heart.public.cli): it includes the groups other domains provide.

History = Annotated[Path | None, typer.Option(help="read a history folder instead of the operational database")]
EngineOption = Annotated[Engine | None, typer.Option(help="with --history: duckdb (default), postgres or spark")]
SparkMaster = Annotated[str | None, typer.Option(help="--engine spark: local[*] (default), spark://host:7077, …")]


@app.command("history")
def history_command(out: Annotated[Path, typer.Option(help="the folder to write (created if needed)")]) -> None:
    """Responses, eligible calls and phone calls of the operational database as Parquet (the analytics history)."""
    from heart.console import console, fail, migrated_database_url
    from heart.metrics.backends import open_database
    from heart.metrics.history import export_history

    try:
        with open_database(migrated_database_url()) as source:
            written = export_history(source, out)
    except (ValueError, OSError) as error:
        raise fail(str(error)) from None
    console.print(", ".join(f"{part}.parquet: {rows:,} rows" for part, rows in written.items()), soft_wrap=True)


@app.command("cubes")
def cubes_command(history: Annotated[Path, typer.Option(help="the history folder (or Parquet file of responses)")]
                  ) -> None:
    """Build the public cubes a history's responses lack or that no longer hold (after an upgrade of HEART or of
    the time zone database): the public figures sum them instead of scanning every row."""
    from heart.console import console, fail
    from heart.metrics.backends.duckdb import local_files
    from heart.metrics.backends.files import HistoryFiles
    from heart.metrics.public import stored

    try:
        responses = Path(HistoryFiles.at(history).responses)
        parts = sorted(responses.glob("*.parquet")) if responses.is_dir() else local_files(str(responses))
        if not parts:
            raise ValueError(f"{history} holds no local Parquet file of responses to build cubes for")
        counts = stored.refresh(parts)
    except (ValueError, OSError) as error:
        raise fail(str(error)) from None
    console.print(f"public cubes: {counts['built']} part(s) built, {counts['kept']} still holding", soft_wrap=True)


@app.command("open-data")
def open_data_command(
    since: Annotated[str, typer.Option(help="first day, a January 1st: YYYY-01-01")],
    until: Annotated[str, typer.Option(help="last day, a December 31st of a year that has ended: YYYY-12-31")],
    out: Annotated[Path, typer.Option(help="the folder to write (created if needed)")],
    history: History = None, engine: EngineOption = None, spark_master: SparkMaster = None,
) -> None:
    """Response-level open data for whole years: responses.csv, responses.parquet and datapackage.json."""
    from heart.console import console, fail, migrated_database_url
    from heart.metrics.history import metrics_source
    from heart.metrics.public.opendata import write_open_data

    try:
        first, last = whole_years(since, until, today=date.today())
        with metrics_source(database_url=migrated_database_url(), history=history, engine=engine,
                            spark_master=spark_master) as source:
            summary = write_open_data(source=source, first=first, last=last, out=out)
    except (ValueError, DomainError, OSError) as error:
        raise fail(str(error)) from None
    left_out = f"; left out (fewer than 11 responses): {', '.join(summary['left_out'])}" if summary["left_out"] else ""
    console.print(f"{summary['rows']:,} responses written to {out}{left_out}", soft_wrap=True)


def whole_years(since: str, until: str, *, today: date) -> tuple[int, int]:
    """The years from --since to --until, which must be a January 1st and a December 31st of ended years."""
    try:
        first, last = date.fromisoformat(since), date.fromisoformat(until)
    except ValueError:
        raise ValueError(f"--since and --until are dates written YYYY-MM-DD, not {since!r} and {until!r}") from None
    if (first.month, first.day) != (1, 1) or (last.month, last.day) != (12, 31):
        raise ValueError("open data covers whole calendar years (the unit its suppression protects): use --since "
                         f"{first.year}-01-01 --until {last.year}-12-31")
    if last < first:
        raise ValueError(f"--until ({last}) is before --since ({first})")
    if last.year >= today.year:
        raise ValueError(f"{last.year} has not ended: the last year that can be published is {today.year - 1}")
    return first.year, last.year
