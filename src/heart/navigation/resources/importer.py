"""Import HSDS 3.0 data into the directory: every record checked, the good ones kept, upserted by HSDS id.

A record is rejected, with every reason (file, line, JSON pointer, field, value, why), when it breaks the
published HSDS 3.0 schema (see ``hsds.check_record``), repeats an id of its table with other values, or depends on
a record rejected in the same import that the directory does not already hold (a schedule of a rejected
service). Everything else is kept: a record already in the directory is updated (or left alone when nothing
changed), a new one is added, so importing the same data twice changes nothing. Records that later imports leave
out are kept (retire a service with HSDS's own ``status``). Kept records can carry notes: a reference to a record
neither imported nor in the directory (HSDS packages may be partial), coordinates outside the globe, a schedule
HEART cannot place in time. One transaction: an import that fails half-way writes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

from sqlalchemy import Table as SqlTable
from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from heart.events import record_event
from heart.navigation.resources.hsds import HIERARCHY_FIELDS, REFERENCES, Problem, check_record, tables
from heart.navigation.resources.models import MODELS, DirectoryImport
from heart.navigation.resources.reading import read_inputs
from heart.navigation.resources.records import Candidate, Finding, Reading, shown
from heart.navigation.resources.schedules import unusable_reason

CHUNK = 500
COUNTS = ("read", "added", "updated", "unchanged", "rejected")
ProgressCallback = Callable[[str, int, int], None]  # stage ("checking", "writing"), done, total


@dataclass
class Counts:
    read: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0


@dataclass
class ImportSummary:
    """What became of every record of one import (or check): counts per file and table, rejects, notes."""

    checked_only: bool
    files: list[str] = field(default_factory=list)
    failed_files: dict[str, str] = field(default_factory=dict)
    counts: dict[tuple[str, str], Counts] = field(default_factory=dict)
    rejects: list[Finding] = field(default_factory=list)
    notes: list[Finding] = field(default_factory=list)
    import_id: int | None = None

    def count(self, file: str, table: str) -> Counts:
        return self.counts.setdefault((file, table), Counts())

    def total(self, name: str, table: str | None = None) -> int:
        """One count summed over files (and tables, unless ``table`` is given)."""
        return sum(getattr(counts, name) for (_, each), counts in self.counts.items() if table in (None, each))

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready counts (the findings themselves are listed separately)."""
        return {
            "checked_only": self.checked_only,
            "files": [{"file": file, "table": table, **{name: getattr(counts, name) for name in COUNTS}}
                      for (file, table), counts in self.counts.items()],
            "failed_files": [{"file": file, "error": error} for file, error in self.failed_files.items()],
            "totals": {name: self.total(name) for name in COUNTS},
            "rejects": len(self.rejects), "notes": len(self.notes),
        }  # fmt: skip


def check_directory(*, paths: Sequence[Path], on_progress: ProgressCallback | None = None) -> ImportSummary:
    """Read and check ``paths`` as an import would, against the data alone; writes nothing."""
    reading = read_inputs(list(paths))
    summary = _summary(reading, checked_only=True)
    kept = _decide(reading, summary, None, on_progress)
    for candidate in kept:
        summary.count(candidate.source.file, candidate.table).added += 1
    return summary


def import_directory(
    *,
    session: Session,
    paths: Sequence[Path],
    now: datetime,
    actor_id: int | None = None,
    on_progress: ProgressCallback | None = None,
) -> ImportSummary:
    """Import ``paths`` in the caller's transaction; see the module docstring."""
    reading = read_inputs(list(paths))
    summary = _summary(reading, checked_only=False)
    kept = _decide(reading, summary, session, on_progress)
    _write(session, kept, summary, on_progress)
    run = DirectoryImport(at=now, source=", ".join(summary.files)[:2000], summary=summary.as_dict())
    session.add(run)
    session.flush()
    summary.import_id = run.id
    record_event(session=session, kind="resources.imported", subject_type="resource_import", subject_id=run.id,
                 at=now, actor_id=actor_id, after={"files": len(summary.files), **summary.as_dict()["totals"]})
    return summary


def _summary(reading: Reading, *, checked_only: bool) -> ImportSummary:
    summary = ImportSummary(checked_only=checked_only, files=list(reading.files),
                            failed_files=dict(reading.failed_files), notes=list(reading.notes))
    for candidate in reading.candidates:
        summary.count(candidate.source.file, candidate.table).read += 1
    return summary


