"""A history on disk — Parquet files the metrics read on any engine — and the engines that read it.

A history is a folder holding ``responses.parquet`` (``definitions.HISTORY_SCHEMA``), and, when the calls
were exported too, ``reach.parquet`` (``definitions.REACH_SCHEMA``) and ``phone.parquet``
(``public.cube.PHONE_SCHEMA``); each may instead be a folder of Parquet files (``responses/part-*.parquet``),
which is how a history grows past one file. A single Parquet file (or glob) is read as the responses alone.
Beside each file of responses, ``_cubes/`` may keep its public cubes (``heart.metrics.public.stored``), which the
public figures on DuckDB sum instead of scanning the rows, when every one still fits its file.

``heart export history --out DIR`` writes one from the operational database; ``heart metrics --history DIR
--engine duckdb|postgres|spark`` reads it with the same definitions on DuckDB (the default), in temporary
tables of a PostgreSQL session, or on Spark (local, or a cluster).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from heart.metrics.backends import MetricsSource, quiet
from heart.metrics.backends.files import HistoryFiles, write_part
from heart.metrics.definitions import HISTORY_SCHEMA, REACH_SCHEMA
from heart.metrics.engines import Engine


def open_history(path: str | Path, *, engine: Engine = Engine.duckdb, postgres_url: str | None = None,
                 spark: Any = None, threads: int | None = None) -> MetricsSource:
    """The history at ``path`` on the chosen engine (``spark``: a Spark session, see ``backends.spark``)."""
    files = HistoryFiles.at(path)
    if engine == Engine.duckdb:
        from heart.metrics.backends.duckdb import open_duckdb_history

        return open_duckdb_history(files, threads=threads)
    if engine == Engine.postgres:
        from heart.metrics.backends.postgres import open_postgres_history

        if not postgres_url:
            raise ValueError("--engine postgres needs a PostgreSQL database (--postgres-url or HEART_DATABASE_URL)")
        return open_postgres_history(files, database_url=postgres_url)
    from heart.metrics.backends.spark import open_spark_parquet, spark_session

    return open_spark_parquet(files, session=spark if spark is not None else spark_session())


@contextmanager
def metrics_source(*, database_url: str, history: str | Path | None = None, engine: Engine | None = None,
                   postgres_url: str | None = None, spark_master: str | None = None) -> Iterator[MetricsSource]:
    """The source a command reads: the operational database, or a history folder on an engine (DuckDB by
    default). A Spark session started here is stopped at the end."""
    from heart.metrics.backends import open_database

    if history is None:
        if engine not in (None, Engine.postgres) or (engine == Engine.postgres and
                                                     not database_url.startswith("postgresql")):
            raise ValueError(f"--engine {engine} reads a history folder: give --history PATH "
                             "(`heart export history --out DIR` writes one)")
        with open_database(database_url) as source:
            yield source
        return
    engine = engine or Engine.duckdb
    spark, started = None, False
    if engine == Engine.spark:
        from heart.metrics.backends.spark import running_spark_session, spark_session

        started = running_spark_session() is None
        spark = spark_session(spark_master)
    try:
        with open_history(history, engine=engine, postgres_url=postgres_url or database_url, spark=spark) as source:
            yield source
    finally:
        if spark is not None and started:
            spark.stop()


def export_history(source: MetricsSource, folder: str | Path) -> dict[str, int]:
    """Write the source's responses, eligible calls and phone calls as a history folder, each part in the order
    calls were received (``files.write_part``), and the public cubes of the responses beside them
    (``public.stored``: the public figures then sum them instead of scanning the rows); rows per part."""
    from heart.metrics.public import stored
    from heart.metrics.public.cube import PHONE_SCHEMA

    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    parts = {"responses": (source.history, HISTORY_SCHEMA), "reach": (source.reach, REACH_SCHEMA),
             "phone": (source.phone, PHONE_SCHEMA)}
    written = {}
    for part, (table, schema) in parts.items():
        arrow = schema.to_pyarrow()
        if table is None:
            data = arrow.empty_table()
        else:
            with quiet():
                data = table.select(*schema.names).to_pyarrow()
            data = data.cast(arrow, safe=False) if data.num_rows else arrow.empty_table()
        written[part] = write_part(data, out / f"{part}.parquet")
        if part == "responses":
            stored.write(out / f"{part}.parquet")
    return written

