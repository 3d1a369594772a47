"""What a metrics backend hands the definitions: an open connection, the history table and its epoch microseconds."""

from __future__ import annotations

import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import ibis.expr.types as ir
from ibis.backends import BaseBackend

from heart.metrics.definitions import EpochMicros


@dataclass
class MetricsSource:
    """An open connection and the history table the definitions read."""

    name: str
    connection: BaseBackend
    history: ir.Table
    epoch_micros: EpochMicros
    native_quantiles: bool = False
    """True when the backend's own linear-interpolation quantile may be used (DuckDB, for speed)."""
    materialize: bool = True
    """Compute the classified rows once into a temporary table (a few thousand rows in an operational
    database); DuckDB over Parquet rescans instead, which is faster than writing millions of rows."""
    reach: ir.Table | None = None
    """Calls eligible for each field program (``definitions.REACH_SCHEMA``); None when the source has no calls."""
    care_encounters: ir.Table | None = None
    """Encounters with consent to follow-up (``care.CARE_ENCOUNTERS_SCHEMA``); None when the source has none."""
    care_referrals: ir.Table | None = None
    """Referrals (``care.REFERRALS_SCHEMA``); None when the source has none."""
    phone: ir.Table | None = None
    """Calls resolved by a phone program (``public.cube.PHONE_SCHEMA``); None when the source has no calls."""
    owns_connection: bool = True
    """False when the connection belongs to someone else (a Spark session shared by several sources)."""
    span: dict[str, Any] | None = None
    """``definitions.time_span`` of the history when the backend knows it without reading the rows (DuckDB, from
    the Parquet files' statistics); None to compute it."""
    parts: tuple[str, ...] = ()
    """The local Parquet files the history is read from (DuckDB), beside which the public figures' cubes may be
    kept (``heart.metrics.public.stored``); empty when the history is not such files."""

    @contextmanager
    def materialized(self, expr: ir.Table) -> Iterator[ir.Table]:
        """``expr`` as a temporary table for the duration of the block (or as it is, see ``materialize``)."""
        if not self.materialize:
            yield expr
            return
        name = f"heart_metrics_{uuid.uuid4().hex[:12]}"
        with quiet():
            table = self.connection.create_table(name, expr, temp=True)
        try:
            yield table
        finally:
            result = self.connection.raw_sql(f'DROP TABLE IF EXISTS "{name}"')
            if hasattr(result, "close"):
                result.close()

    def close(self) -> None:
        """Release the connection."""
        disconnect = getattr(self.connection, "disconnect", None)
        if disconnect is not None and self.owns_connection:
            disconnect()

    def __enter__(self) -> MetricsSource:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


@contextmanager
def quiet() -> Iterator[None]:
    """Ibis 12 asks pandas about an option pandas 3 deprecates, and calls a DuckDB method DuckDB 1.4
    deprecates; nothing for us to act on."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*future.infer_string.*")
        warnings.filterwarnings("ignore", message=".*fetch_arrow_table.*", category=DeprecationWarning)
        yield
