"""Try to break the suppression: recompute every hidden cell from totals, margins, other periods, shares and the
open data, on a history with small cells planted where an attacker would look (public_history.py).

The attacker works from what is published only — the public figures' JSON of each year and the open-data files
— and fails when no hidden count from 1 to 10 can be pinned down.
"""

from __future__ import annotations

import shutil
from collections import Counter
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from heart.db import make_engine
from heart.metrics.backends import open_database
from heart.metrics.public.groups import collect
from heart.metrics.public.opendata import TABLE_COLUMNS, table_schema, write_open_data
from heart.metrics.public.schemas import PublicReport
from heart.metrics.public.service import public_figures
from tests.metrics.public_history import MARKERS, plant

TODAY = date(2026, 6, 1)
YEARS = (2023, 2024)


@pytest.fixture(scope="module")
def published(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory
              ) -> Iterator[tuple[dict[int, PublicReport], Path, dict[Any, Any]]]:
    """The public figures of both years, the open data of both, and (for the test's own checks only) the truth."""
    tmp_path = tmp_path_factory.mktemp("attacks")
    shutil.copy(sqlite_template, tmp_path / "heart.db")
    database_url = f"sqlite:///{tmp_path / 'heart.db'}"
    engine = make_engine(database_url)
    plant(engine)
    engine.dispose()
    with open_database(database_url) as source:
        reports = {year: public_figures(source=source, year=year, today=TODAY) for year in YEARS}
        write_open_data(source=source, first=2023, last=2024, out=tmp_path / "open")
        truth = {(group.program, group.year, group.group): group for group in collect(source=source, first=2023,
                                                                                      last=2024)}
    yield reports, tmp_path / "open", truth


def _hidden_cells(reports: dict[int, PublicReport]) -> Iterator[tuple[str, int, str, str, str]]:
    for year, report in reports.items():
        for code, program in report.programs.items():
            for name, group in program.groups.items():
                for table_name, table in group.tables.items():
                    for row in table.rows:
                        if row.cells["count"].suppressed:
                            yield code, year, name, table_name, row.key


def test_the_planted_small_cells_are_hidden(published: Any) -> None:
    reports, _, truth = published
    crt24 = reports[2024].programs["CRT"].groups["responses"]
    month = {row.key: row.cells["count"] for row in crt24.tables["by_month"].rows}
    assert month["03"].suppressed and month["03"].text == "fewer than 11" and month["03"].value is None
    assert all(row.cells["avg_minutes_to_scene"].suppressed for row in crt24.tables["by_month"].rows
               if row.key == "03")  # an average is shown only with its count
    types = {row.key: row.cells["count"] for row in crt24.tables["by_call_type"].rows}
    assert types["ivc_order"].suppressed and types["panhandling"].suppressed  # 3, and 12 hidden with it
    assert crt24.figures["pct_needed_pd_backup_for_team_safety"].suppressed  # 4 of 268
    assert crt24.figures["pct_team_felt_safe"].suppressed  # 7 did not feel safe
    assert not crt24.figures["pct_needed_ems_support"].suppressed  # 15 of 268
    crt23 = reports[2023].programs["CRT"].groups["responses"]
    assert crt23.figures["pct_team_felt_safe"].text == "93.06%"  # 268 of 288
    assert crt23.figures["pct_needed_pd_backup_for_team_safety"].text == "0.00%"  # zero is shown
    sml = reports[2024].programs["SML"].groups["responses"]
    assert sml.total_hidden and all(cell.suppressed for cell in sml.figures.values())
    reach = reports[2024].programs["CRT"].groups["reach"]
    outcomes = {row.key: row.cells["count"] for row in reach.tables["outcomes"].rows}
    assert outcomes["no_unit_available"].suppressed and outcomes["no_unit_in_time"].suppressed
    assert outcomes["exclusion"].text == "14"
    # 2023's only missed calls: 6 kept from CRT by an exclusion; neither the cell, its rest nor the share shows it
    reach23 = reports[2023].programs["CRT"].groups["reach"]
    outcomes23 = {row.key: row.cells["count"] for row in reach23.tables["outcomes"].rows}
    assert outcomes23["exclusion"].suppressed and outcomes23["exclusion"].text == "fewer than 11"
    assert reach23.figures["pct_reached"].suppressed
    assert reach23.total_hidden or sum(cell.suppressed for cell in outcomes23.values()) >= 2
    assert truth[("CRT", 2023, "reach")].tables["outcomes"].cells["exclusion"] == 6
    phone = {row.key: row.cells["count"] for row in
             reports[2024].programs["CCD"].groups["phone"].tables["phone_by_call_type"].rows}
    assert phone["suicide_threat"].suppressed and phone["mental_health_crisis"].suppressed  # 2 and its rest
    assert truth[("CRT", 2024, "responses")].tables["by_month"].cells["03"] == 4


def test_no_shown_number_is_a_count_from_1_to_10_nor_reveals_one_through_a_share(published: Any) -> None:
    reports, _, _ = published
    for report in reports.values():
        for program in report.programs.values():
            for group in program.groups.values():
                total = group.figures[next(iter(group.figures))]
                for key, cell in group.figures.items():
                    if cell.suppressed or cell.value is None:
                        continue
                    if key.startswith("pct_") and total.value:  # the count behind a share, and its rest
                        whole = group.figures["team_safety_answered"].value if key == "pct_team_felt_safe" \
                            else total.value
                        assert whole is not None
                        part = round(cell.value * whole / 100)
                        assert not (0 < part < 11 or 0 < whole - part < 11), (key, cell.text, whole)
                    elif not key.startswith(("avg_", "pct_")):
                        assert not 0 < cell.value < 11, (key, cell.text)
                for table in group.tables.values():
                    for row in table.rows:
                        value = row.cells["count"].value
                        assert value is None or not 0 < value < 11, (table.key, row.key, value)


