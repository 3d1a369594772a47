"""Open data: one row per published response, as CSV and Parquet with a Frictionless data package.

**What a row holds, and why nothing finer** (also in the package's description). A row is a response counted
in the public figures (``definitions.classify``: cleared, reached the scene, times in order) of a whole
calendar year. It has no id, no name, date of birth, phone, address, narrative or free text, and no exact time:

- time: the local *year and month it cleared* and the local *hour of day it was dispatched* (the dimensions of
  the public tables), and minutes to scene / on scene rounded to whole minutes (half up); no day, no minute;
- place: the call's *beat*, nothing finer;
- call type: HEART's incident type (no CAD nature code, no category).

**The same suppression as the public figures** (``suppression.SUPPRESSION_RULE``): a value hidden in a public
table (a month, call type, hour or beat with fewer than 11 responses in the program-year, or its complement) is
blank in every row that has it, so counting rows gives back only what the tables show — the blank rows of a
table add up to the sum of its hidden cells, which the table already gives. A share hidden for a program-year
(e.g. PD backup, 4 of 7,746) blanks its column in all of that program-year's rows. A program-year whose total is
hidden has no rows. Rows are sorted by every column, so their order says nothing (no time order to read a blank
month from). Only whole years are written: overlapping exports would difference into unprotected cells.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from heart.metrics import definitions as d
from heart.metrics.backends import MetricsSource, quiet
from heart.metrics.public import groups as g
from heart.metrics.public.service import Protection, protected_groups
from heart.metrics.public.suppression import SUPPRESSION_RULE, THRESHOLD


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    type: str  # Table Schema type
    arrow: pa.DataType
    description: str
    constraints: dict[str, Any] | None = None


FIELDS: tuple[Field, ...] = (
    Field("program", "string", pa.string(), "The program that responded (its code).", {"required": True}),
    Field("year", "integer", pa.int32(), "Local calendar year in which the response cleared.", {"required": True}),
    Field("month", "integer", pa.int32(), "Local month (1-12) in which the response cleared; blank where that "
          f"month has fewer than {THRESHOLD} responses of the program in the year, or is hidden with one.",
          {"minimum": 1, "maximum": 12}),
    Field("hour_dispatched", "integer", pa.int32(), "Local hour of day (0-23) in which the team was dispatched; "
          "blank where that hour is hidden in the program-year's table.", {"minimum": 0, "maximum": 23}),
    Field("call_type", "string", pa.string(), "The call's type in HEART's taxonomy; blank where that type is "
          "hidden in the program-year's table."),
    Field("beat", "string", pa.string(), "The police beat of the call's location (nothing finer); blank where "
          "that beat is hidden in the program-year's table."),
    Field("minutes_to_scene", "integer", pa.int32(), "Minutes from dispatch to arrival on scene, rounded to the "
          "whole minute.", {"required": True, "minimum": 0}),
    Field("minutes_on_scene", "integer", pa.int32(), "Minutes from arrival on scene to clearing, rounded to the "
          "whole minute.", {"required": True, "minimum": 0}),
    Field("transported", "boolean", pa.bool_(), "The team transported the neighbor; blank for a program-year "
          "whose share is hidden."),
    Field("pd_backup_for_team_safety", "boolean", pa.bool_(), "The team called police for its own safety; blank "
          "for a program-year whose share is hidden."),
    Field("ems_support", "boolean", pa.bool_(), "The team called EMS; blank for a program-year whose share is "
          "hidden."),
    Field("team_felt_safe", "boolean", pa.bool_(), "The crew answered that the team felt safe; blank when not "
          "asked, or for a program-year whose share is hidden."),
)
ROUNDING = ("Times are given as the local year and month cleared and the local hour of dispatch; durations are "
            "rounded to whole minutes; places are police beats.")
SHARE_COLUMNS = {"pct_needed_transport": "transported", "pct_needed_pd_backup_for_team_safety":
                 "pd_backup_for_team_safety", "pct_needed_ems_support": "ems_support",
                 "pct_team_felt_safe": "team_felt_safe"}
TABLE_COLUMNS = {"by_month": "month", "by_hour": "hour_dispatched", "by_call_type": "call_type", "by_beat": "beat"}


def arrow_schema() -> pa.Schema:
    return pa.schema([pa.field(f.name, f.arrow) for f in FIELDS])


def table_schema() -> dict[str, Any]:
    """The Frictionless Table Schema of the rows: the data dictionary."""
    fields = []
    for f in FIELDS:
        entry: dict[str, Any] = {"name": f.name, "type": f.type, "description": f.description}
        if f.type == "boolean":
            entry |= {"trueValues": ["true"], "falseValues": ["false"]}
        if f.constraints:
            entry["constraints"] = f.constraints
        fields.append(entry)
    return {"fields": fields, "missingValues": [""]}


def response_rows(source: MetricsSource, period: d.Period) -> pa.Table:
    """Counted responses of the period with the open data's columns, before suppression (exact keys)."""
    history = source.history
    zones = [row["timezone"] for row in _rows(d.programs_and_zones(history))]
    clock = d.local_clock(_rows(d.time_span(history))[0], zones)
    if clock is None:
        return arrow_schema().empty_table()
    classified = d.classify(d.response_facts(history, source.epoch_micros), clock, period)
    counted = classified.filter(classified.counted)
    half = d.MICROS_PER_MINUTE // 2
    selected = counted.select(
        program=counted.program, year=(counted.month // 100).cast("int32"),
        month=(counted.month % 100).cast("int32"), hour_dispatched=counted.hour.cast("int32"),
        call_type=counted.incident_type.fill_null(g.UNKNOWN), beat=counted.beat.fill_null(g.UNKNOWN),
        minutes_to_scene=((counted.us_to_scene + half) // d.MICROS_PER_MINUTE).cast("int32"),
        minutes_on_scene=((counted.us_on_scene + half) // d.MICROS_PER_MINUTE).cast("int32"),
        transported=counted.transported, pd_backup_for_team_safety=counted.pd_backup_for_safety,
        ems_support=counted.ems_support, team_felt_safe=counted.team_felt_safe,
    )
    with quiet():
        return selected.to_pyarrow().cast(arrow_schema())


def _rows(expr: ir.Table) -> list[dict[str, Any]]:
    with quiet():
        return list(expr.to_pyarrow().to_pylist())


def suppress_rows(rows: pa.Table, protections: Iterable[tuple[g.RawGroup, Protection]]) -> pa.Table:
    """Blank what the public figures hide, drop hidden program-years, and sort by every column."""
    kept = []
    for group, protection in protections:
        if group.group != "responses":
            continue
        mine = rows.filter(pc.and_(pc.equal(rows["program"], group.program), pc.equal(rows["year"], group.year)))
        if protection.total_hidden or mine.num_rows == 0:
            continue
        for table, column in TABLE_COLUMNS.items():
            hidden = protection.hidden.get(table, frozenset())
            if hidden:
                values = mine[column].cast(pa.string())
                keys = sorted(str(int(key)) if table == "by_month" else key for key in hidden)  # "03" is 3
                blank = pc.is_in(values, value_set=pa.array(keys, pa.string()))
                mine = mine.set_column(mine.schema.get_field_index(column), column,
                                       pc.if_else(blank, pa.scalar(None, mine[column].type), mine[column]))
        for share, column in SHARE_COLUMNS.items():
            if share in protection.hidden_shares:
                mine = mine.set_column(mine.schema.get_field_index(column), column,
                                       pa.nulls(mine.num_rows, pa.bool_()))
        kept.append(mine)
    if not kept:
        return arrow_schema().empty_table()
    every = pa.concat_tables(kept)
    return every.sort_by([(f.name, "ascending") for f in FIELDS])


def write_open_data(*, source: MetricsSource, first: int, last: int, out: str | Path,
                    threshold: int = THRESHOLD) -> dict[str, Any]:
    """Write ``responses.csv``, ``responses.parquet`` and ``datapackage.json`` for the whole years ``first`` to
    ``last`` into ``out``; returns a summary (rows written, program-years left out)."""
    protections = protected_groups(source=source, first=first, last=last, threshold=threshold, providers=[])
    rows = suppress_rows(response_rows(source, g.year_period(first, last)), protections)
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(rows, str(folder / "responses.parquet"), compression="zstd")
    with (folder / "responses.csv").open("wb") as file:
        pacsv.write_csv(rows, file, pacsv.WriteOptions(quoting_style="needed"))
    package = datapackage(first, last)
    (folder / "datapackage.json").write_text(json.dumps(package, indent=2) + "\n", encoding="utf-8")
    left_out = sorted(f"{group.program} {group.year}" for group, protection in protections
                      if group.group == "responses" and protection.total_hidden)
    return {"rows": rows.num_rows, "left_out": left_out, "files": ["responses.csv", "responses.parquet",
                                                                   "datapackage.json"]}


def datapackage(first: int, last: int) -> dict[str, Any]:
    """The Frictionless data package describing both files (one Table Schema, the data dictionary)."""
    years = str(first) if first == last else f"{first}-{last}"
    schema = table_schema()
    description = (f"Responses counted in the public figures, {years}. No personal data. {ROUNDING} "
                   f"{SUPPRESSION_RULE}")
    return {
        "name": f"heart-responses-{years}",
        "title": f"Responses {years}",
        "description": description,
        "licenses": [{"name": "ODC-PDDL-1.0", "path": "https://opendatacommons.org/licenses/pddl/",
                      "title": "Open Data Commons Public Domain Dedication and License v1.0"}],
        "resources": [
            {"name": "responses", "path": "responses.csv", "format": "csv", "mediatype": "text/csv",
             "encoding": "utf-8", "profile": "tabular-data-resource", "schema": schema},
            {"name": "responses-parquet", "path": "responses.parquet", "format": "parquet",
             "mediatype": "application/vnd.apache.parquet", "profile": "tabular-data-resource", "schema": schema},
        ],
    }

