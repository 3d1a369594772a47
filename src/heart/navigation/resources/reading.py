"""Read HSDS 3.0 data as published, into flat records with where each came from (file, line, JSON pointer).

Accepted inputs (files or folders, several at once): a tabular data package (``datapackage.json`` naming its CSV
resources by HSDS table name), a folder of CSV files under HSDS's own file names (``organizations.csv``,
``services.csv``…), one such CSV file, or HSDS JSON (see ``documents``). An empty CSV cell is an absent field.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from pathlib import Path
from typing import Any

from heart.navigation.resources.documents import read_json
from heart.navigation.resources.hsds import Problem, Table, table_for_path, tables
from heart.navigation.resources.records import Candidate, Reading, Source, shown, why

DESCRIPTOR = "datapackage.json"


def read_inputs(paths: list[Path]) -> Reading:
    """Read every path (files or folders) into one Reading; nothing here touches the database."""
    reading = Reading()
    for path in paths:
        if path.is_dir():
            _read_folder(path, reading)
        elif path.name == DESCRIPTOR:
            _read_package(path, reading)
        elif path.suffix.lower() == ".csv":
            table = table_for_path(path.name)
            if table is None:
                reading.fail(path, "not an HSDS 3.0 table file name (organizations.csv, services.csv, …); "
                                   "put it in a data package whose datapackage.json names its table")
            else:
                _read_csv(path, table, reading)
        elif path.suffix.lower() == ".json":
            read_json(path, reading)
        elif not path.exists():
            reading.fail(path, "does not exist")
        else:
            reading.fail(path, "is not a data package, a CSV file or a JSON file")
    return reading


def _read_folder(folder: Path, reading: Reading) -> None:
    if (folder / DESCRIPTOR).is_file():
        _read_package(folder / DESCRIPTOR, reading)
        return
    found = [(table, folder / table.path) for table in tables().values() if (folder / table.path).is_file()]
    documents = sorted(path for path in folder.glob("*.json"))
    if not found and not documents:
        reading.fail(folder, "holds no datapackage.json, no HSDS CSV file (organizations.csv, services.csv, …) "
                             "and no JSON file")
    for table, path in found:
        _read_csv(path, table, reading)
    for path in documents:
        read_json(path, reading)


def _read_package(descriptor: Path, reading: Reading) -> None:
    resources = _descriptor_resources(descriptor, reading)
    folder = descriptor.parent
    if resources is None:  # unreadable descriptor: the standard names still say which file is which table
        resources = [(table, folder / table.path) for table in tables().values() if (folder / table.path).is_file()]
        if not resources:
            reading.fail(descriptor, "the descriptor cannot be read and the folder holds no HSDS CSV file")
    for table, path in sorted(resources, key=lambda item: item[0].order):
        _read_csv(path, table, reading)


def _descriptor_resources(descriptor: Path, reading: Reading) -> list[tuple[Table, Path]] | None:
    """The (table, CSV file) pairs a datapackage.json names, or None (with a note) when it cannot be used."""
    fallback = "the CSV files are read by their HSDS 3.0 names instead"
    try:
        text = descriptor.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        reading.note(descriptor, None, "", "", f"not a data package descriptor ({why(error)}); {fallback}")
        return None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        hint = f" (it reads {text.strip()!r}: a symbolic link stored as text?)" if _looks_like_link(text) else ""
        reading.note(descriptor, None, "", "", f"not a data package descriptor ({why(error)}){hint}; {fallback}")
        return None
    if not isinstance(document, dict) or not isinstance(document.get("resources"), list):
        reading.note(descriptor, None, "", "resources", f"the descriptor has no list of resources; {fallback}")
        return None
    found: list[tuple[Table, Path]] = []
    for index, resource in enumerate(document["resources"]):
        name = resource.get("name") if isinstance(resource, dict) else None
        table = tables().get(name) if isinstance(name, str) else None
        path = resource.get("path") if isinstance(resource, dict) else None
        if table is None:
            reading.note(descriptor, None, "", f"resources[{index}]",
                         f"resource {shown(name)!r} is not an HSDS 3.0 table; not read")
        elif not isinstance(path, str):
            reading.note(descriptor, None, table.name, f"resources[{index}].path",
                         "a resource must name one CSV file (path); not read")
        elif not (descriptor.parent / path).resolve().is_relative_to(descriptor.parent.resolve()):
            reading.fail(descriptor.parent / path, "a resource path must stay inside the package folder")
        else:
            found.append((table, descriptor.parent / path))
    return found


def _looks_like_link(text: str) -> bool:
    stripped = text.strip()
    return len(stripped) < 256 and "\n" not in stripped and stripped.endswith(".json") and stripped[:1] not in "{["


# --- CSV -----------------------------------------------------------------------------------------------------

def _read_csv(path: Path, table: Table, reading: Reading) -> None:
    reading.files.append(str(path))
    try:
        raw = path.read_bytes()
    except OSError as error:
        reading.fail(path, f"cannot be read ({error.strerror})")
        return
    text = raw.decode("utf-8-sig", errors="surrogateescape")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [name.strip() for name in next(reader)]
    except StopIteration:
        reading.fail(path, "the file is empty (no header line)")
        return
    except csv.Error as error:
        reading.fail(path, f"line 1: not CSV ({error})")
        return
    known = set(table.field_names)
    missing = [name for name in (*table.required, *table.tabular_required) if name not in header]
    repeated = sorted({name for name in header if header.count(name) > 1})
    if missing or repeated:
        why = [f"no column for {', '.join(missing)} (required by HSDS 3.0)"] if missing else []
        why += [f"column {', '.join(repeated)} appears twice"] if repeated else []
        reading.fail(path, f"line 1: {'; '.join(why)}")
        return
    for name in header:
        if name not in known:
            reading.note(path, 1, table.name, name, f"not a field of HSDS 3.0 {table.name}; the column is not read")
    _csv_rows(path, table, header, reader, reading)


def _csv_rows(path: Path, table: Table, header: list[str], reader: Any, reading: Reading) -> None:
    last_line = reader.line_num
    specs = [table.field(name) for name in header]
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            reading.candidates.append(Candidate(table.name, {}, Source(str(path), last_line + 1),
                                                [Problem("", f"unreadable CSV ({error})")]))
            return
        line, last_line = last_line + 1, reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        record: dict[str, Any] = {}
        problems: list[Problem] = []
        if len(row) > len(header):
            problems.append(Problem("", f"the row has {len(row)} cells where the header has {len(header)}"))
        for name, cell, spec in zip(header, row, specs, strict=False):
            if spec is None or cell == "":
                continue
            if _has_bad_bytes(cell):
                problems.append(Problem(name, "not UTF-8 text", cell))
                continue
            record[name] = _number(cell) if spec.type == "number" else cell
        reading.candidates.append(Candidate(table.name, record, Source(str(path), line), problems))


def _number(text: str) -> Any:
    """A CSV cell of a number field as a JSON number, or the text itself (the schema then says why)."""
    try:
        value = float(text)
    except ValueError:
        return text
    if not math.isfinite(value):
        return text
    return int(value) if re.fullmatch(r"\s*[+-]?\d+\s*", text) else value


def _has_bad_bytes(text: str) -> bool:
    return any("\udc80" <= character <= "\udcff" for character in text)