def test_no_hidden_cell_is_recovered_from_its_total_and_the_other_cells(published: Any) -> None:
    """Year minus the other months, all calls minus the other types, eligible calls minus the other outcomes."""
    reports, _, _ = published
    attacked = 0
    for report in reports.values():
        for program in report.programs.values():
            for group in program.groups.values():
                for table in group.tables.values():
                    hidden = [row for row in table.rows if row.cells["count"].suppressed]
                    if not hidden or table.total.suppressed:
                        continue
                    attacked += 1
                    assert table.total.value is not None
                    remainder = table.total.value - sum(row.cells["count"].value or 0 for row in table.rows)
                    # Each hidden cell is at least 1 (zeros are shown): it lies in [1, remainder - (others)].
                    low, high = 1, remainder - (len(hidden) - 1)
                    assert high > low, f"{table.key}: {len(hidden)} hidden cells add up to {remainder}"
    assert attacked >= 6


def test_no_figure_spans_two_periods_or_two_programs(published: Any) -> None:
    """Other periods: each year stands alone (no all-time or year-to-date total to difference against)."""
    reports, _, _ = published
    for year, report in reports.items():
        assert (report.since, report.until) == (date(year, 1, 1), date(year, 12, 31))
        assert set(report.programs) <= {"CRT", "SML", "CCD"}
        for program in report.programs.values():
            for group in program.groups.values():
                for table in group.tables.values():
                    if table.key.endswith("by_month"):
                        assert [row.label[:4] for row in table.rows] == [str(year)] * 12


def test_the_open_data_gives_back_no_hidden_cell(published: Any) -> None:
    reports, folder, truth = published
    blank_is_null = pacsv.ConvertOptions(strings_can_be_null=True)
    rows = pacsv.read_csv(folder / "responses.csv", convert_options=blank_is_null).to_pylist()
    assert rows == pq.read_table(folder / "responses.parquet").to_pylist()
    by_year = Counter((row["program"], row["year"]) for row in rows)
    assert by_year == {("CRT", 2023): 288, ("CRT", 2024): 268}  # SML 2024 (8) has no rows
    for code, year, group, table, key in _hidden_cells(reports):
        if group != "responses":
            continue  # reach and phone figures are not in the open data
        column = TABLE_COLUMNS[table]
        mine = [row for row in rows if row["program"] == code and row["year"] == year]
        if reports[year].programs[code].groups[group].total_hidden:
            assert not mine  # a hidden program-year has no rows
            continue
        wanted = int(key) if column in ("month", "hour_dispatched") else key
        assert not [row for row in mine if row[column] == wanted], f"{column} = {key} is in the open data"
        blank = sum(1 for row in mine if row[column] is None)
        table_cells = truth[(code, year, "responses")].tables[table].cells
        hidden_keys = {k for c, y, g, t, k in _hidden_cells(reports) if (c, y, g, t) == (code, year, group, table)}
        assert blank == sum(table_cells[k] for k in hidden_keys)  # only the sum the table already gives
        assert len(hidden_keys) >= 2
    crt24 = [row for row in rows if row["program"] == "CRT" and row["year"] == 2024]
    assert {row["pd_backup_for_team_safety"] for row in crt24} == {None}  # its share is hidden
    assert {row["team_felt_safe"] for row in crt24} == {None}
    assert sum(1 for row in crt24 if row["ems_support"]) == 15  # shown in the figures, so in the data
    crt23 = [row for row in rows if row["program"] == "CRT" and row["year"] == 2023]
    assert sum(1 for row in crt23 if row["team_felt_safe"] is False) == 20


def test_the_open_data_validates_against_its_dictionary_and_holds_no_personal_data(published: Any) -> None:
    from frictionless import Package, Resource, Schema

    reports, folder, _ = published
    package = Package(str(folder / "datapackage.json"))
    report = package.get_resource("responses").validate()
    assert report.valid, report.flatten(["rowNumber", "fieldName", "message"])
    parquet = pq.read_table(folder / "responses.parquet").to_pylist()
    schema = Schema.from_descriptor(table_schema())
    inline = Resource(data=[list(parquet[0].keys())] + [list(row.values()) for row in parquet], schema=schema)
    assert inline.validate().valid  # the Parquet file's rows against the same Table Schema
    assert pq.read_schema(folder / "responses.parquet").names == [f["name"] for f in table_schema()["fields"]]
    published_text = "".join(r.model_dump_json() for r in reports.values())
    for path in folder.iterdir():
        published_text += path.read_bytes().decode("latin-1")
    for marker in MARKERS:
        assert marker not in published_text


def test_a_broken_row_is_named_by_the_validator(published: Any, tmp_path: Path) -> None:
    """The dictionary is strict enough to fail: an hour 24 and a word in a minutes column are rejected."""
    from frictionless import Resource, Schema

    _, folder, _ = published
    lines = (folder / "responses.csv").read_text(encoding="utf-8").splitlines()
    header, first = lines[0], lines[1].split(",")
    first[3], first[6] = "24", "soon"
    broken = tmp_path / "broken.csv"
    broken.write_text("\n".join([header, ",".join(first)]) + "\n", encoding="utf-8")
    schema = Schema.from_descriptor(table_schema())
    report = Resource(path=broken.name, basepath=str(tmp_path), schema=schema).validate()
    assert not report.valid
    assert {error.type for error in report.tasks[0].errors} >= {"constraint-error", "type-error"}

