"""Where each part of a history on disk is (``heart.metrics.history`` describes the folder; the backends read it),
and how a part is stored (``write_part``: in time order, timestamps delta-encoded)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

PARTS = ("responses", "reach", "phone")


@dataclass(frozen=True, slots=True)
class HistoryFiles:
    """Where each part of a history is (a file, a folder of files or a glob); None for a part not exported."""

    responses: str
    reach: str | None = None
    phone: str | None = None

    @classmethod
    def at(cls, path: str | Path) -> HistoryFiles:
        """The parts of the history at ``path`` (a history folder, or one Parquet file or glob of responses)."""
        where = Path(path)
        if not where.is_dir():
            if "*" not in str(path) and not where.exists():
                raise FileNotFoundError(f"no history at {path}: give a folder written by `heart export history` "
                                        "or a Parquet file of responses")
            return cls(responses=str(path))
        found = {part: _part(where, part) for part in PARTS}
        if found["responses"] is None:
            if any(child.suffix == ".parquet" for child in where.iterdir()):  # a folder of response files
                return cls(responses=str(where))
            raise FileNotFoundError(f"{path} holds no responses.parquet (nor responses/*.parquet)")
        return cls(responses=str(found["responses"]), reach=found["reach"], phone=found["phone"])


def _part(folder: Path, part: str) -> str | None:
    if (folder / f"{part}.parquet").is_file():
        return str(folder / f"{part}.parquet")
    if (folder / part).is_dir():
        return str(folder / part)
    return None


# --- how each part is stored -----------------------------------------------------------------------------------

TIME_ORDER = "received_at"
"""Rows of every part are stored in the order calls were received: the order a history grows in."""


def parquet_options(schema: pa.Schema) -> dict[str, Any]:
    """How a part is written: timestamps delta-encoded (in time order, consecutive instants differ by seconds or
    minutes, so each takes about 4 bytes instead of 8 and decodes faster), other columns dictionary-encoded,
    zstd, version-2 data pages. Row groups keep their per-column minimum and maximum, so a reader skips the row
    groups outside a period."""
    stamps = [field.name for field in schema if pa.types.is_timestamp(field.type)]
    return {"compression": "zstd", "data_page_version": "2.0",
            "use_dictionary": [name for name in schema.names if name not in stamps],
            "column_encoding": dict.fromkeys(stamps, "DELTA_BINARY_PACKED")}


def part_writer(path: str | Path, schema: pa.Schema) -> pq.ParquetWriter:
    """A writer of one Parquet file of a history part; give it rows in time order (``in_time_order``)."""
    return pq.ParquetWriter(str(path), schema, **parquet_options(schema))


def in_time_order(table: pa.Table) -> pa.Table:
    """The rows ordered by the instant the call was received (as they were appended), if the part has it."""
    if TIME_ORDER not in table.column_names or table.num_rows < 2:
        return table
    return table.sort_by([(TIME_ORDER, "ascending")])


def write_part(table: pa.Table, path: str | Path) -> int:
    """Write one history part to a Parquet file, in time order; returns the rows."""
    with part_writer(path, table.schema) as writer:
        writer.write_table(in_time_order(table))
    return int(table.num_rows)
