"""HSDS 3.0 export: a data package that validates against the published schemas and re-imports to the same content."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from heart.db import transaction
from heart.navigation.resources.exporter import export_directory
from heart.navigation.resources.importer import ImportSummary, check_directory
from heart.navigation.resources.models import MODELS
from heart.navigation.resources.needs import load_needs
from tests.navigation.conftest import DEMO, EXAMPLE, HSDS

ImportRun = Callable[..., ImportSummary]
NUMBER_FIELDS = {name: {field for field, spec in json.loads(path.read_text())["properties"].items()
                        if spec.get("type") == "number"}
                 for path in (HSDS / "schema").glob("*.json") if path.name != "openapi.json"
                 for name in [json.loads(path.read_text())["name"]]}


def published_validator(name: str) -> Draft202012Validator:
    """A validator built here from the reference copy (not HEART's vendored one), nested references resolved."""
    base = "https://example.invalid/hsds/"
    registry: Registry[Any] = Registry().with_resources(
        (base + path.name, Resource.from_contents(json.loads(path.read_text()), default_specification=DRAFT202012))
        for path in (HSDS / "schema").glob("*.json"))
    schema = {**json.loads((HSDS / "schema" / f"{name}.json").read_text()), "$id": base + f"{name}.json"}
    return Draft202012Validator(schema, registry=registry, format_checker=FormatChecker())


def typed(table: str, row: dict[str, str]) -> dict[str, Any]:
    """A CSV row as the JSON record it stands for (empty cells absent, number columns as numbers)."""
    return {key: (float(value) if key in NUMBER_FIELDS[table] else value) for key, value in row.items() if value}


def snapshot(sessions: sessionmaker[Session]) -> dict[str, list[dict[str, Any]]]:
    with sessions() as session:
        return {name: [dict(row) for row in session.execute(select(model.__table__).order_by(
            model.__table__.c.id)).mappings()] for name, model in MODELS.items()}  # type: ignore[attr-defined]


def validate_package(folder: Path) -> int:
    """Every CSV row of an exported package against the published per-object schema; the rows checked."""
    descriptor = json.loads((folder / "datapackage.json").read_text())
    assert descriptor["profile"] == "tabular-data-package"
    checked = 0
    for resource in descriptor["resources"]:
        with (folder / resource["path"]).open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            assert reader.fieldnames == [field["name"] for field in resource["schema"]["fields"]]
            validator = published_validator(resource["name"])
            for row in reader:
                errors = [error.message for error in validator.iter_errors(typed(resource["name"], row))]
                assert errors == [], (resource["path"], row["id"], errors)
                checked += 1
    return checked


def test_the_export_validates_and_re_imports_to_the_same_content(
    run_import: ImportRun, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    run_import(EXAMPLE, DEMO)
    before = snapshot(sessions)
    with sessions() as session:
        summary = export_directory(session=session, folder=tmp_path / "first")
    assert summary.records["service"] == 24 and summary.services_documents == 24
    assert validate_package(tmp_path / "first") == sum(len(rows) for rows in before.values())
    compiled = Draft202012Validator(json.loads((HSDS / "schema" / "compiled" / "service.json").read_text()),
                                    format_checker=FormatChecker())
    documents = json.loads((tmp_path / "first" / "services.json").read_text())
    assert [error.message for document in documents for error in compiled.iter_errors(document)] == []

    with transaction(sessions) as session:  # an empty directory takes the export back
        for model in MODELS.values():
            session.execute(delete(model))
    again = run_import(tmp_path / "first")
    assert again.total("rejected") == 0 and again.total("added") == sum(len(rows) for rows in before.values())
    assert snapshot(sessions) == before
    with sessions() as session:
        export_directory(session=session, folder=tmp_path / "second")
    for path in sorted((tmp_path / "first").glob("*.csv")):
        assert path.read_bytes() == (tmp_path / "second" / path.name).read_bytes(), path.name


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_services_json_alone_re_imports_every_service_with_its_sites_and_hours(
    run_import: ImportRun, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    run_import(DEMO)
    before = snapshot(sessions)
    with sessions() as session:
        export_directory(session=session, folder=tmp_path)
    with transaction(sessions) as session:
        for model in MODELS.values():
            session.execute(delete(model))
    summary = run_import(tmp_path / "services.json")
    assert summary.total("rejected") == 0
    after = snapshot(sessions)
    for table in ("service", "organization", "service_at_location", "location", "address", "schedule", "language",
                  "phone", "attribute", "taxonomy_term", "taxonomy", "required_document"):
        assert after[table] == before[table], table


def test_the_demo_directory_is_a_valid_package_covering_every_need_with_hours_and_languages() -> None:
    summary = check_directory(paths=[DEMO])
    assert summary.failed_files == {} and summary.rejects == [] and summary.notes == []
    assert validate_package(DEMO) == summary.total("added")
    needs = load_needs(DEMO.parent / "needs.yaml")
    assert needs.needs  # the responder's outcome form offers exactly these needs (heart.dispatch.responder)
    assert summary.total("added", "schedule") >= 20 and summary.total("added", "language") >= 20
