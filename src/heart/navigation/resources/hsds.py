"""The Open Referral HSDS 3.0 standard as published: its tables, fields and JSON Schema validators.

Everything here is read from the vendored, unchanged per-object schemas (``hsds/schema/*.json``, see
``hsds/NOTICE.md``): table names, CSV file names, field types, required fields, what nests in what. Records are
checked with ``jsonschema`` (Draft 2020-12, the dialect of HSDS's OpenAPI document) with format checking on
(uuid, email, uri, date-time), plus the schema's own ``datapackage_type`` annotation (date, time, datetime),
which HSDS's field descriptions make binding ("It must be in the ISO 8601 format of YYYY-MM-DD").
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker, ValidationError, validators
from jsonschema.protocols import Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SCHEMA_DIR = Path(__file__).resolve().parent / "hsds" / "schema"
# Where HSDS publishes these files; the per-object schemas' relative "$ref"s resolve against it (never fetched).
BASE_URI = "https://raw.githubusercontent.com/openreferral/specification/3.0/schema/"
TIME_PATTERN = re.compile(r"^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d+)?)?(Z|[+-]([01]\d|2[0-3]):?[0-5]\d)?$")
DATE_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True, slots=True)
class Field:
    """One scalar field of an HSDS table: a CSV column, a JSON property."""

    name: str
    type: str  # "string" or "number", as the schema says
    datapackage_type: str | None  # "date", "time", "datetime" for strings that carry one
    required: bool


@dataclass(frozen=True, slots=True)
class Nested:
    """A property holding other records: ``service.schedules`` (many) or ``service.organization`` (one)."""

    name: str
    table: str
    many: bool


@dataclass(frozen=True, slots=True)
class Table:
    """One HSDS object / tabular resource (``service`` in ``services.csv``)."""

    name: str
    path: str
    order: int
    description: str
    fields: tuple[Field, ...]
    nested: tuple[Nested, ...]
    required: tuple[str, ...]
    tabular_required: tuple[str, ...]
    schema: dict[str, Any]

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(field.name for field in self.fields)

    def field(self, name: str) -> Field | None:
        return next((field for field in self.fields if field.name == name), None)


# A reference field → the table it names. ``link_id`` and ``resource_id`` name the table in a sibling field.
REFERENCES: dict[str, str] = {
    "organization_id": "organization", "service_id": "service", "location_id": "location",
    "service_at_location_id": "service_at_location", "phone_id": "phone", "contact_id": "contact",
    "program_id": "program", "taxonomy_term_id": "taxonomy_term", "taxonomy_id": "taxonomy",
    "parent_organization_id": "organization", "parent_id": "taxonomy_term",
}
# Hierarchies, not dependencies: a child organization or term stands without its parent.
HIERARCHY_FIELDS = frozenset({"parent_organization_id", "parent_id"})


@cache
def tables() -> dict[str, Table]:
    """Every HSDS 3.0 table, in the data package order the standard gives them."""
    found: list[Table] = []
    for path in sorted(SCHEMA_DIR.glob("*.json")):
        schema = json.loads(path.read_text(encoding="utf-8"))
        required = tuple(schema.get("required", ()))
        fields, nested = [], []
        for name, spec in schema["properties"].items():
            if spec.get("type") == "array":
                nested.append(Nested(name, _table_of(spec["items"]["$ref"]), many=True))
            elif "$ref" in spec:
                nested.append(Nested(name, _table_of(spec["$ref"]), many=False))
            else:
                fields.append(Field(name, spec["type"], spec.get("datapackage_type"), name in required))
        found.append(Table(name=schema["name"], path=schema["path"], order=schema["datapackage_metadata"]["order"],
                           description=schema.get("description", ""), fields=tuple(fields), nested=tuple(nested),
                           required=required, tabular_required=tuple(schema.get("tabular_required", ())),
                           schema=schema))
    return {table.name: table for table in sorted(found, key=lambda table: table.order)}


def table_for_path(file_name: str) -> Table | None:
    """The table whose standard CSV file is ``file_name`` (``services.csv`` → service)."""
    return next((table for table in tables().values() if table.path == file_name), None)


def _table_of(ref: str) -> str:
    return ref.removesuffix(".json")


def _check_datapackage_type(validator: Any, kind: str, instance: Any, schema: dict[str, Any]) -> Iterator[Any]:
    """The published ``datapackage_type`` as an assertion on strings: dates, times and date-times must parse."""
    if not isinstance(instance, str):
        return
    if kind == "date" and not _is_date(instance):
        yield ValidationError(f"{instance!r} is not a date (YYYY-MM-DD)")
    elif kind == "time" and not TIME_PATTERN.match(instance):
        yield ValidationError(f"{instance!r} is not a time (HH:MM or HH:MM:SS, optionally with Z or ±HH:MM)")
    elif kind == "datetime" and schema.get("format") != "date-time" and not _is_datetime(instance):
        yield ValidationError(f"{instance!r} is not a date-time (RFC 3339, e.g. 2025-03-15T10:30:00Z)")


def _is_datetime(value: str) -> bool:
    return FormatChecker().conforms(value, "date-time")


def _is_date(value: str) -> bool:
    if not DATE_PATTERN.match(value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


HsdsValidator = validators.extend(Draft202012Validator, {"datapackage_type": _check_datapackage_type})


@cache
def registry() -> Registry[Any]:
    """The per-object schemas under their published addresses, so that their "$ref"s resolve offline."""
    resources = [(BASE_URI + f"{name}.json", Resource.from_contents(table.schema, default_specification=DRAFT202012))
                 for name, table in tables().items()]
    return Registry().with_resources(resources)


@cache
def validator(table: str) -> Validator:
    """A validator of one record of ``table``, nested records included (through the registry)."""
    schema = {**tables()[table].schema, "$id": BASE_URI + f"{table}.json"}
    result: Validator = HsdsValidator(schema, registry=registry(), format_checker=FormatChecker())
    return result


@dataclass(frozen=True, slots=True)
class Problem:
    """Why a record does not conform: the field (a dotted path below the record, or "" for the record) and why."""

    field: str
    reason: str
    value: Any = None


def check_record(table: str, record: dict[str, Any], *, tabular: bool = True) -> list[Problem]:
    """Every way ``record`` (scalar fields only) breaks HSDS 3.0, in field order.

    ``tabular`` also requires the fields that the tabular form needs (``tabular_required``: a service's
    organization_id), so that a record HEART keeps can always be exported as a valid data package.
    """
    spec = tables()[table]
    problems: list[Problem] = []
    for error in validator(table).iter_errors(record):
        path = ".".join(str(part) for part in error.absolute_path)
        if error.validator == "required":
            missing = re.match(r"'([^']+)'", error.message)
            problems.append(Problem(missing.group(1) if missing else path, "required by HSDS 3.0, missing"))
        else:
            problems.append(Problem(path, error.message, error.instance))
    if tabular:
        problems += [Problem(name, f"required by the tabular form of HSDS 3.0 (to link the {table}), missing")
                     for name in spec.tabular_required if record.get(name) in (None, "")]
    order = {name: position for position, name in enumerate(spec.field_names)}
    return sorted(problems, key=lambda problem: order.get(problem.field.split(".")[0], len(order)))
