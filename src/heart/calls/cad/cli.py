"""`heart cad`: import a CAD's history through an import profile, list profiles, check files.

    heart cad import --profile alexandria-decc week35.csv week36.csv --batch alexandria-2025
    heart cad check --profile alexandria-decc week40.csv
    heart cad profiles
    heart cad baseline --batch alexandria-2025
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.progress import BarColumn, DownloadColumn, Progress, TaskID, TextColumn, TimeRemainingColumn
from rich.table import Table
from sqlalchemy.exc import OperationalError, ProgrammingError

from heart.calls.cad.importer import ImportRefused, ImportSummary, RejectsWriter, check_files, import_files
from heart.calls.cad.importer import Progress as ImportProgress
from heart.calls.cad.profiles import (
    Profile,
    ProfileError,
    available_profiles,
    load_profile,
    load_profile_by_name,
    profiles_dir,
)
from heart.config import InsecureSettings, get_settings
from heart.console import OutputFormat, console, err, fail, migrated_database_url
from heart.db import make_engine, utcnow

app = typer.Typer(help="Import CAD history through import profiles.", no_args_is_help=True)
REJECTS_SHOWN = 50




ProfileOption = Annotated[str, typer.Option("--profile", help="profile name (see `heart cad profiles`)")]
FormatOption = Annotated[OutputFormat, typer.Option("--format", help="table or json")]


@app.command("import")
def import_command(
    files: Annotated[list[Path], typer.Argument(help="CSV exports to import")],
    profile: ProfileOption,
    batch: Annotated[str | None, typer.Option(help="label of the import batch [PROFILE-DATE-TIME]")] = None,
    rejects: Annotated[Path | None, typer.Option(help="CSV for rejected rows [BATCH-rejects.csv]")] = None,
    output_format: FormatOption = OutputFormat.table,
) -> None:
    """Import CAD history; importing the same rows again adds nothing. Exits 1 if a file could not be read."""
    loaded = _profile(profile)
    label = batch or f"{loaded.name}-{utcnow():%Y%m%d-%H%M%S}"
    rejects_path = rejects or Path(f"{label}-rejects.csv")
    try:
        database_url = migrated_database_url()
    except (InsecureSettings, ValidationError) as error:
        raise fail(str(error).splitlines()[-1]) from None
    engine = make_engine(database_url)
    try:
        with RejectsWriter(rejects_path) as writer, _ProgressBar(output_format) as on_progress:
            summary = import_files(engine=engine, profile=loaded, paths=files, batch_label=label, now=utcnow(),
                                   on_progress=on_progress, on_reject=writer)
    except ImportRefused as error:
        raise fail(str(error)) from None
    except (OperationalError, ProgrammingError) as error:
        reason = str(error.orig).splitlines()[0] if error.orig else type(error).__name__
        raise fail(f"the database cannot take the import ({reason}); did you run `heart db upgrade`?") from None
    finally:
        engine.dispose()
    _report(summary, output_format, rejects_path if writer.count else None)
    if summary.failed_files:
        raise typer.Exit(1)


@app.command("check")
def check_command(
    files: Annotated[list[Path], typer.Argument(help="CSV exports to check")],
    profile: ProfileOption,
    rejects: Annotated[Path | None, typer.Option(help="also write rejected rows to this CSV")] = None,
    output_format: FormatOption = OutputFormat.table,
) -> None:
    """Validate files against a profile without importing; exits 1 if any row or file would be rejected."""
    loaded = _profile(profile)
    writer = RejectsWriter(rejects) if rejects else None
    try:
        with _ProgressBar(output_format) as on_progress:
            summary = check_files(profile=loaded, paths=files, on_progress=on_progress, on_reject=writer)
    except ImportRefused as error:
        raise fail(str(error)) from None
    finally:
        if writer:
            writer.close()
    _report(summary, output_format, rejects if writer and writer.count else None)
    if summary.failed_files or summary.total("rejected"):
        raise typer.Exit(1)


@app.command("profiles")
def profiles_command(output_format: FormatOption = OutputFormat.table) -> None:
    """List the import profiles and what they read."""
    rows: list[dict[str, object]] = []
    for name in available_profiles():
        try:
            loaded = load_profile_by_name(name)
        except ProfileError as error:
            rows.append({"name": name, "version": None, "timezone": None, "description": f"unusable: {error}"})
            continue
        rows.append({"name": loaded.name, "version": loaded.version, "timezone": loaded.timezone.key,
                     "description": loaded.description})
    if output_format is OutputFormat.json:
        console.print_json(json.dumps(rows))
        return
    table = Table("profile", "version", "time zone", "description", title=f"import profiles in {profiles_dir()}")
    for row in rows:
        table.add_row(str(row["name"]), str(row["version"] or ""), str(row["timezone"] or ""),
                      str(row["description"]))
    console.print(table)


@app.command("baseline")
def baseline_command(
    batch: Annotated[str | None, typer.Option(help="an import batch label [every imported row]")] = None,
    output_format: FormatOption = OutputFormat.table,
) -> None:
    """Per-agency figures on imported history, as the program dashboard computes them."""
    from heart.errors import NotFound
    from heart.metrics.baseline import baseline_by_agency
    from heart.metrics.cli import baseline_table

    try:
        figures = baseline_by_agency(database_url=get_settings().database_url, batch=batch)
    except (InsecureSettings, ValidationError) as error:
        raise fail(str(error).splitlines()[-1]) from None
    except NotFound as error:
        raise fail(str(error)) from None
    if output_format is OutputFormat.json:
        console.print_json(json.dumps(figures))
        return
    console.print(baseline_table(figures))


def _profile(name: str) -> Profile:
    """A profile by name, or by path when the name ends in .yaml."""
    try:
        return load_profile(Path(name)) if name.endswith((".yaml", ".yml")) else load_profile_by_name(name)
    except ProfileError as error:
        raise fail(str(error)) from None


class _ProgressBar:
    """A Rich progress bar over the bytes of all files (on stderr), or nothing for JSON output."""

    def __init__(self, output_format: OutputFormat) -> None:
        self.progress: Progress | None = None
        if output_format is OutputFormat.table:
            self.progress = Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
                                     TextColumn("{task.fields[rows]:>9,} rows"), TimeRemainingColumn(),
                                     console=err, transient=False)
        self.task: TaskID | None = None

    def __enter__(self) -> Callable[[ImportProgress], None] | None:
        if self.progress is None:
            return None
        self.progress.__enter__()
        self.task = self.progress.add_task("reading", total=None, rows=0)
        return self.update

    def update(self, step: ImportProgress) -> None:
        if self.progress is not None and self.task is not None:
            self.progress.update(self.task, total=step.total_bytes, completed=step.done_bytes,
                                 description=Path(step.file).name, rows=step.rows)

    def __exit__(self, *exc: object) -> None:
        if self.progress is not None:
            self.progress.__exit__(None, None, None)


def _report(summary: ImportSummary, output_format: OutputFormat, rejects_path: Path | None) -> None:
    if output_format is OutputFormat.json:
        payload = summary.as_dict()
        payload["rejects_file"] = str(rejects_path) if rejects_path else None
        payload["rejects"] = [asdict(item) for item in summary.rejects]
        console.print_json(json.dumps(payload))
        return
    if summary.checked_only:
        table = Table("file", "read", "would import", "rejected", "problem",
                      title=f"checked with profile {summary.profile} v{summary.profile_version}")
        for item in summary.files:
            table.add_row(Path(item.file).name, f"{item.read:,}", f"{item.read - item.rejected:,}",
                          f"{item.rejected:,}", "not read (below)" if item.error else "")
        read, rejected = summary.total("read"), summary.total("rejected")
        table.add_row("[bold]total[/]", f"[bold]{read:,}[/]", f"[bold]{read - rejected:,}[/]",
                      f"[bold]{rejected:,}[/]", "")
    else:
        counts = ("read", "imported", "skipped", "rejected")
        table = Table("file", *counts, "problem",
                      title=f"batch {summary.batch} · profile {summary.profile} v{summary.profile_version}")
        for item in summary.files:
            table.add_row(Path(item.file).name, *(f"{getattr(item, c):,}" for c in counts),
                          "not read (below)" if item.error else "")
        table.add_row("[bold]total[/]", *(f"[bold]{summary.total(c):,}[/]" for c in counts), "")
    for column in table.columns[1:-1]:
        column.justify = "right"
    console.print(table)
    for item in summary.failed_files:
        console.print(f"[bold red]{item.file}[/]: {item.error}", highlight=False, soft_wrap=True)
    if summary.rejects:
        shown = Table("file", "line", "column", "value", "reason", title="rejected rows")
        for reject in summary.rejects[:REJECTS_SHOWN]:
            shown.add_row(Path(reject.file).name, str(reject.line), reject.column, reject.value, reject.reason)
        console.print(shown)
        rest = summary.total("rejected") - min(len(summary.rejects), REJECTS_SHOWN)
        if rest > 0:
            console.print(f"… and {rest:,} more rejected rows.")
    if rejects_path:
        console.print(f"every rejected row is listed in {rejects_path}")