def _decide(reading: Reading, summary: ImportSummary, session: Session | None,
            on_progress: ProgressCallback | None) -> list[Candidate]:
    """The candidates to keep; every other one is counted and reported as rejected."""
    rejected: dict[tuple[str, str], Candidate] = {}

    def reject(candidate: Candidate, problems: list[Problem]) -> None:
        summary.count(candidate.source.file, candidate.table).rejected += 1
        summary.rejects.extend(_finding(candidate, problem) for problem in problems)
        rejected.setdefault((candidate.table, candidate.id), candidate)

    kept: dict[tuple[str, str], Candidate] = {}
    total = len(reading.candidates)
    for done, candidate in enumerate(reading.candidates, start=1):
        problems = candidate.problems + (check_record(candidate.table, candidate.record) if candidate.table else [])
        if problems:
            reject(candidate, problems)
        elif (first := kept.get((candidate.table, candidate.id))) is None:
            kept[(candidate.table, candidate.id)] = candidate
        elif first.record == candidate.record:
            summary.count(candidate.source.file, candidate.table).unchanged += 1
        else:
            reject(candidate, [Problem("id", f"repeats the {candidate.table} at {_place(first)} with other values",
                                       candidate.id)])
        if on_progress and (done % 200 == 0 or done == total):
            on_progress("checking", done, total)
    held = _held(session, {key for key in rejected if key not in kept})
    blocked = {key: candidate for key, candidate in rejected.items() if key not in kept and key not in held}
    while blocked:  # a record whose parent was rejected (and is not already in the directory) goes too
        newly: dict[tuple[str, str], Candidate] = {}
        for key, candidate in list(kept.items()):
            for field_name, target in _references(candidate):
                parent = blocked.get(target)
                if parent is not None:
                    del kept[key]
                    reject(candidate, [Problem(field_name, f"its {target[0]} was rejected ({_place(parent)})",
                                               target[1])])
                    newly[key] = candidate
                    break
        blocked = newly
    _note_kept(list(kept.values()), summary, session)
    return list(kept.values())


def _references(candidate: Candidate) -> Iterator[tuple[str, tuple[str, str]]]:
    """(field, (table, id)) for each record ``candidate`` depends on (hierarchies excluded)."""
    record = candidate.record
    for field_name, value in record.items():
        if field_name in REFERENCES and field_name not in HIERARCHY_FIELDS and isinstance(value, str):
            yield field_name, (REFERENCES[field_name], value)
    for field_name, kind in (("link_id", "link_entity"), ("resource_id", "resource_type")):
        if isinstance(record.get(field_name), str) and record.get(kind) in tables():
            yield field_name, (record[kind], record[field_name])


def _held(session: Session | None, keys: set[tuple[str, str]]) -> set[tuple[str, str]]:
    """Which of ``keys`` (table, id) the directory already holds."""
    if session is None or not keys:
        return set()
    found: set[tuple[str, str]] = set()
    by_table: dict[str, list[str]] = {}
    for table, ident in keys:
        if table in MODELS:
            by_table.setdefault(table, []).append(ident)
    for table, idents in by_table.items():
        model_table = cast(SqlTable, MODELS[table].__table__)
        for start in range(0, len(idents), CHUNK):
            chunk = idents[start:start + CHUNK]
            found |= {(table, ident) for ident in session.scalars(select(model_table.c.id).where(
                model_table.c.id.in_(chunk)))}
    return found


def _note_kept(kept: list[Candidate], summary: ImportSummary, session: Session | None) -> None:
    present = {(candidate.table, candidate.id) for candidate in kept}
    wanted = {target for candidate in kept for _, target in _all_references(candidate)} - present
    held = _held(session, wanted)
    elsewhere = "this import or the directory" if session is not None else "this import"
    for candidate in kept:
        for field_name, target in _all_references(candidate):
            if target not in present and target not in held:
                summary.notes.append(_finding(candidate, Problem(
                    field_name, f"no {target[0]} with this id is in {elsewhere}; kept", target[1])))
        if candidate.table == "location":
            summary.notes.extend(_finding(candidate, problem) for problem in _position_problems(candidate.record))
        if candidate.table == "schedule":
            reason = unusable_reason(cast(Any, SimpleNamespace(**_columns("schedule", candidate.record))))
            if reason:
                summary.notes.append(_finding(candidate, Problem("", f"kept, but never counts as open now: {reason}")))


