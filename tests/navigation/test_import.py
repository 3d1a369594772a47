"""HSDS 3.0 import: the official example whole, bad rows named and left out, good rows kept, re-import idempotent."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from heart.events import Event
from heart.navigation.resources import hsds
from heart.navigation.resources.importer import ImportSummary, check_directory
from heart.navigation.resources.models import MODELS, DirectoryImport, Schedule, Service
from heart.navigation.resources.records import Finding
from tests.navigation.conftest import EXAMPLE, HSDS, read_table, with_cell, write_table

ImportRun = Callable[..., ImportSummary]
NEW_SERVICE = "0b7c4b3e-8f3e-4f0e-9a59-4a0f3c2b1d10"


def rows_in(session: Session) -> dict[str, int]:
    return {name: int(session.scalar(select(func.count()).select_from(model)) or 0) for name, model in MODELS.items()}


def rejected(summary: ImportSummary, **match: object) -> list[Finding]:
    return [f for f in summary.rejects if all(getattr(f, key) == value for key, value in match.items())]


def test_the_official_example_package_imports_whole_and_a_second_import_changes_nothing(
    run_import: ImportRun, sessions: sessionmaker[Session]
) -> None:
    first = run_import(EXAMPLE)
    assert (first.total("read"), first.total("added"), first.total("rejected")) == (21, 21, 0)
    assert first.failed_files == {}
    noted = {(note.table, note.field): note.reason for note in first.notes}
    # the example's datapackage.json is a git symbolic link stored as text: the standard file names still work
    assert "symbolic link" in noted[("", "")]
    assert "outside −90…90" in noted[("location", "latitude")]  # latitude 100: kept, left out of distances
    assert "no organization with this id" in noted[("location", "organization_id")]
    with sessions() as session:
        assert rows_in(session) == {name: 1 for name in MODELS}
        counselling = session.scalars(select(Service)).one()
        assert (counselling.name, counselling.minimum_age, counselling.status) == (
            "Community Counselling", 12, "active")
        assert counselling.last_modified is not None and counselling.last_modified.isoformat().startswith(
            "2023-03-15T10:30:45.123")
        schedule = session.scalars(select(Schedule)).one()
        assert (schedule.byday, schedule.opens_at, schedule.timezone) == ("TH,FR", "10:00:00", 3)

    again = run_import(EXAMPLE)
    assert (again.total("read"), again.total("added"), again.total("updated"), again.total("unchanged")) == (
        21, 0, 0, 21)
    with sessions() as session:
        assert rows_in(session) == {name: 1 for name in MODELS}
        runs = session.scalars(select(DirectoryImport).order_by(DirectoryImport.id)).all()
        assert [run.summary["totals"]["added"] for run in runs] == [21, 0]
        events = session.scalars(select(Event).where(Event.kind == "resources.imported")).all()
        assert [event.subject_id for event in events] == [run.id for run in runs]


def test_a_changed_record_is_updated_in_place(run_import: ImportRun, sessions: sessionmaker[Session],
                                              example_copy: Path) -> None:
    run_import(example_copy)
    header, rows = read_table(example_copy / "services.csv")
    write_table(example_copy / "services.csv", header, [with_cell(header, rows[0], name="Counselling (renamed)",
                                                                  alert="")])
    updated = run_import(example_copy)
    assert (updated.total("updated"), updated.total("added")) == (1, 0)
    with sessions() as session:
        service = session.scalars(select(Service)).one()
        assert (service.name, service.alert) == ("Counselling (renamed)", None)  # an emptied field is cleared


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_bad_field_types_are_named_by_file_line_and_field_and_the_good_rows_around_them_kept(
    run_import: ImportRun, sessions: sessionmaker[Session], example_copy: Path
) -> None:
    header, rows = read_table(example_copy / "services.csv")
    good = with_cell(header, rows[0], description="Two lines\nof description")  # lines 2-3
    bad = with_cell(header, rows[0], id="6f1e0c36-93c4-4b1a-8f0a-5c8e2d1b7a91", minimum_age="twelve",
                    email="nobody", status="open", last_modified="yesterday")  # line 4
    also_good = with_cell(header, rows[0], id=NEW_SERVICE, name="Another service")  # line 5
    path = write_table(example_copy / "services.csv", header, [good, bad, also_good])
    summary = run_import(example_copy)

    assert summary.count(str(path), "service").rejected == 1
    assert summary.count(str(path), "service").added == 2
    found = {(f.line, f.field, f.value): f.reason for f in rejected(summary, table="service")}
    assert found == {
        (4, "email", "nobody"): "'nobody' is not a 'email'",
        (4, "status", "open"): "'open' is not one of ['active', 'inactive', 'defunct', 'temporarily closed']",
        (4, "minimum_age", "twelve"): "'twelve' is not of type 'number'",
        (4, "last_modified", "yesterday"): "'yesterday' is not a 'date-time'",
    }
    with sessions() as session:
        assert set(session.scalars(select(Service.name))) == {"Community Counselling", "Another service"}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_missing_required_fields_reject_the_row_and_a_missing_required_column_the_file(
    run_import: ImportRun, example_copy: Path
) -> None:
    header, rows = read_table(example_copy / "organizations.csv")
    write_table(example_copy / "organizations.csv", header, [with_cell(header, rows[0], name="")])
    header, rows = read_table(example_copy / "schedules.csv")
    write_table(example_copy / "schedules.csv", header, [with_cell(header, rows[0], opens_at="9am",
                                                                   valid_from="2025-02-30")])
    header, rows = read_table(example_copy / "addresses.csv")
    keep = [i for i, name in enumerate(header) if name != "city"]
    write_table(example_copy / "addresses.csv", [header[i] for i in keep], [[rows[0][i] for i in keep]])

    summary = run_import(example_copy)
    assert [(f.line, f.field, f.reason) for f in rejected(summary, table="organization")] == [
        (2, "name", "required by HSDS 3.0, missing")]
    assert {(f.field, f.reason) for f in rejected(summary, table="schedule")} == {
        ("valid_from", "'2025-02-30' is not a date (YYYY-MM-DD)"),
        ("opens_at", "'9am' is not a time (HH:MM or HH:MM:SS, optionally with Z or ±HH:MM)")}
    assert summary.failed_files == {str(example_copy / "addresses.csv"):
                                    "line 1: no column for city (required by HSDS 3.0)"}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_records_that_depend_on_a_rejected_record_go_with_it_unless_the_directory_already_holds_it(
    run_import: ImportRun, sessions: sessionmaker[Session], example_copy: Path
) -> None:
    header, rows = read_table(example_copy / "services.csv")
    write_table(example_copy / "services.csv", header, [with_cell(header, rows[0], status="")])
    summary = run_import(example_copy)
    because = {f.table: f.reason for f in summary.rejects if f.field == "service_id"}
    assert because["schedule"] == because["service_at_location"] == because["required_document"] == (
        "its service was rejected (services.csv line 2)")
    with sessions() as session:
        assert rows_in(session)["service"] == rows_in(session)["schedule"] == 0
        assert rows_in(session)["organization"] == 1  # what does not depend on the service is kept

    # once the directory holds the service, a broken new version of it is refused and the old one stays
    run_import(EXAMPLE)
    broken = run_import(example_copy)
    assert [f.table for f in broken.rejects] == ["service"]
    with sessions() as session:
        assert session.scalars(select(Service.status)).one() == "active"
        assert rows_in(session)["schedule"] == 1


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_repeated_id_is_read_once_and_a_conflicting_repeat_is_rejected(run_import: ImportRun,
                                                                        example_copy: Path) -> None:
    header, rows = read_table(example_copy / "services.csv")
    write_table(example_copy / "services.csv", header, [rows[0], rows[0], with_cell(header, rows[0], name="Other")])
    summary = run_import(example_copy)
    counts = summary.count(str(example_copy / "services.csv"), "service")
    assert (counts.read, counts.added, counts.unchanged, counts.rejected) == (3, 1, 1, 1)
    assert [(f.line, f.field, f.reason) for f in summary.rejects] == [
        (4, "id", "repeats the service at services.csv line 2 with other values")]


def test_nested_json_documents_are_flattened_and_checked_record_by_record(
    run_import: ImportRun, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    organization = {"id": "d9d5e0f5-d3ce-4f73-9a2f-4dd0ecc6c610", "name": "Org", "description": "An org"}
    good = {"id": "ac148810-d857-441c-9679-408f346de14b", "name": "Pantry", "status": "active",
            "organization": organization,
            "schedules": [{"id": "48102e86-bb50-41c4-8f1e-e269368c41d1", "byday": "MO", "opens_at": "09:00",
                           "closes_at": "12:00"},
                          {"id": "58102e86-bb50-41c4-8f1e-e269368c41d1", "opens_at": "9am"}],
            "languages": [{"id": "2989d3ed-c547-48f8-8f9d-432d81c7892e", "code": "es", "name": "Spanish",
                           "service_id": "11111111-1111-4111-8111-111111111111"}],
            "extension_field": "not HSDS"}
    no_kind = {"hello": "world"}
    text = json.dumps([good, no_kind, "a string"], indent=2)
    path = tmp_path / "services.json"
    path.write_text(text, encoding="utf-8")
    summary = run_import(path)

    lines = [number for number, line in enumerate(text.splitlines(), start=1) if line in ("  {", '  "a string"')]
    found = {(f.line, f.where, f.table, f.field): f.reason for f in summary.rejects}
    assert found == {
        (lines[0], "/0/schedules/1", "schedule", "opens_at"):
            "'9am' is not a time (HH:MM or HH:MM:SS, optionally with Z or ±HH:MM)",
        (lines[0], "/0/languages/0", "language", "service_id"):
            "11111111-1111-4111-8111-111111111111 differs from the record it is nested in "
            "(ac148810-d857-441c-9679-408f346de14b)",
        (lines[1], "/1", "", ""): "cannot tell which HSDS object this is: a service has a status, an organization "
                                  "a name, a service_at_location a service and a location",
        (lines[2], "/2", "", ""): "'a string' is not of type 'object'",
    }
    assert any(n.field == "extension_field" and "not a field of HSDS 3.0 service" in n.reason for n in summary.notes)
    with sessions() as session:
        service = session.scalars(select(Service)).one()
        assert service.organization_id == organization["id"]  # the nesting named the organization
        schedule = session.scalars(select(Schedule)).one()
        assert schedule.service_id == service.id  # and the schedule's service


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_files_that_cannot_be_read_are_named_and_the_rest_imported(run_import: ImportRun, tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('[{"id": 1,}]', encoding="utf-8")
    stray = tmp_path / "notes.csv"
    stray.write_text("a,b\n1,2\n", encoding="utf-8")
    summary = run_import(broken, stray, tmp_path / "missing.json", EXAMPLE / "services.csv")
    assert summary.failed_files == {
        str(broken): "not JSON (line 1 column 11: Expecting property name enclosed in double quotes)",
        str(stray): "not an HSDS 3.0 table file name (organizations.csv, services.csv, …); put it in a data "
                    "package whose datapackage.json names its table",
        str(tmp_path / "missing.json"): "cannot be read (No such file or directory)",
    }
    assert summary.total("added", "service") == 1


def test_a_data_package_descriptor_names_its_tables_and_is_kept_inside_its_folder(tmp_path: Path) -> None:
    folder = tmp_path / "package"
    folder.mkdir()
    (folder / "svc.csv").write_text((EXAMPLE / "services.csv").read_text(encoding="utf-8"), encoding="utf-8")
    (folder / "datapackage.json").write_text(json.dumps({"resources": [
        {"name": "service", "path": "svc.csv"}, {"name": "widgets", "path": "w.csv"},
        {"name": "organization", "path": "../../etc/passwd"}]}), encoding="utf-8")
    summary = check_directory(paths=[folder])
    assert summary.count(str(folder / "svc.csv"), "service").added == 1  # "would keep"
    assert "resource 'widgets' is not an HSDS 3.0 table; not read" in [n.reason for n in summary.notes]
    assert list(summary.failed_files.values()) == ["a resource path must stay inside the package folder"]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_schedule_heart_cannot_place_in_time_is_kept_with_a_note(run_import: ImportRun, example_copy: Path) -> None:
    header, rows = read_table(example_copy / "schedules.csv")
    write_table(example_copy / "schedules.csv", header, [with_cell(header, rows[0], byday="Mondays")])
    summary = run_import(example_copy)
    assert summary.total("rejected") == 0
    assert [n.reason for n in summary.notes if n.table == "schedule"] == [
        "kept, but never counts as open now: byday 'Mondays' is not a list of RFC 5545 days (MO,TU or 2SA,-1FR)"]


def test_the_vendored_schemas_are_the_published_ones_and_the_tables_hold_every_field() -> None:
    for path in sorted(hsds.SCHEMA_DIR.glob("*.json")):
        assert path.read_bytes() == (HSDS / "schema" / path.name).read_bytes(), path.name
    assert set(hsds.tables()) == set(MODELS)
    for name, table in hsds.tables().items():
        assert [column.name for column in MODELS[name].__table__.columns] == list(table.field_names), name


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_an_hsds_api_page_and_an_object_of_tables_are_read_too(run_import: ImportRun, tmp_path: Path,
                                                               sessions: sessionmaker[Session]) -> None:
    organization = {"id": "d9d5e0f5-d3ce-4f73-9a2f-4dd0ecc6c610", "name": "Org", "description": "An org"}
    services = [{"id": ident, "name": name, "status": "active", "organization": organization}
                for ident, name in (("ac148810-d857-441c-9679-408f346de14b", "One"),
                                    ("bc148810-d857-441c-9679-408f346de14b", "Two"))]
    page = tmp_path / "page.json"
    text = json.dumps({"total_items": 2, "page_number": 1, "contents": services}, indent=2)
    page.write_text(text, encoding="utf-8")
    summary = run_import(page)
    assert (summary.count(str(page), "service").added, summary.count(str(page), "organization").read,
            summary.count(str(page), "organization").added) == (2, 2, 1)  # the same organization, read once

    tables = tmp_path / "tables.json"
    tables.write_text(json.dumps({"service": [{**services[0], "name": "One, renamed"}], "phone": [
        {"id": "1554f2e2-a373-45db-a3fa-9fc48a61c15e", "service_id": services[0]["id"], "number": 5551234}]}))
    summary = run_import(tables)
    assert [(f.where, f.field, f.reason) for f in summary.rejects] == [
        ("/phone/0", "number", "5551234 is not of type 'string'")]
    with sessions() as session:
        assert set(session.scalars(select(Service.name))) == {"One, renamed", "Two"}
