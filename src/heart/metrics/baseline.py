"""Baseline figures on imported CAD history, per agency: how another service answers calls today.

The figures are the program dashboard's (ARCHITECTURE §5), through the same definitions, so a city can compare how
police (or EMS, fire) answer today with how HEART answers the same call types, digit for digit:

- a row counts when its dispatch, arrival and clear times are present and both durations non-negative
  (``metrics.definitions.timed``); ``responses`` is how many count;
- avg minutes to scene, on scene and total: exact sums of integer microseconds from the database
  (``metrics.definitions.time_sums``), divided and rounded half-up to two decimals in Python
  (``metrics.service.average_minutes``) — the dashboard's one formula and one rounding.
Rows left out are counted by reason: ``missing_timestamp`` (any of the three times absent; date-only exports such
as Sacramento's land here) and ``negative_duration`` (a time recorded before the one it follows). The query runs on
the database itself (SQLite or PostgreSQL), through the metrics' operational backend. The rows come from
``heart cad import`` (``heart.calls.cad``); ``heart cad baseline`` and ``heart metrics --by agency`` show them.
"""

from __future__ import annotations

from typing import Any

import ibis.expr.types as ir

from heart.errors import NotFound
from heart.metrics import definitions as d
from heart.metrics.backends import open_database, quiet
from heart.metrics.service import average_minutes

NO_AGENCY = "(no agency)"
TIMES = ("dispatched_at", "on_scene_at", "cleared_at")


def baseline_by_agency(*, database_url: str, batch: str | None) -> dict[str, Any]:
    """Per-agency responses and average minutes over imported CAD rows (of one batch, or all).

    Returns ``{"batch": label|None, "agencies": {AGENCY: {"responses", "avg_minutes_to_scene",
    "avg_minutes_on_scene", "avg_total_minutes", "left_out": {"missing_timestamp", "negative_duration"}}},
    "left_out": {"missing_timestamp": n, "negative_duration": m}}``; averages are None with no responses.
    Raises NotFound for an unknown batch label.
    """
    with open_database(database_url) as source, quiet():
        records = source.connection.table("cad_records")
        if batch is not None:
            batches = source.connection.table("import_batches")
            found = batches.filter(batches.label == batch).select("id").to_pyarrow().to_pylist()
            if not found:
                raise NotFound("import batch", repr(batch), field="batch")
            records = records.filter(records.batch_id == int(found[0]["id"]))
        rows = per_agency(records, source.epoch_micros).to_pyarrow().to_pylist()
    agencies: dict[str, Any] = {}
    left_out = {"missing_timestamp": 0, "negative_duration": 0}
    for row in sorted(rows, key=lambda r: (r["agency"] is None, r["agency"] or "")):
        responses = int(row["responses"] or 0)
        missing, negative = int(row["missing_timestamp"] or 0), int(row["negative_duration"] or 0)
        agencies[_agency_name(row["agency"])] = {
            "responses": responses,
            **average_minutes(responses=responses, sum_us_to_scene=int(row["sum_us_to_scene"] or 0),
                              sum_us_on_scene=int(row["sum_us_on_scene"] or 0)),
            "left_out": {"missing_timestamp": missing, "negative_duration": negative},
        }
        left_out["missing_timestamp"] += missing
        left_out["negative_duration"] += negative
    return {"batch": batch, "agencies": agencies, "left_out": left_out}


def per_agency(records: ir.Table, epoch_micros: d.EpochMicros) -> ir.Table:
    """Exact sums and counts per agency of CAD rows, with the dashboard's definitions of a counted response."""
    facts = records.select(agency=records.agency, **{f"{name}_us": epoch_micros(records[name]) for name in TIMES})
    facts = facts.mutate(**d.durations(facts))
    present, counted = d.times_present(facts), d.timed(facts)
    return facts.group_by("agency").aggregate(
        **d.time_sums(facts, counted),
        missing_timestamp=d.count_where(~present),
        negative_duration=d.count_where(present & ~counted),
    )


def _agency_name(value: Any) -> str:
    return value if isinstance(value, str) and value else NO_AGENCY
