"""HSDS 3.0 JSON documents → flat records: compiled services, organizations and services at locations (nested
records and all), lists of them, HSDS API pages (``{"contents": [...]}``) and objects of tables
(``{"service": [rows], ...}``).

Nested records are flattened into their own tables, and the references that nesting implies are filled in
(a schedule inside a service gets that ``service_id``; a service holding an ``organization`` gets its
``organization_id``); a nested record that names a different parent is a problem, not silently re-parented.
JSON ``null`` counts as absent, like an empty CSV cell.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from heart.navigation.resources.hsds import Nested, Problem, tables
from heart.navigation.resources.records import Candidate, Reading, Source, shown, why

# Compiled HSDS documents nest more than the per-object schemas name: an organization's services, the service
# of a service_at_location.
EXTRA_NESTED: dict[str, tuple[Nested, ...]] = {
    "organization": (Nested("services", "service", many=True),),
    "service_at_location": (Nested("service", "service", many=False),),
}
CONTENTS_ARRAY = re.compile(r'"contents"\s*:\s*\[')


# --- JSON ----------------------------------------------------------------------------------------------------

def read_json(path: Path, reading: Reading) -> None:
    """Read one JSON file into ``reading``."""
    reading.files.append(str(path))
    try:
        text = path.read_bytes().decode("utf-8-sig")
        document = json.loads(text)
    except OSError as error:
        reading.fail(path, f"cannot be read ({error.strerror})")
        return
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        reading.fail(path, f"not JSON ({why(error)})")
        return
    flattener = _Flattener(path, reading)
    if isinstance(document, list):
        lines = _item_lines(text, 0)
        for index, item in enumerate(document):
            flattener.document(item, f"/{index}", lines[index] if lines else None)
    elif isinstance(document, dict) and isinstance(document.get("contents"), list):
        found = CONTENTS_ARRAY.search(text)
        lines = _item_lines(text, found.end() - 1) if found else None
        for index, item in enumerate(document["contents"]):
            flattener.document(item, f"/contents/{index}", lines[index] if lines else None)
    elif isinstance(document, dict) and document and set(document) <= set(tables()) and all(
            isinstance(rows, list) for rows in document.values()):
        for name, rows in document.items():
            for index, item in enumerate(rows):
                flattener.document(item, f"/{name}/{index}", None, table=name)
    else:
        flattener.document(document, "", 1)


def _item_lines(text: str, start: int) -> list[int] | None:
    """The line on which each item of the JSON array starting at ``start`` begins."""
    decoder = json.JSONDecoder()
    position = _skip_space(text, start)
    if position >= len(text) or text[position] != "[":
        return None
    line, counted, lines = 1, 0, []
    position = _skip_space(text, position + 1)
    try:
        while position < len(text) and text[position] != "]":
            line += text.count("\n", counted, position)
            counted = position
            lines.append(line)
            _, position = decoder.raw_decode(text, position)
            position = _skip_space(text, position)
            if position < len(text) and text[position] == ",":
                position = _skip_space(text, position + 1)
    except json.JSONDecodeError:
        return None
    return lines


def _skip_space(text: str, position: int) -> int:
    while position < len(text) and text[position] in " \t\r\n":
        position += 1
    return position


def document_table(document: dict[str, Any]) -> str | None:
    """Which HSDS object a compiled document is: a service has a status, a service_at_location links a service
    and a location, an organization has a name (and no status)."""
    if "service" in document or "location" in document or ("service_id" in document and "location_id" in document
                                                            and "name" not in document):
        return "service_at_location"
    if "status" in document:
        return "service"
    if "name" in document:
        return "organization"
    return None


class _Flattener:
    """Turns nested JSON documents into flat candidates, filling in the references nesting implies."""

    def __init__(self, path: Path, reading: Reading) -> None:
        self.path, self.reading = path, reading
        self.unknown: set[tuple[str, str]] = set()

    def document(self, item: Any, where: str, line: int | None, table: str | None = None) -> None:
        source = Source(str(self.path), line, where or "/")
        if not isinstance(item, dict):
            problem = Problem("", f"{shown(item)!r} is not of type 'object'")
            self.reading.candidates.append(Candidate(table or "", {}, source, [problem]))
            return
        kind = table or document_table(item)
        if kind is None:
            problem = Problem("", "cannot tell which HSDS object this is: a service has a status, an organization "
                                  "a name, a service_at_location a service and a location")
            self.reading.candidates.append(Candidate("", {}, source, [problem]))
            return
        self.record(item, kind, where, line, {})

    def record(self, item: dict[str, Any], name: str, where: str, line: int | None, fill: dict[str, str]) -> None:
        table = tables()[name]
        fields = set(table.field_names)
        nested = (*table.nested, *EXTRA_NESTED.get(name, ()))
        nested_names = {entry.name for entry in nested}
        record = {key: value for key, value in item.items() if key in fields and value is not None}
        problems: list[Problem] = []
        for key in item:
            if key not in fields and key not in nested_names and (name, key) not in self.unknown:
                self.unknown.add((name, key))
                self.reading.note(self.path, None, name, key, f"not a field of HSDS 3.0 {name}; not read")
        for key, value in fill.items():
            if key not in record:
                record[key] = value
            elif record[key] != value:
                problems.append(Problem(key, f"{shown(record[key])} differs from the record it is nested in "
                                             f"({value})", record[key]))
        children = self._children(item, nested, where, problems)
        for entry, child, _ in children:  # one nested record is referenced by this one
            if not entry.many:
                reference, child_id = f"{entry.table}_id", child.get("id")
                if isinstance(child_id, str) and reference in fields:
                    if reference not in record:
                        record[reference] = child_id
                    elif record[reference] != child_id:
                        problems.append(Problem(reference, f"{shown(record[reference])} differs from the id of the "
                                                           f"nested {entry.name} ({child_id})", record[reference]))
        self.reading.candidates.append(Candidate(name, record, Source(str(self.path), line, where or "/"), problems))
        own_id = record.get("id") if isinstance(record.get("id"), str) else None
        for entry, child, pointer in children:
            link = _link_to_parent(entry.table, name, own_id) if entry.many and own_id else {}
            self.record(child, entry.table, pointer, line, link)

    def _children(self, item: dict[str, Any], nested: tuple[Nested, ...], where: str,
                  problems: list[Problem]) -> list[tuple[Nested, dict[str, Any], str]]:
        children: list[tuple[Nested, dict[str, Any], str]] = []
        for entry in nested:
            value = item.get(entry.name)
            if value is None:
                continue
            if entry.many and not isinstance(value, list):
                problems.append(Problem(entry.name, f"{shown(value)!r} is not of type 'array'", value))
                continue
            for index, child in enumerate(value if entry.many else [value]):
                pointer = f"{where}/{entry.name}/{index}" if entry.many else f"{where}/{entry.name}"
                if not isinstance(child, dict):
                    label = f"{entry.name}.{index}" if entry.many else entry.name
                    problems.append(Problem(label, f"{shown(child)!r} is not of type 'object'", child))
                    continue
                children.append((entry, child, pointer))
        return children


def _link_to_parent(child_table: str, parent_table: str, parent_id: str) -> dict[str, str]:
    """The fields by which a record nested in a list names the record holding it."""
    if child_table == "attribute":
        return {"link_id": parent_id, "link_entity": parent_table}
    if child_table == "metadata":
        return {"resource_id": parent_id, "resource_type": parent_table}
    reference = f"{parent_table}_id"
    return {reference: parent_id} if reference in tables()[child_table].field_names else {}
