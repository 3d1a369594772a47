"""Import CAD history through a profile: streamed, committed in chunks, idempotent.

Each file is read row by row; good rows are inserted in chunks (one transaction each) with
``INSERT … ON CONFLICT (profile, row_key) DO NOTHING``, so importing a file twice adds nothing and a file
that breaks half-way keeps everything before the break. A bad row is rejected (file, line, column, value,
reason) and the import goes on; a file HEART cannot read at all (missing, empty, the wrong profile's
columns) is reported and the next file is imported.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO, cast

from sqlalchemy import Connection, Engine, Table, select

from heart.calls.cad.parse import REJECT_COLUMNS, MissingColumns, Reject, RowError, RowParser, shown
from heart.calls.cad.profiles import Profile
from heart.calls.models import CadRecord, ImportBatch
from heart.crosswalk.mapper import CrosswalkNotFound, NatureCodeMapper, nature_mapper
from heart.db import insert_many_if_absent, make_sessionmaker, transaction
from heart.errors import DomainError
from heart.events import record_event

CHUNK_ROWS = 5_000
KEPT_REJECTS = 1_000  # rejects kept in memory for the summary; all of them go to on_reject


class ImportRefused(DomainError):
    """The import cannot start (a batch label taken by another profile, an unknown crosswalk)."""


@dataclass
class FileSummary:
    """What happened to one file. ``skipped`` rows were already imported (by this or an earlier batch)."""

    file: str
    read: int = 0
    imported: int = 0
    skipped: int = 0
    rejected: int = 0
    error: str | None = None


@dataclass
class ImportSummary:
    """What happened to every file of one import (or check) run."""

    batch: str | None
    profile: str
    profile_version: int
    checked_only: bool
    files: list[FileSummary] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)  # the first KEPT_REJECTS

    def total(self, name: str) -> int:
        """The sum of one count (read, imported, skipped, rejected) over the files."""
        return sum(int(getattr(item, name)) for item in self.files)

    @property
    def failed_files(self) -> list[FileSummary]:
        return [item for item in self.files if item.error]

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: counts per file and in total (rejects are in the rejects file)."""
        counts = ("read", "imported", "skipped", "rejected")
        return {
            "batch": self.batch, "profile": self.profile, "profile_version": self.profile_version,
            "checked_only": self.checked_only,
            "files": [{"file": f.file, **{c: getattr(f, c) for c in counts}, "error": f.error} for f in self.files],
            "totals": {c: self.total(c) for c in counts},
        }  # fmt: skip


@dataclass(frozen=True, slots=True)
class Progress:
    """How far an import has gone, for a progress bar (bytes and rows over all files so far)."""

    file: str
    done_bytes: int
    total_bytes: int
    rows: int


ProgressCallback = Callable[[Progress], None]
RejectCallback = Callable[[Reject], None]


def import_files(
    *,
    engine: Engine,
    profile: Profile,
    paths: Sequence[Path],
    batch_label: str,
    now: datetime,
    on_progress: ProgressCallback | None = None,
    on_reject: RejectCallback | None = None,
    chunk_rows: int = CHUNK_ROWS,
    mapper: NatureCodeMapper | None = None,
) -> ImportSummary:
    """Import ``paths`` into batch ``batch_label`` (created if new); see the module docstring."""
    mapper = mapper or _mapper(profile)
    batch_id = _open_batch(engine, batch_label, profile, now)
    summary = ImportSummary(batch_label, profile.name, profile.version, checked_only=False)
    insert = _chunk_inserter(engine)
    try:
        for chunk, file_summary in _read_all(profile, paths, summary, mapper, on_progress, on_reject, chunk_rows):
            for record in chunk:
                record["batch_id"] = batch_id
            with engine.begin() as connection:
                file_summary.imported += insert(connection, chunk)
    finally:
        for item in summary.files:
            item.skipped = item.read - item.rejected - item.imported
        _record_run(engine, batch_id, summary, now)
    return summary


def check_files(
    *,
    profile: Profile,
    paths: Sequence[Path],
    on_progress: ProgressCallback | None = None,
    on_reject: RejectCallback | None = None,
    mapper: NatureCodeMapper | None = None,
) -> ImportSummary:
    """Read and validate ``paths`` exactly as an import would, writing nothing."""
    summary = ImportSummary(None, profile.name, profile.version, checked_only=True)
    for _chunk, _file in _read_all(profile, paths, summary, mapper or _mapper(profile), on_progress, on_reject,
                                   CHUNK_ROWS):
        pass
    return summary


def _mapper(profile: Profile) -> NatureCodeMapper:
    try:
        return nature_mapper(crosswalk=profile.crosswalk)
    except (CrosswalkNotFound, ValueError) as error:
        raise ImportRefused(f"profile {profile.name}: {error}") from None


def _read_all(
    profile: Profile,
    paths: Sequence[Path],
    summary: ImportSummary,
    mapper: NatureCodeMapper,
    on_progress: ProgressCallback | None,
    on_reject: RejectCallback | None,
    chunk_rows: int,
) -> Iterator[tuple[list[dict[str, Any]], FileSummary]]:
    sizes = [path.stat().st_size if path.is_file() else 0 for path in paths]
    total, offset, rows_before = sum(sizes), 0, 0
    for path, size in zip(paths, sizes, strict=True):
        file_summary = FileSummary(str(path))
        summary.files.append(file_summary)

        def reject(item: Reject, file_summary: FileSummary = file_summary) -> None:
            file_summary.rejected += 1
            if len(summary.rejects) < KEPT_REJECTS:
                summary.rejects.append(item)
            if on_reject:
                on_reject(item)

        def progress(done: int, rows: int, path: Path = path, offset: int = offset, size: int = size,
                     rows_before: int = rows_before) -> None:
            if on_progress:
                on_progress(Progress(str(path), offset + min(done, size), total, rows_before + rows))

        reader = _FileReader(path, profile, mapper, file_summary, reject, progress, chunk_rows)
        for chunk in reader.chunks():
            yield chunk, file_summary
        progress(size, file_summary.read)
        offset += size
        rows_before += file_summary.read


