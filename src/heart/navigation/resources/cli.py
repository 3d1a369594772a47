"""`heart resources`: import, check and export the resource directory (Open Referral HSDS 3.0), and search it.

    heart resources import cities/durham/resources/directory
    heart resources import services.json more/datapackage.json --rejects rejected.csv
    heart resources check feed/
    heart resources export --out directory-export/
    heart resources search --need food --language es --open-now --near 35.99,-78.90 --within-km 5
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated
from zoneinfo import ZoneInfo

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn
from rich.table import Table
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError

from heart.console import OutputFormat, console, err, fail
from heart.db import utcnow

if TYPE_CHECKING:
    from heart.navigation.resources.importer import ImportSummary
    from heart.navigation.resources.records import Finding

app = typer.Typer(help="The resource directory: Open Referral HSDS 3.0 import, export and search.",
                  no_args_is_help=True)
SHOWN = 50
FormatOption = Annotated[OutputFormat, typer.Option("--format", help="table or json")]
PathsArgument = Annotated[list[Path], typer.Argument(help="HSDS data packages (folders or datapackage.json), "
                                                           "HSDS CSV files, HSDS JSON files")]


@app.command("import")
def import_command(
    paths: PathsArgument,
    rejects: Annotated[Path | None, typer.Option(help="CSV of rejected records and notes "
                                                      "[resources-YYYYMMDD-HHMMSS-rejects.csv]")] = None,
    output_format: FormatOption = OutputFormat.table,
) -> None:
    """Check every record against HSDS 3.0 and keep the good ones (re-importing updates, never doubles).
    Exits 1 if a file could not be read."""
    from heart.console import database
    from heart.navigation.resources.importer import import_directory

    now = utcnow()
    rejects_path = rejects or Path(f"resources-{now:%Y%m%d-%H%M%S}-rejects.csv")
    try:
        with _progress(output_format) as on_progress, database() as session:
            summary = import_directory(session=session, paths=paths, now=now, on_progress=on_progress)
    except IntegrityError:  # two imports adding the same new records at once: the later one wrote nothing
        raise fail("another import added some of the same records at the same moment; nothing was written, "
                   "run the import again") from None
    except (OperationalError, ProgrammingError) as error:
        reason = str(error.orig).splitlines()[0] if error.orig else type(error).__name__
        raise fail(f"the database cannot take the import ({reason}); did you run `heart db upgrade`?") from None
    written = _write_findings(rejects_path, summary)
    _report(summary, output_format, rejects_path if written else None)
    if summary.failed_files:
        raise typer.Exit(1)


@app.command("check")
def check_command(
    paths: PathsArgument,
    rejects: Annotated[Path | None, typer.Option(help="also write rejected records and notes to this CSV")] = None,
    output_format: FormatOption = OutputFormat.table,
) -> None:
    """Check files as an import would, against the data alone, writing nothing; exits 1 if anything would be
    rejected or a file could not be read."""
    from heart.navigation.resources.importer import check_directory

    with _progress(output_format) as on_progress:
        summary = check_directory(paths=paths, on_progress=on_progress)
    written = _write_findings(rejects, summary) if rejects else False
    _report(summary, output_format, rejects if written else None)
    if summary.failed_files or summary.rejects:
        raise typer.Exit(1)


@app.command("export")
def export_command(
    out: Annotated[Path, typer.Option("--out", help="folder to write the data package into")],
    with_json: Annotated[bool, typer.Option("--json/--no-json", help="also write services.json (compiled HSDS "
                                                                     "service documents)")] = True,
) -> None:
    """Write the directory as an HSDS 3.0 data package (datapackage.json + CSV) that validates."""
    from heart.console import database
    from heart.navigation.resources.exporter import export_directory

    with database() as session:
        summary = export_directory(session=session, folder=out, with_json=with_json)
    records = sum(summary.records.values())
    tail = f"; services.json holds {summary.services_documents} services" if with_json else ""
    console.print(f"{escape(str(out))}: {records:,} records in {len(summary.records)} HSDS tables "
                  f"(datapackage.json){tail}", soft_wrap=True, highlight=False)


@app.command("search")
def search_command(
    need: Annotated[str | None, typer.Option(help="one of the city's needs (see `heart resources needs`)")] = None,
    language: Annotated[str | None, typer.Option(help="ISO 639 code or name")] = None,
    open_now: Annotated[bool, typer.Option("--open-now", help="only services open now")] = False,
    near: Annotated[str | None, typer.Option(help="LAT,LON to measure distance from")] = None,
    within_km: Annotated[float | None, typer.Option(help="only this far from --near")] = None,
    age: Annotated[int | None, typer.Option(help="the person's age")] = None,
    text: Annotated[str | None, typer.Option("--text", help="words in the name or description")] = None,
    page: Annotated[int, typer.Option(min=1)] = 1,
    per_page: Annotated[int, typer.Option(min=1, max=100)] = 20,
    output_format: FormatOption = OutputFormat.table,
) -> None:
    """Search the directory as the navigator's screen does."""
    from heart.console import database, settings
    from heart.navigation.resources.needs import city_needs
    from heart.navigation.resources.schemas import ServicePage
    from heart.navigation.resources.service import Search, search_services

    config = settings()
    query = Search(need=need, language=language, open_now=open_now, near=_point(near), within_km=within_km, age=age,
                   text=text, page=page, per_page=per_page)
    with database() as session:
        results = search_services(session=session, search=query, needs=city_needs(config.resources_dir),
                                  now=utcnow(), zone=ZoneInfo(config.timezone))
        result = ServicePage.of(results)
    if output_format is OutputFormat.json:
        console.print_json(result.model_dump_json())
        return
    table = Table("service", "organization", "meets", "now", "km", "languages",
                  title=f"{result.total_items} services · page {result.page_number} of {result.total_pages}")
    for item in result.contents:
        now_words = {True: "open", False: "closed", None: "hours unknown"}[item.open_now.open]
        distance = f"{item.site.distance_km:.1f}" if item.site and item.site.distance_km is not None else ""
        table.add_row(escape(item.name), escape(item.organization_name or ""), ", ".join(item.needs), now_words,
                      distance, escape(", ".join(item.languages)))
    console.print(table)