def _all_references(candidate: Candidate) -> Iterator[tuple[str, tuple[str, str]]]:
    yield from _references(candidate)
    for field_name in HIERARCHY_FIELDS:
        value = candidate.record.get(field_name)
        if isinstance(value, str):
            yield field_name, (REFERENCES[field_name], value)


def _position_problems(record: dict[str, Any]) -> list[Problem]:
    latitude, longitude = record.get("latitude"), record.get("longitude")
    problems = []
    if latitude is not None and not -90 <= latitude <= 90:
        problems.append(Problem("latitude", f"{latitude} is outside −90…90: kept, but left out of distance "
                                            "searches", latitude))
    if longitude is not None and not -180 <= longitude <= 180:
        problems.append(Problem("longitude", f"{longitude} is outside −180…180: kept, but left out of distance "
                                             "searches", longitude))
    if (latitude is None) != (longitude is None):
        problems.append(Problem("latitude" if latitude is None else "longitude",
                                "only one coordinate is given: kept, but left out of distance searches"))
    return problems


def _finding(candidate: Candidate, problem: Problem) -> Finding:
    source = candidate.source
    value = problem.value if problem.value is not None else (
        candidate.record.get(problem.field) if problem.field else None)
    return Finding(source.file, source.line, source.where, candidate.table, candidate.id, problem.field,
                   shown(value), problem.reason)


def _place(candidate: Candidate) -> str:
    source = candidate.source
    where = Path(source.file).name + (f" line {source.line}" if source.line else "")
    return where + (f" {source.where}" if source.where else "")


# --- writing -------------------------------------------------------------------------------------------------

def _columns(table: str, record: dict[str, Any]) -> dict[str, Any]:
    """A checked record as the values of its table's columns (absent fields are NULL)."""
    values: dict[str, Any] = {}
    for spec in tables()[table].fields:
        value = record.get(spec.name)
        if value is None:
            values[spec.name] = None
        elif spec.type == "number":
            values[spec.name] = float(value)
        elif spec.datapackage_type == "date":
            values[spec.name] = date.fromisoformat(value)
        elif spec.datapackage_type == "datetime":
            moment = datetime.fromisoformat(value)
            values[spec.name] = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
        else:
            values[spec.name] = value
    return values


def _write(session: Session, kept: list[Candidate], summary: ImportSummary,
           on_progress: ProgressCallback | None) -> None:
    done, total = 0, len(kept)
    for name in tables():
        of_table = [candidate for candidate in kept if candidate.table == name]
        model_table = cast(SqlTable, MODELS[name].__table__)
        for start in range(0, len(of_table), CHUNK):
            chunk = of_table[start:start + CHUNK]
            values = {candidate.id: _columns(name, candidate.record) for candidate in chunk}
            existing = {row["id"]: dict(row) for row in session.execute(
                select(model_table).where(model_table.c.id.in_(list(values)))).mappings()}
            new = [row for ident, row in values.items() if ident not in existing]
            changed = [{**row, "_id": ident} for ident, row in values.items()
                       if ident in existing and existing[ident] != row]
            if new:
                session.execute(insert(model_table), new)
            if changed:
                columns: dict[str, Any] = {column: bindparam(column) for column in changed[0]
                                           if column not in ("_id", "id")}
                session.execute(update(model_table).where(model_table.c.id == bindparam("_id")).values(columns),
                                changed)
            for candidate in chunk:
                counts = summary.count(candidate.source.file, name)
                if candidate.id not in existing:
                    counts.added += 1
                elif existing[candidate.id] != values[candidate.id]:
                    counts.updated += 1
                else:
                    counts.unchanged += 1
            done += len(chunk)
            if on_progress:
                on_progress("writing", done, total)


DEMO_DIRECTORY = "directory"


def import_demo_directory(*, session: Session, resources_dir: Path, now: datetime) -> ImportSummary | None:
    """Load the city's demo directory (``<resources_dir>/directory``), if it has one."""
    folder = resources_dir / DEMO_DIRECTORY
    if not (folder / "datapackage.json").is_file():
        return None
    return import_directory(session=session, paths=[folder], now=now)
