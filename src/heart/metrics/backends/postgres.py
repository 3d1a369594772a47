"""PostgreSQL over a Parquet history: the files are copied into temporary tables of one session, and the
definitions run there (the operational PostgreSQL database needs none of this: ``operational.py``)."""

from __future__ import annotations

import glob
import io
from typing import TYPE_CHECKING

import ibis
import ibis.expr.schema as sch
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.dataset as ds
from sqlalchemy.engine import make_url

from heart.metrics.backends.operational import postgres_epoch_micros
from heart.metrics.backends.source import MetricsSource, quiet
from heart.metrics.definitions import HISTORY_SCHEMA, REACH_SCHEMA

if TYPE_CHECKING:
    from heart.metrics.backends.files import HistoryFiles

def _create(cursor: object, name: str, schema: sch.Schema) -> None:
    columns = ", ".join(f'"{column}" {_pg_type(kind)}' for column, kind in schema.items())
    cursor.execute(f'CREATE TEMPORARY TABLE "{name}" ({columns})')  # type: ignore[attr-defined]


def _pg_type(kind: object) -> str:
    text = str(kind)
    return "timestamptz" if text.startswith("timestamp") else {"string": "text", "boolean": "boolean"}[text]


def copy_parquet(cursor: object, name: str, path: str, schema: sch.Schema) -> int:
    """Stream the Parquet file(s) at ``path`` into table ``name`` with COPY, a batch at a time; returns the rows."""
    arrow = schema.to_pyarrow()
    dataset = ds.dataset(sorted(glob.glob(path)) if "*" in path else path, format="parquet")
    present = [column for column in arrow.names if column in dataset.schema.names]
    rows = 0
    listed = ", ".join(f'"{column}"' for column in present)
    with cursor.copy(f'COPY "{name}" ({listed}) FROM STDIN WITH (FORMAT csv)') as copy:  # type: ignore[attr-defined]
        for batch in dataset.to_batches(columns=present, batch_size=200_000):
            table = pa.Table.from_batches([batch]).cast(pa.schema([arrow.field(c) for c in present]))
            buffer = io.BytesIO()
            pacsv.write_csv(table, buffer, pacsv.WriteOptions(include_header=False))
            copy.write(buffer.getvalue())
            rows += table.num_rows
    return rows


def open_postgres_history(files: HistoryFiles, *, database_url: str) -> MetricsSource:
    """The history's Parquet files in temporary tables of a new PostgreSQL session (gone when it closes)."""
    from heart.metrics.public.cube import PHONE_SCHEMA

    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        raise ValueError(f"--engine postgres needs a postgresql:// URL, not {url.get_backend_name()}://")
    connection = ibis.postgres.connect(host=url.host or "localhost", port=url.port or 5432, user=url.username,
                                       password=url.password, database=url.database)
    loads = [("heart_history", files.responses, HISTORY_SCHEMA), ("heart_reach", files.reach, REACH_SCHEMA),
             ("heart_phone", files.phone, PHONE_SCHEMA)]
    with connection.con.cursor() as cursor:
        for name, path, schema in loads:
            if path is not None:
                _create(cursor, name, schema)
                copy_parquet(cursor, name, path, schema)
                cursor.execute(f'ANALYZE "{name}"')
    connection.con.commit()
    with quiet():
        history = connection.table("heart_history")
        reach = connection.table("heart_reach") if files.reach else None
        phone = connection.table("heart_phone") if files.phone else None
    return MetricsSource("postgres", connection, history, postgres_epoch_micros, reach=reach, phone=phone)
