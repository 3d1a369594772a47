"""Export the directory as HSDS 3.0: a tabular data package (``datapackage.json`` + one CSV per table, the whole
directory) and, optionally, ``services.json``: every service as a compiled HSDS document, as the HSDS API serves
it (the records no service reaches, such as an organization's own identifiers, are only in the CSV files).

Every exported record is checked against the same published schemas the importer uses before anything is
written; ids are the HSDS ids the directory was given, so an export re-imports onto the same records.
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Table as SqlTable
from sqlalchemy import select
from sqlalchemy.orm import Session

from heart.errors import DomainError
from heart.navigation.resources.hsds import BASE_URI, check_record, tables, validator
from heart.navigation.resources.models import MODELS

DATAPACKAGE_TYPES = {"date": "date", "time": "time", "datetime": "datetime"}
TABLE_SCHEMA_FORMATS = {"uuid", "email", "uri"}


class ExportFailed(DomainError):
    """The directory holds a record that would not validate as HSDS 3.0 (a defect: imports check every record)."""


@dataclass(frozen=True, slots=True)
class ExportSummary:
    folder: Path
    records: dict[str, int]
    services_documents: int | None


@dataclass(frozen=True, slots=True)
class Part:
    """A nested property of a compiled document. ``many``: the child's ``key`` names the parent's id; one: the
    parent's ``key`` names the child's id."""

    name: str
    table: str
    many: bool
    key: str
    parts: tuple[Part, ...] = ()


TERM = Part("taxonomy_term", "taxonomy_term", False, "taxonomy_term_id",
            (Part("taxonomy_detail", "taxonomy", False, "taxonomy_id"),))
TAIL = (Part("attributes", "attribute", True, "link_id", (TERM,)), Part("metadata", "metadata", True, "resource_id"))


def _phones(key: str) -> Part:
    return Part("phones", "phone", True, key, (Part("languages", "language", True, "phone_id", TAIL), *TAIL))


def _contacts(key: str) -> Part:
    return Part("contacts", "contact", True, key, (_phones("contact_id"), *TAIL))


def _many(name: str, table: str, key: str) -> Part:
    return Part(name, table, True, key, TAIL)


LOCATION = Part("location", "location", False, "location_id", (
    _many("languages", "language", "location_id"), _many("addresses", "address", "location_id"),
    _contacts("location_id"), _many("accessibility", "accessibility", "location_id"), _phones("location_id"),
    _many("schedules", "schedule", "location_id"), *TAIL))
SERVICE_PARTS = (
    _phones("service_id"), _many("schedules", "schedule", "service_id"),
    _many("service_areas", "service_area", "service_id"),
    Part("service_at_locations", "service_at_location", True, "service_id", (
        _contacts("service_at_location_id"), _phones("service_at_location_id"),
        _many("schedules", "schedule", "service_at_location_id"), LOCATION, *TAIL)),
    _many("languages", "language", "service_id"),
    Part("organization", "organization", False, "organization_id", (
        _many("funding", "funding", "organization_id"), _contacts("organization_id"), _phones("organization_id"),
        _many("programs", "program", "organization_id"),
        _many("organization_identifiers", "organization_identifier", "organization_id"), *TAIL)),
    _many("funding", "funding", "service_id"), _many("cost_options", "cost_option", "service_id"),
    Part("program", "program", False, "program_id", TAIL),
    _many("required_documents", "required_document", "service_id"), _contacts("service_id"), *TAIL,
)


def export_directory(*, session: Session, folder: Path, with_json: bool = True) -> ExportSummary:
    """Write the directory to ``folder`` (created if needed); see the module docstring."""
    rows = {name: _records(session, name) for name in tables()}
    for name, records in rows.items():
        for record in records:
            problems = check_record(name, record)
            if problems:
                first = problems[0]
                raise ExportFailed(f"{name} {record.get('id')}: {first.field} {first.reason}")
    folder.mkdir(parents=True, exist_ok=True)
    for name, records in rows.items():
        _write_csv(folder / tables()[name].path, name, records)
    (folder / "datapackage.json").write_text(json.dumps(descriptor(), indent=2, ensure_ascii=False) + "\n",
                                             encoding="utf-8")
    documents = None
    if with_json:
        services = compiled_services(rows)
        check = validator("service")
        for document in services:
            error = next(iter(check.iter_errors(document)), None)
            if error is not None:
                raise ExportFailed(f"service {document.get('id')}: {error.message}")
        (folder / "services.json").write_text(json.dumps(services, indent=2, ensure_ascii=False) + "\n",
                                              encoding="utf-8")
        documents = len(services)
    return ExportSummary(folder, {name: len(records) for name, records in rows.items()}, documents)


def _records(session: Session, name: str) -> list[dict[str, Any]]:
    """Every row of a table as an HSDS record (JSON values; absent fields left out), in id order."""
    model_table = cast(SqlTable, MODELS[name].__table__)
    return [{key: _json_value(value) for key, value in row.items() if value is not None}
            for row in session.execute(select(model_table).order_by(model_table.c.id)).mappings()]


def _json_value(value: Any) -> Any:
    if isinstance(value, float):
        return int(value) if value.is_integer() else value
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    return value


def _write_csv(path: Path, name: str, records: Iterable[dict[str, Any]]) -> None:
    header = list(tables()[name].field_names)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for record in records:
            writer.writerow(["" if record.get(column) is None else str(record[column]) for column in header])


def descriptor() -> dict[str, Any]:
    """A Frictionless tabular data package descriptor for HSDS 3.0's tables, from the published schemas."""
    resources = []
    for name, table in tables().items():
        fields = []
        for spec in table.fields:
            prop = table.schema["properties"][spec.name]
            field: dict[str, Any] = {"name": spec.name, "type": DATAPACKAGE_TYPES.get(spec.datapackage_type or "",
                                                                                        spec.type)}
            if prop.get("format") in TABLE_SCHEMA_FORMATS:
                field["format"] = prop["format"]
            field["title"], field["description"] = prop.get("title", spec.name), prop.get("description", "")
            constraints: dict[str, Any] = {"required": spec.name in (*table.required, *table.tabular_required)}
            if prop.get("constraints", {}).get("unique"):
                constraints["unique"] = True
            if "enum" in prop:
                constraints["enum"] = prop["enum"]
            field["constraints"] = constraints
            fields.append(field)
        resources.append({"name": name, "path": table.path, "profile": "tabular-data-resource", "format": "csv",
                          "mediatype": "text/csv", "encoding": "utf-8", "description": table.description,
                          "schema": {"fields": fields, "primaryKey": "id"}})
    return {"profile": "tabular-data-package", "name": "hsds-directory", "title": "HEART resource directory",
            "description": "Community services in Open Referral HSDS 3.0 terms, exported by HEART.",
            "hsds": {"version": "3.0", "schema": BASE_URI}, "resources": resources}