class _FileReader:
    """Reads one CSV file into chunks of records; every problem becomes a Reject or the file's error."""

    def __init__(
        self,
        path: Path,
        profile: Profile,
        mapper: NatureCodeMapper,
        summary: FileSummary,
        reject: RejectCallback,
        progress: Callable[[int, int], None],
        chunk_rows: int,
    ) -> None:
        self.path, self.profile, self.mapper, self.summary = path, profile, mapper, summary
        self.reject, self.progress, self.chunk_rows = reject, progress, chunk_rows

    def chunks(self) -> Iterator[list[dict[str, Any]]]:
        try:
            raw = self.path.open("rb")
        except OSError as error:
            self.summary.error = f"cannot be read ({error.strerror})"
            return
        with raw:
            # surrogateescape: a stray non-UTF-8 byte rejects its row instead of stopping the file
            text = io.TextIOWrapper(raw, encoding=self.profile.encoding, errors="surrogateescape", newline="")
            yield from self._rows(csv.reader(text, delimiter=self.profile.delimiter), raw)

    def _rows(self, reader: Any, raw: Any) -> Iterator[list[dict[str, Any]]]:
        name, summary = self.path.name, self.summary
        try:
            header = next(reader)
            parser = RowParser(self.profile, header, mapper=self.mapper)
        except StopIteration:
            summary.error = "the file is empty (no header line)"
            return
        except (MissingColumns, csv.Error) as error:
            summary.error = f"line 1: {error}"
            return
        chunk: list[dict[str, Any]] = []
        last_line = reader.line_num
        while True:
            try:
                row = next(reader)
            except StopIteration:
                break
            except csv.Error as error:  # e.g. a NUL byte; the reader resumes on the next line
                summary.read += 1
                self.reject(Reject(str(self.path), last_line + 1, "", "", f"unreadable CSV ({error})"))
                if reader.line_num == last_line:
                    break
                last_line = reader.line_num
                continue
            line, last_line = last_line + 1, reader.line_num
            if not row:  # a blank line
                continue
            summary.read += 1
            try:
                record = parser.parse(row)
            except RowError as error:
                self.reject(Reject(str(self.path), line, error.column, shown(_printable(error.value)), error.reason))
                continue
            record["profile"], record["source_file"], record["source_line"] = self.profile.name, name, line
            chunk.append(record)
            if len(chunk) >= self.chunk_rows:
                yield chunk
                chunk = []
                self.progress(raw.tell(), summary.read)
        if chunk:
            yield chunk


def _printable(value: str) -> str:
    return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace").replace("\x00", "\\0")


def _chunk_inserter(engine: Engine) -> Callable[[Connection, list[dict[str, Any]]], int]:
    """A function inserting one chunk and answering how many rows were new (the rest were known already)."""
    if engine.dialect.name not in ("sqlite", "postgresql"):
        raise ImportRefused(f"CAD import supports SQLite and PostgreSQL, not {engine.dialect.name}")
    table = cast(Table, CadRecord.__table__)
    return lambda connection, chunk: insert_many_if_absent(connection, table, chunk, unique=("profile", "row_key"))


def _open_batch(engine: Engine, label: str, profile: Profile, now: datetime) -> int:
    """The id of batch ``label``, created if new; a label already used by another profile is refused."""
    if not label or len(label) > 64:
        raise ImportRefused("a batch label must be 1 to 64 characters")
    with transaction(make_sessionmaker(engine)) as session:
        batch = session.scalar(select(ImportBatch).where(ImportBatch.label == label))
        if batch is not None:
            if batch.profile != profile.name:
                raise ImportRefused(f"batch {label!r} holds {batch.profile} rows; choose another label")
            return batch.id
        batch = ImportBatch(label=label, profile=profile.name, profile_version=profile.version, created_at=now,
                            summary={"runs": []})
        session.add(batch)
        session.flush()
        return batch.id


def _record_run(engine: Engine, batch_id: int, summary: ImportSummary, now: datetime) -> None:
    """Append this run's counts to the batch and to the event log (counts and file names only)."""
    run = {"at": now.isoformat(), **summary.as_dict()}
    with transaction(make_sessionmaker(engine)) as session:
        batch = session.get(ImportBatch, batch_id)
        if batch is None:
            return
        batch.summary = {**(batch.summary or {}), "runs": [*(batch.summary or {}).get("runs", []), run]}
        record_event(session=session, kind="cad.imported", subject_type="import_batch", subject_id=batch_id,
                     at=now, actor_id=None, after={"profile": summary.profile, "files": len(summary.files),
                                                   **{k: v for k, v in run["totals"].items()}})


class RejectsWriter:
    """Writes rejects to a CSV file, created only when the first reject arrives."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.count = 0
        self._handle: TextIO | None = None
        self._writer: Any = None

    def __call__(self, item: Reject) -> None:
        if self._handle is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._handle = self.path.open("w", newline="", encoding="utf-8")
            self._writer = csv.writer(self._handle)
            self._writer.writerow(REJECT_COLUMNS)
        self._writer.writerow(item.as_row())
        self.count += 1

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()

    def __enter__(self) -> RejectsWriter:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