@app.command("needs")
def needs_command(output_format: FormatOption = OutputFormat.table) -> None:
    """The needs a search can ask for, from the city's needs.yaml."""
    from heart.console import settings
    from heart.navigation.resources.needs import NEEDS_FILE, city_needs

    folder = settings().resources_dir
    needs = city_needs(folder).needs
    if output_format is OutputFormat.json:
        console.print_json(json.dumps({key: need.model_dump() for key, need in needs.items()}))
        return
    table = Table("need", "label", "also called", "HSDS terms", title=str(folder / NEEDS_FILE))
    for key, need in needs.items():
        terms = "; ".join(" ".join(f"{k}={v}" for k, v in term.model_dump(exclude_none=True).items())
                          for term in need.terms)
        table.add_row(key, need.label, ", ".join(need.also_called), terms)
    console.print(table)


def _point(text: str | None) -> tuple[float, float] | None:
    if not text:
        return None
    try:
        lat, lon = (float(part) for part in text.split(","))
    except ValueError:
        raise fail(f"--near must be LAT,LON (e.g. 35.99,-78.90), not {text!r}") from None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise fail("--near is not a point on the globe (latitude −90…90, longitude −180…180)")
    return lat, lon


@contextmanager
def _progress(output_format: OutputFormat) -> Iterator[Callable[[str, int, int], None] | None]:
    """A Rich progress bar on stderr (none for JSON output)."""
    if output_format is OutputFormat.json:
        yield None
        return
    tasks: dict[str, TaskID] = {}
    with Progress(TextColumn("{task.description:>9}"), BarColumn(), MofNCompleteColumn(), console=err,
                  transient=False) as progress:
        def update(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = progress.add_task(stage, total=total)
            progress.update(tasks[stage], completed=done, total=total)

        yield update


def _write_findings(path: Path, summary: ImportSummary) -> bool:
    """Rejects and notes into one CSV (created only when there is something to say)."""
    from heart.navigation.resources.records import FINDING_COLUMNS

    if not summary.rejects and not summary.notes and not summary.failed_files:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["outcome", *FINDING_COLUMNS])
        for file, error in summary.failed_files.items():
            writer.writerow(["file not read", file, "", "", "", "", "", "", error])
        for finding in summary.rejects:
            writer.writerow(["rejected", *finding.as_row()])
        for finding in summary.notes:
            writer.writerow(["kept, note", *finding.as_row()])
    return True


def _report(summary: ImportSummary, output_format: OutputFormat, findings_path: Path | None) -> None:
    from heart.navigation.resources.importer import COUNTS
    from heart.navigation.resources.records import FINDING_COLUMNS

    if output_format is OutputFormat.json:
        payload = summary.as_dict()
        payload["rejects_file"] = str(findings_path) if findings_path else None
        payload["rejected"] = [dict(zip(FINDING_COLUMNS, f.as_row(), strict=True)) for f in summary.rejects]
        payload["noted"] = [dict(zip(FINDING_COLUMNS, f.as_row(), strict=True)) for f in summary.notes]
        console.print_json(json.dumps(payload))
        return
    kept = "would keep" if summary.checked_only else "added"
    names = [kept if name == "added" else name for name in COUNTS]
    title = "checked (nothing written)" if summary.checked_only else f"import #{summary.import_id}"
    table = Table("file", "table", *names, title=title)
    for column in table.columns[2:]:
        column.justify = "right"
    for (file, name), counts in summary.counts.items():
        table.add_row(escape(Path(file).name), name or "?", *(f"{getattr(counts, c):,}" for c in COUNTS))
    table.add_row("[bold]total[/]", "", *(f"[bold]{summary.total(c):,}[/]" for c in COUNTS))
    console.print(table)
    for file, error in summary.failed_files.items():
        console.print(f"[bold red]{escape(file)}[/]: {escape(error)}", highlight=False, soft_wrap=True)
    _findings("rejected records", summary.rejects)
    _findings("notes on kept records and files", summary.notes)
    if findings_path:
        console.print(f"every rejected record and note is listed in {escape(str(findings_path))}", soft_wrap=True,
                      highlight=False)


def _findings(title: str, findings: list[Finding]) -> None:
    if not findings:
        return
    table = Table("file", "line", "where", "table", "field", "value", "why", title=title)
    for item in findings[:SHOWN]:
        table.add_row(*(escape(cell) for cell in (Path(item.file).name, "" if item.line is None else str(item.line),
                                                  item.where, item.table, item.field, item.value, item.reason)))
    console.print(table)
    if len(findings) > SHOWN:
        console.print(f"… and {len(findings) - SHOWN:,} more {title}.")