def compiled_service(*, session: Session, service_id: str) -> dict[str, Any] | None:
    """One service as a compiled HSDS document, read record by record (None when there is no such service)."""
    service = _fetch(session, "service", "id", service_id)
    return _nest(session, service[0], SERVICE_PARTS) if service else None


def _fetch(session: Session, name: str, column: str, value: str) -> list[dict[str, Any]]:
    model_table = cast(SqlTable, MODELS[name].__table__)
    return [{key: _json_value(item) for key, item in row.items() if item is not None}
            for row in session.execute(select(model_table).where(model_table.c[column] == value)
                                       .order_by(model_table.c.id)).mappings()]


def _nest(session: Session, record: dict[str, Any], parts: tuple[Part, ...]) -> dict[str, Any]:
    document = dict(record)
    for part in parts:
        if part.many:
            children = _fetch(session, part.table, part.key, record["id"])
            if children:
                document[part.name] = [_nest(session, child, part.parts) for child in children]
        elif isinstance(record.get(part.key), str):
            found = _fetch(session, part.table, "id", record[part.key])
            if found:
                document[part.name] = _nest(session, found[0], part.parts)
    return document


def compiled_services(rows: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Every service as one nested HSDS document (compiled/service.json)."""
    by_id = {name: {record["id"]: record for record in records} for name, records in rows.items()}
    by_key: dict[tuple[str, str], dict[str, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    for name, records in rows.items():
        for record in records:
            for key, value in record.items():
                if key.endswith("_id") and isinstance(value, str):
                    by_key[(name, key)][value].append(record)

    def nest(record: dict[str, Any], parts: tuple[Part, ...]) -> dict[str, Any]:
        document = dict(record)
        for part in parts:
            if part.many:
                children = by_key[(part.table, part.key)].get(record["id"], [])
                if children:
                    document[part.name] = [nest(child, part.parts) for child in children]
            elif (child := by_id[part.table].get(record.get(part.key, ""))) is not None:
                document[part.name] = nest(child, part.parts)
        return document

    return [nest(service, SERVICE_PARTS) for service in rows["service"]]
