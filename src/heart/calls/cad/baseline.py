"""Baseline figures on imported CAD history, per agency: how another service answers calls today.

The figures are the program dashboard's (ARCHITECTURE §5), computed the same way so a city can compare
how police (or EMS, fire) answer today with how HEART answers the same call types:

- responses: rows with dispatch, arrival and clear times present and both durations non-negative;
- avg minutes to scene: mean(on_scene_at − dispatched_at);
- avg minutes on scene: mean(cleared_at − on_scene_at);
- avg total minutes: mean of the per-row sum (not the sum of the rounded means);
- each mean rounded to two decimals, as the dashboard shows them.
Rows left out are counted by reason: ``missing_timestamp`` (any of the three times absent; date-only
exports such as Sacramento's land here) and ``negative_duration`` (a time recorded before the one it
follows). The query is one Ibis expression run on the database itself (SQLite or PostgreSQL).
"""

from __future__ import annotations

import warnings
from typing import Any

import ibis
import ibis.expr.datatypes as dt
from ibis.expr.types import FloatingValue, Table, TimestampValue

from heart.errors import NotFound

NO_AGENCY = "(no agency)"


@ibis.udf.scalar.builtin(signature=((dt.timestamp,), dt.float64))
def julianday(value: Any) -> Any:  # SQLite: fractional days, so milliseconds survive
    """SQLite's julianday()."""


@ibis.udf.scalar.builtin(signature=((dt.string, dt.timestamp), dt.float64))
def date_part(part: Any, value: Any) -> Any:  # PostgreSQL: seconds with their fraction
    """PostgreSQL's date_part()."""


def baseline_by_agency(*, database_url: str, batch: str | None) -> dict[str, Any]:
    """Per-agency responses and average minutes over imported CAD rows (of one batch, or all).

    Returns ``{"batch": label|None, "agencies": {AGENCY: {"responses", "avg_minutes_to_scene",
    "avg_minutes_on_scene", "avg_total_minutes", "left_out": {"missing_timestamp", "negative_duration"}}},
    "left_out": {"missing_timestamp": n, "negative_duration": m}}``; averages are None with no responses.
    Raises NotFound for an unknown batch label.
    """
    connection, backend = _connect(database_url)
    try:
        with warnings.catch_warnings():
            # ibis asks pandas about an option pandas 3 deprecates; nothing for us to act on
            warnings.filterwarnings("ignore", message=".*future.infer_string.*")
            rows = _query(connection, backend, batch)
    finally:
        connection.disconnect()
    agencies: dict[str, Any] = {}
    left_out = {"missing_timestamp": 0, "negative_duration": 0}
    for row in sorted(rows, key=lambda r: (r["agency"] is None, r["agency"] or "")):
        responses = int(row["responses"] or 0)
        missing, negative = int(row["missing_timestamp"] or 0), int(row["negative_duration"] or 0)
        agencies[_agency_name(row["agency"])] = {
            "responses": responses,
            "avg_minutes_to_scene": _minutes(row["to_scene"], responses),
            "avg_minutes_on_scene": _minutes(row["on_scene"], responses),
            "avg_total_minutes": _minutes(row["total"], responses),
            "left_out": {"missing_timestamp": missing, "negative_duration": negative},
        }
        left_out["missing_timestamp"] += missing
        left_out["negative_duration"] += negative
    return {"batch": batch, "agencies": agencies, "left_out": left_out}


def _query(connection: Any, backend: str, batch: str | None) -> list[dict[str, Any]]:
    records = connection.table("cad_records")
    if batch is not None:
        batches = connection.table("import_batches")
        found = batches.filter(batches.label == batch).select("id").to_pyarrow().to_pylist()
        if not found:
            raise NotFound("import batch", repr(batch), field="batch")
        records = records.filter(records.batch_id == int(found[0]["id"]))
    return list(_per_agency(records, backend).to_pyarrow().to_pylist())


def _per_agency(records: Table, backend: str) -> Table:
    def seconds(value: TimestampValue) -> FloatingValue:
        if backend == "sqlite":
            return julianday(value) * 86_400.0
        if backend == "postgres":
            return date_part("epoch", value)
        return value.epoch_seconds().cast("float64")

    dispatched, on_scene, cleared = records.dispatched_at, records.on_scene_at, records.cleared_at
    to_scene = (seconds(on_scene) - seconds(dispatched)) / 60.0
    at_scene = (seconds(cleared) - seconds(on_scene)) / 60.0
    missing = dispatched.isnull() | on_scene.isnull() | cleared.isnull()
    negative = ~missing & ((to_scene < 0) | (at_scene < 0))
    kept = ~missing & ~negative
    return records.group_by(agency=records.agency).aggregate(
        responses=records.count(where=kept),
        to_scene=to_scene.mean(where=kept),
        on_scene=at_scene.mean(where=kept),
        total=(to_scene + at_scene).mean(where=kept),
        missing_timestamp=records.count(where=missing),
        negative_duration=records.count(where=negative),
    )


def _connect(database_url: str) -> tuple[Any, str]:
    """An Ibis connection to the application database, and which backend it is."""
    scheme, _, rest = database_url.partition("://")
    dialect = scheme.split("+")[0]
    if dialect == "sqlite":
        path = rest[1:] if rest.startswith("/") else rest  # sqlite:///relative.db, sqlite:////absolute.db
        return ibis.sqlite.connect(path or ":memory:"), "sqlite"
    if dialect in ("postgresql", "postgres"):
        return ibis.connect(f"postgres://{rest}"), "postgres"
    if dialect == "duckdb":
        return ibis.duckdb.connect(rest[1:] if rest.startswith("/") else rest), "duckdb"
    raise ValueError(f"baseline figures need SQLite, PostgreSQL or DuckDB, not {dialect}")


def _agency_name(value: Any) -> str:
    return value if isinstance(value, str) and value else NO_AGENCY


def _minutes(value: Any, responses: int) -> float | None:
    if not responses or value is None or value != value:  # NaN when nothing was averaged
        return None
    return round(float(value), 2)
