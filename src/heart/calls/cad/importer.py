"""Import CAD history through a profile: streamed, converted a column at a time, committed in chunks, idempotent.

Each file is read a block at a time and its columns converted at once (``heart.calls.cad.columns``); good rows
are written in chunks (one transaction each) — on SQLite one ``executemany`` of
``INSERT … ON CONFLICT (profile, row_key) DO NOTHING``, on PostgreSQL one ``COPY`` of the rows whose key is not
stored yet — so importing a file twice adds nothing and a file that breaks half-way keeps everything before the
break. A bad row is rejected (file, line, column, value, reason) and the import goes on; a file HEART cannot read
at all (missing, empty, the wrong profile's columns) is reported and the next file is imported. One event per run
(``cad.imported``) records the counts; imported history is not calls, so no call is created or decided again.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import repeat
from pathlib import Path
from typing import Any, BinaryIO, TextIO

import pyarrow as pa
import pyarrow.compute as pc
from psycopg.errors import UniqueViolation
from pyarrow import csv as pacsv
from sqlalchemy import Connection, Engine, select

from heart.calls.cad.columns import (
    BLOCK_BYTES,
    BlockReader,
    EmptyFile,
    Legacy,
    is_utf8,
    legacy_rows,
    output_schema,
    prefetched,
    read_header,
    records_table,
)
from heart.calls.cad.parse import REJECT_COLUMNS, MissingColumns, Reject, RowParser
from heart.calls.cad.profiles import Profile
from heart.calls.models import ImportBatch
from heart.crosswalk.mapper import CrosswalkNotFound, NatureCodeMapper, nature_mapper
from heart.db import make_sessionmaker, transaction
from heart.errors import DomainError
from heart.events import record_event

CHUNK_ROWS = 100_000  # rows per transaction
SQLITE_SLICE_ROWS = 10_000  # rows turned into Python tuples at a time
LEGACY_PIECE_ROWS = 5_000  # rows the row-by-row reader hands on at a time
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
    block_bytes: int = BLOCK_BYTES,
) -> ImportSummary:
    """Import ``paths`` into batch ``batch_label`` (created if new); see the module docstring."""
    mapper = mapper or _mapper(profile)
    if engine.dialect.name not in ("sqlite", "postgresql"):
        raise ImportRefused(f"CAD import supports SQLite and PostgreSQL, not {engine.dialect.name}")
    batch_id = _open_batch(engine, batch_label, profile, now)
    summary = ImportSummary(batch_label, profile.name, profile.version, checked_only=False)
    insert = _chunk_inserter(engine, batch_id)
    try:
        for chunk, file_summary in _read_all(profile, paths, summary, mapper, on_progress, on_reject, chunk_rows,
                                             block_bytes):
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
                                   CHUNK_ROWS, BLOCK_BYTES):
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
    block_bytes: int,
) -> Iterator[tuple[pa.Table, FileSummary]]:
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

        reader = _FileReader(path, profile, mapper, file_summary, reject, progress, chunk_rows, block_bytes)
        for chunk in reader.chunks():
            yield chunk, file_summary
        progress(size, file_summary.read)
        offset += size
        rows_before += file_summary.read


class _FileReader:
    """Reads one CSV file into chunks of records (Arrow tables); every problem becomes a Reject or the file's error.

    UTF-8 files are read a block at a time and converted a column at a time (``heart.calls.cad.columns``); other
    encodings, and the rest of a file from a block the column-wise reader should not cut, row by row.
    """

    def __init__(
        self,
        path: Path,
        profile: Profile,
        mapper: NatureCodeMapper,
        summary: FileSummary,
        reject: RejectCallback,
        progress: Callable[[int, int], None],
        chunk_rows: int,
        block_bytes: int,
    ) -> None:
        self.path, self.profile, self.mapper, self.summary = path, profile, mapper, summary
        self.reject, self.progress, self.chunk_rows = reject, progress, chunk_rows
        self.block_bytes = block_bytes
        self.schema = output_schema(profile, mapped=True)
        self._pending: list[pa.Table] = []
        self._pending_rows = 0

    def chunks(self) -> Iterator[pa.Table]:
        try:
            raw = self.path.open("rb")
        except OSError as error:
            self.summary.error = f"cannot be read ({error.strerror})"
            return
        with raw:
            yield from self._read(raw)
            if self._pending:
                yield self._take()

    def _header_failed(self, error: Exception) -> None:
        """The file's own error when its header cannot be read (column-wise or by the row parser alike)."""
        empty = isinstance(error, (EmptyFile, StopIteration))
        self.summary.error = "the file is empty (no header line)" if empty else f"line 1: {error}"

    def _read(self, raw: BinaryIO) -> Iterator[pa.Table]:
        name, file = self.path.name, str(self.path)
        parser: RowParser | None = None
        offset, line = 0, 0
        if is_utf8(self.profile):
            try:
                parser, offset, line = read_header(raw, self.profile, self.mapper)
            except (EmptyFile, MissingColumns, csv.Error) as error:
                self._header_failed(error)
                return
            except Legacy:
                parser = None
            if parser is not None:
                reader = BlockReader(raw, parser, file=file, name=name, offset=offset, line=line,
                                     schema=self.schema, block_bytes=self.block_bytes)
                try:
                    done = offset
                    for block in prefetched(reader.blocks()):
                        yield from self._pieces(block.table, block.rejects, block.rows, done, block.end_offset)
                        done = block.end_offset
                    return
                except Legacy as switch:
                    offset, line = switch.offset, switch.line
        raw.seek(offset)
        encoding = self.profile.encoding if offset == 0 else "utf-8"  # past the header: no byte-order mark
        # surrogateescape: a stray non-UTF-8 byte rejects its row instead of stopping the file
        text = io.TextIOWrapper(raw, encoding=encoding, errors="surrogateescape", newline="")
        rows = csv.reader(text, delimiter=self.profile.delimiter)
        if parser is None:
            try:
                header = next(rows)
                parser = RowParser(self.profile, header, mapper=self.mapper)
            except (StopIteration, MissingColumns, csv.Error) as error:
                self._header_failed(error)
                return
            line_base = 0
        else:
            line_base = line - 1
        read = [0]

        def counted() -> None:
            read[0] += 1

        records: list[dict[str, Any]] = []
        positions: list[int] = []
        rejects: list[tuple[int, Reject]] = []
        before = 0
        for item in legacy_rows(rows, parser, file=file, name=name, line_base=line_base, on_row=counted):
            if isinstance(item, Reject):
                rejects.append((read[0] - 1 - before, item))
            else:
                records.append(item)
                positions.append(read[0] - 1 - before)
            if read[0] - before >= LEGACY_PIECE_ROWS:
                yield from self._legacy_piece(records, positions, rejects, read[0] - before, raw)
                records, positions, rejects, before = [], [], [], read[0]
        yield from self._legacy_piece(records, positions, rejects, read[0] - before, raw)

    def _legacy_piece(self, records: list[dict[str, Any]], positions: list[int], rejects: list[tuple[int, Reject]],
                      rows: int, raw: BinaryIO) -> Iterator[pa.Table]:
        table = records_table(records, self.schema).append_column("_at", pa.array(positions, pa.int64()))
        done = raw.tell()
        yield from self._pieces(table, rejects, rows, done, done)

    def _pieces(self, table: pa.Table, rejects: list[tuple[int, Reject]], rows: int, start: int,
                end: int) -> Iterator[pa.Table]:
        """Chunks of ``chunk_rows`` records from a piece of the file; rows are counted read, and rejects passed on,
        as the chunks that hold the rows after them are handed out."""
        at = table["_at"].to_numpy()
        counted, shown_rejects, taken = 0, 0, 0

        def account(through: int) -> None:
            nonlocal counted, shown_rejects
            while shown_rejects < len(rejects) and rejects[shown_rejects][0] < through:
                self.reject(rejects[shown_rejects][1])
                shown_rejects += 1
            self.summary.read += through - counted
            counted = through

        while taken < table.num_rows:
            part = table.slice(taken, self.chunk_rows - self._pending_rows)
            taken += part.num_rows
            self._pending.append(part)
            self._pending_rows += part.num_rows
            if self._pending_rows >= self.chunk_rows:
                through = int(at[taken - 1]) + 1
                account(through)
                yield self._take()
                self.progress(start + (end - start) * through // max(rows, 1), self.summary.read)
        account(rows)

    def _take(self) -> pa.Table:
        chunk = pa.concat_tables(self._pending) if len(self._pending) > 1 else self._pending[0]
        self._pending, self._pending_rows = [], 0
        return chunk.drop_columns(["_at"])


def _chunk_inserter(engine: Engine, batch_id: int) -> Callable[[Connection, pa.Table], int]:
    """A function inserting one chunk and answering how many rows were new (the rest were known already)."""
    if engine.dialect.name == "sqlite":
        return lambda connection, chunk: _insert_sqlite(connection, chunk, batch_id)
    if engine.dialect.name == "postgresql":
        return lambda connection, chunk: _insert_postgres(connection, chunk, batch_id)
    raise ImportRefused(f"CAD import supports SQLite and PostgreSQL, not {engine.dialect.name}")


_CONSTANT = ("profile", "source_file")  # one value per chunk (a chunk is one file's rows)


def _insert_sqlite(connection: Connection, chunk: pa.Table, batch_id: int) -> int:
    """``executemany`` of plain tuples, ``ON CONFLICT DO NOTHING``; times as SQLAlchemy's SQLite DATETIME writes
    them (naive UTC 'YYYY-MM-DD HH:MM:SS.ffffff', so the ORM reads them back unchanged)."""
    if not chunk.num_rows:
        return 0
    names = chunk.column_names
    sql = (f"INSERT INTO cad_records (batch_id, {', '.join(names)}) VALUES ({', '.join('?' * (len(names) + 1))}) "
           "ON CONFLICT (profile, row_key) DO NOTHING")
    driver = connection.connection.driver_connection
    assert driver is not None
    cursor = driver.cursor()
    inserted = 0
    try:
        # Keys that are hashes land all over the unique index: give it room in memory (64 MB).
        cursor.execute("PRAGMA cache_size = -65536")
        for start in range(0, chunk.num_rows, SQLITE_SLICE_ROWS):  # Python's tuples for a slice at a time
            part = chunk.slice(start, SQLITE_SLICE_ROWS)
            columns: list[Iterable[Any]] = []
            for name in names:
                values = part[name]
                if name in _CONSTANT:
                    columns.append(repeat(values[0].as_py()))
                    continue
                if pa.types.is_timestamp(values.type):
                    values = values.cast(pa.string())  # YYYY-MM-DD HH:MM:SS.ffffff
                columns.append(values.to_pylist())
            cursor.executemany(sql, zip(repeat(batch_id, part.num_rows), *columns, strict=False))  # constants repeat
            inserted += cursor.rowcount  # sqlite3 sums executemany's rowcounts
        return inserted
    finally:
        cursor.close()


def _insert_postgres(connection: Connection, chunk: pa.Table, batch_id: int) -> int:
    """``COPY`` of the chunk's rows (a key repeated within the chunk: its first row), answering how many were new.

    A first import copies straight into the table. If a key is stored already (the same file again, an overlapping
    export), that copy is undone and the rows whose key is not stored are copied; if another import stores one
    of them meanwhile, the chunk goes through a temporary table and ``INSERT … ON CONFLICT DO NOTHING``.
    """
    if not chunk.num_rows:
        return 0
    keys = chunk["row_key"].to_pylist()
    seen: set[str] = set()
    first: list[bool] = []
    for key in keys:
        first.append(key not in seen)
        seen.add(key)
    rows = chunk.filter(pa.array(first)) if len(seen) < len(keys) else chunk
    text = _copy_text(rows, batch_id)
    names = ", ".join(["batch_id", *rows.column_names])
    if _copied(connection, names, text):
        return rows.num_rows
    # the keys as one text (hexadecimal): quicker to send than an array of them
    known = set(connection.exec_driver_sql(
        "SELECT row_key FROM cad_records WHERE profile = %(profile)s "
        "AND row_key = ANY(string_to_array(%(keys)s, ','))",
        {"profile": rows["profile"][0].as_py(), "keys": ",".join(rows["row_key"].to_pylist())}).scalars())
    rows = rows.filter(pa.array([key not in known for key in rows["row_key"].to_pylist()]))
    if not rows.num_rows:
        return 0
    text = _copy_text(rows, batch_id)
    if _copied(connection, names, text):
        return rows.num_rows
    driver = connection.connection.driver_connection
    assert driver is not None
    connection.exec_driver_sql(f"CREATE TEMPORARY TABLE IF NOT EXISTS cad_import_chunk ON COMMIT DROP "
                               f"AS SELECT {names} FROM cad_records WITH NO DATA")
    with driver.cursor() as cursor, cursor.copy(f"COPY cad_import_chunk ({names}) FROM STDIN (FORMAT csv)") as copy:
        copy.write(text)
    return int(connection.exec_driver_sql(
        f"INSERT INTO cad_records ({names}) SELECT {names} FROM cad_import_chunk "
        "ON CONFLICT (profile, row_key) DO NOTHING").rowcount)


def _copy_text(rows: pa.Table, batch_id: int) -> memoryview:
    """The rows as CSV for ``COPY``, the batch first; times as 'YYYY-MM-DD HH:MM:SS.ffffff+00'."""
    rows = rows.add_column(0, "batch_id", pa.repeat(pa.scalar(batch_id, pa.int64()), rows.num_rows))
    for position, kind in enumerate(rows.schema):
        if pa.types.is_timestamp(kind.type):  # quicker than Arrow's own text of a zoned time
            text = pc.binary_join_element_wise(rows[kind.name].cast(pa.string()), pa.scalar("+00"), "")
            rows = rows.set_column(position, kind.name, text)
    sink = io.BytesIO()
    pacsv.write_csv(rows, sink, pacsv.WriteOptions(include_header=False, quoting_style="all_valid"))
    return sink.getbuffer()


def _copied(connection: Connection, names: str, text: memoryview) -> bool:
    """``COPY`` into ``cad_records`` under a savepoint; False (and nothing copied) if a key is stored already."""
    driver = connection.connection.driver_connection
    assert driver is not None
    try:
        with connection.begin_nested(), driver.cursor() as cursor, \
                cursor.copy(f"COPY cad_records ({names}) FROM STDIN (FORMAT csv)") as copy:
            copy.write(text)
    except UniqueViolation:
        return False
    return True


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
