"""DuckDB over a Parquet export of the history: the analytics path for years of data."""

from __future__ import annotations

import glob
from datetime import datetime
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.schema as sch
import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.parquet as pq

from heart.metrics.backends.files import HistoryFiles, write_part
from heart.metrics.backends.source import MetricsSource, quiet
from heart.metrics.definitions import HISTORY_SCHEMA, REACH_SCHEMA, TIMESTAMPS


@ibis.udf.scalar.builtin(name="epoch_us")
def _epoch_us(value: datetime) -> int:  # type: ignore[empty-body]
    """DuckDB's epoch_us: exact microseconds."""


def duckdb_epoch_micros(value: ir.TimestampValue) -> ir.IntegerValue:
    return _epoch_us(value)


def open_duckdb_parquet(path: str | Path, *, threads: int | None = None,
                        reach_path: str | Path | None = None) -> MetricsSource:
    """An in-memory DuckDB reading the Parquet file (or glob) of the history, and of the eligible calls if given."""
    connection = ibis.duckdb.connect(threads=threads) if threads else ibis.duckdb.connect()
    with quiet():
        history = with_every_column(connection.read_parquet(str(path), table_name="history"))
        reach = (with_every_column(connection.read_parquet(str(reach_path), table_name="reach"), REACH_SCHEMA)
                 if reach_path else None)
    return MetricsSource("duckdb", connection, history, duckdb_epoch_micros, native_quantiles=True,
                         materialize=False, reach=reach, span=parquet_span(str(path)),
                         parts=tuple(local_files(str(path))))


def local_files(path: str) -> list[str]:
    """The local Parquet files a path (a file or a glob) names, in order; none when it names no local file."""
    return sorted(glob.glob(path)) if glob.has_magic(path) else [path] if Path(path).is_file() else []


def parquet_span(path: str) -> dict[str, Any] | None:
    """``definitions.time_span`` of the local Parquet file (or glob) from the minimum and maximum each row group
    keeps in the file's footer: no row is read (DuckDB would scan every timestamp: a quarter of the public
    figures' time over 100 M rows). None when a file or a row group lacks them, or the path is not local."""
    files = local_files(path)
    if not files:
        return None
    span: dict[str, Any] = {}
    for name in ("timezone", *TIMESTAMPS):
        span[f"first_{name}"] = span[f"last_{name}"] = None
    for file in files:
        metadata = pq.ParquetFile(file).metadata
        columns = {metadata.schema.column(index).path: index for index in range(metadata.num_columns)}
        for name in ("timezone", *TIMESTAMPS):
            if name not in columns:
                return None
            for group in range(metadata.num_row_groups):
                rows = metadata.row_group(group).num_rows
                stats = metadata.row_group(group).column(columns[name]).statistics
                if stats is not None and stats.has_null_count and stats.null_count == rows:
                    continue  # nothing but nulls
                if stats is None or not stats.has_min_max:
                    return None
                first, last = span[f"first_{name}"], span[f"last_{name}"]
                span[f"first_{name}"] = stats.min if first is None else min(first, stats.min)
                span[f"last_{name}"] = stats.max if last is None else max(last, stats.max)
    return span


def open_duckdb_history(files: HistoryFiles, *, threads: int | None = None) -> MetricsSource:
    """An in-memory DuckDB reading every part of a history folder (``heart.metrics.history``)."""
    source = open_duckdb_parquet(_glob(files.responses), threads=threads,
                                 reach_path=_glob(files.reach) if files.reach else None)
    if files.phone:
        with quiet():
            source.phone = source.connection.read_parquet(_glob(files.phone), table_name="phone")
    return source


def _glob(path: str) -> str:
    """DuckDB reads a folder of Parquet files through a glob."""
    return str(Path(path) / "*.parquet") if Path(path).is_dir() else path


def with_every_column(history: ir.Table, schema: sch.Schema = HISTORY_SCHEMA) -> ir.Table:
    """A part exported before a column was added (``team_felt_safe`` and ``beat`` of the responses, ``excluded`` of
    reach) reads it as null."""
    missing = {name: ibis.null(kind) for name, kind in schema.items() if name not in history.columns}
    return history.mutate(**missing) if missing else history


def export_history(source: MetricsSource, path: str | Path) -> int:
    """Write the source's history to one Parquet file (timestamps as UTC microseconds); returns the rows."""
    with quiet():
        table = source.history.to_pyarrow()
    table = table.cast(arrow_schema(), safe=False) if table.num_rows else arrow_schema().empty_table()
    return write_part(table, path)


def export_reach(source: MetricsSource, path: str | Path) -> int:
    """Write the source's eligible calls (``definitions.REACH_SCHEMA``) to one Parquet file; returns the rows."""
    schema = REACH_SCHEMA.to_pyarrow()
    if source.reach is None:
        table = schema.empty_table()
    else:
        with quiet():
            table = source.reach.to_pyarrow()
        table = table.cast(schema, safe=False) if table.num_rows else schema.empty_table()
    return write_part(table, path)


def arrow_schema() -> pa.Schema:
    """The Parquet export's schema (``definitions.HISTORY_SCHEMA`` in Arrow terms)."""
    return HISTORY_SCHEMA.to_pyarrow()
