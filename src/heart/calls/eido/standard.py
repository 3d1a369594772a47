"""The NENA EIDO JSON schema as NENA publishes it, and why a document breaks it.

The schema is NENA-STA-021 EIDO 1.0 from the NENA911/EIDO-JSON repository (``Schema/openapi.yaml``, root type
``EmergencyIncidentDataObjectType``, and the NIEM component types of ``Schema/NIEMComponents/*.yaml``). HEART reads
the unchanged files at run time from ``HEART_SHARED_DATA`` (``standards/nena-eido/Schema``) rather than copying
them into the package: the repository states no licence that allows redistribution, so HEART points at the
official artifact instead of vendoring it.

The files are read as published, with two quirks handled here, each named and checked:

- ``openapi.yaml`` writes ``minItems: 1,`` (``AgentType.agentRoleRegistryText``): YAML reads the value as the
  string ``"1,"``, which a strict validator cannot compare with a length. A count keyword whose value is digits
  followed by one trailing comma is read as that number; any other non-number there stops the load with the file
  and the place named (a new quirk must be looked at, not guessed).
- ``VehicleInformationType`` references ``NIEMComponents//j.yaml`` (two slashes); references are resolved as
  paths inside the schema folder, where the empty segment means nothing. Nothing outside that folder is ever read,
  and nothing is fetched from the network.

OpenAPI 3.0's schema objects are JSON Schema draft 4 in all the keywords these files use (``type``, ``properties``,
``required``, ``items``, ``enum``, ``allOf``, ``minItems``, ``format``, ``$ref`` whose siblings are ignored), so
documents are checked with ``jsonschema``'s draft 4 validator, formats included: a ``date-time`` must be RFC 3339
with its time zone, a ``uri`` a URI.
"""

from __future__ import annotations

import itertools
import posixpath
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, cast

import yaml
from jsonschema import Draft4Validator, FormatChecker, ValidationError
from referencing import Registry, Resource
from referencing.exceptions import NoSuchResource
from referencing.jsonschema import DRAFT4

from heart.errors import InvalidInput

SCHEMA_FOLDER = Path("standards") / "nena-eido" / "Schema"
ROOT_FILE = "openapi.yaml"
ROOT_TYPE = "EmergencyIncidentDataObjectType"
# Where NENA publishes the files; "$ref"s resolve against it and are read from the local folder, never fetched.
BASE_URI = "https://raw.githubusercontent.com/NENA911/EIDO-JSON/main/Schema/"
COUNT_KEYWORDS = frozenset({"minItems", "maxItems", "minLength", "maxLength", "minProperties", "maxProperties"})
_TRAILING_COMMA = re.compile(r"^\s*(\d+)\s*,\s*$")
MAX_PROBLEMS = 50
MAX_COUNTED = 1000  # a document with more problems than this is not searched for the rest


class SchemaUnavailable(RuntimeError):
    """The published schema is not where the settings say, or cannot be read as published (plus its quirks)."""


@dataclass(frozen=True, slots=True)
class SchemaProblem:
    """One way a document breaks the published schema: where in the document, why, and which rule says so.

    ``reason`` is written from the schema alone: it never repeats a value of the document (personal data).
    """

    path: tuple[str | int, ...]
    reason: str
    rule: str

    @property
    def pointer(self) -> str:
        """The place in the document as a JSON Pointer (RFC 6901), e.g. ``/callComponent/0/direction``."""
        return json_pointer(self.path)


class EidoRefused(InvalidInput):
    """A document HEART does not accept (HTTP 422): each problem names its place in the document and why."""

    def __init__(self, problems: list[SchemaProblem], *, kind: str = "eido.schema") -> None:
        first = problems[0]
        super().__init__(f"{first.pointer or '/'} {first.reason}", field=first.pointer or None)
        self.problems, self.kind = problems, kind

    @property
    def details(self) -> list[dict[str, Any]]:
        """The problems as the API's 422 body lists them: ``loc`` as everywhere, plus the pointer and the rule."""
        return [{"loc": ["body", *problem.path], "msg": problem.reason, "type": self.kind,
                 "pointer": problem.pointer, **({"rule": problem.rule} if problem.rule else {})}
                for problem in self.problems]


def json_pointer(path: tuple[str | int, ...] | list[str | int]) -> str:
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in path)


class EidoSchema:
    """The published EIDO schema, read lazily file by file from one folder, and a validator of whole documents."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        if not (folder / ROOT_FILE).is_file():
            raise SchemaUnavailable(f"the NENA EIDO schema is not at {folder} (set HEART_SHARED_DATA)")
        unchecked = {"date-time", "uri"} - set(FormatChecker.checkers)
        if unchecked:  # jsonschema skips a format whose checker package is missing: that would pass anything
            raise SchemaUnavailable(f"cannot check the formats {sorted(unchecked)} (rfc3339-validator, "
                                    "rfc3986-validator)")
        self._lock = threading.Lock()
        self._resources: dict[str, Resource[Any]] = {}
        self._places: dict[int, str] = {}  # id of a schema object -> "file#/json/pointer", for error reports
        self.quirks: list[str] = []
        root = self._retrieve(BASE_URI + ROOT_FILE).contents
        if not isinstance(root, dict) or ROOT_TYPE not in root.get("components", {}).get("schemas", {}):
            raise SchemaUnavailable(f"{folder / ROOT_FILE} has no components.schemas.{ROOT_TYPE}")
        registry: Registry[Any] = Registry(retrieve=self._retrieve)  # type: ignore[call-arg]  # attrs field
        self._validator = Draft4Validator({"$ref": f"{BASE_URI}{ROOT_FILE}#/components/schemas/{ROOT_TYPE}"},
                                          registry=registry, format_checker=FormatChecker())

    def problems(self, document: Any) -> list[SchemaProblem]:
        """The ways ``document`` breaks the schema, by place: the first ``MAX_PROBLEMS``, then how many more."""
        counted = list(itertools.islice(self._problems(document), MAX_COUNTED + 1))
        unique = {(problem.path, problem.reason): problem for problem in reversed(counted[:MAX_COUNTED])}
        found = sorted(unique.values(), key=lambda problem: _order(problem.path))  # one per place and reason
        if len(found) > MAX_PROBLEMS:
            rest = f"and {len(found) - MAX_PROBLEMS} more problems"
            if len(counted) > MAX_COUNTED:
                rest = f"and more than {len(found) - MAX_PROBLEMS} more problems (counting stopped at {MAX_COUNTED})"
            found = [*found[:MAX_PROBLEMS], SchemaProblem((), rest, "")]
        return found

    def _problems(self, document: Any) -> Iterator[SchemaProblem]:
        for error in self._validator.iter_errors(document):
            path = tuple(error.absolute_path)
            if error.validator == "required":
                missing = _quoted(error.message)
                yield SchemaProblem((*path, missing) if missing else path, "is required by the EIDO schema, missing",
                                    self._rule(error))
            else:
                yield SchemaProblem(path, _reason(error), self._rule(error))

    def _rule(self, error: ValidationError) -> str:
        place = self._places.get(id(error.schema))
        return f"{place}/{error.validator}" if place else str(error.validator)

    # --- reading the files ----------------------------------------------------------------------------------

    def _retrieve(self, uri: str) -> Resource[Any]:
        if not uri.startswith(BASE_URI):
            raise NoSuchResource(ref=uri)  # type: ignore[call-arg]  # only the standard's own files; nothing is fetched
        relative = posixpath.normpath(uri[len(BASE_URI):])  # "NIEMComponents//j.yaml" is NIEMComponents/j.yaml
        if relative.startswith(("..", "/")) or not relative.endswith(".yaml"):
            raise NoSuchResource(ref=uri)  # type: ignore[call-arg]
        with self._lock:  # two first documents at once read a file once
            if relative not in self._resources:
                self._resources[relative] = Resource.from_contents(self._load(relative),
                                                                   default_specification=DRAFT4)
            return self._resources[relative]

    def _load(self, relative: str) -> Any:
        path = self.folder / relative
        try:
            with path.open(encoding="utf-8") as stream:
                contents = yaml.load(stream, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        except (OSError, yaml.YAMLError) as error:
            raise SchemaUnavailable(f"cannot read {path}: {type(error).__name__}") from None
        self._repair_and_index(contents, relative, "#")
        return contents

    def _repair_and_index(self, root: Any, relative: str, start: str) -> None:
        stack: list[tuple[Any, str]] = [(root, start)]
        while stack:
            node, place = stack.pop()
            if isinstance(node, dict):
                self._places[id(node)] = f"{relative}{place}"
                for key, value in node.items():
                    if key in COUNT_KEYWORDS and not isinstance(value, int):
                        node[key] = self._count(value, relative, f"{place}/{key}")
                    elif isinstance(value, dict | list):
                        stack.append((value, f"{place}/{json_pointer([key])[1:]}"))
            elif isinstance(node, list):
                stack.extend((value, f"{place}/{index}") for index, value in enumerate(node)
                             if isinstance(value, dict | list))

    def _count(self, value: Any, relative: str, place: str) -> int:
        """The published ``minItems: 1,`` quirk: digits and one trailing comma are that number; nothing else is."""
        match = _TRAILING_COMMA.match(value) if isinstance(value, str) else None
        if match is None:
            raise SchemaUnavailable(f"{self.folder / relative}{place} is {value!r}, not a count")
        self.quirks.append(f"{relative}{place}: {value!r} read as {match.group(1)}")
        return int(match.group(1))


@lru_cache(maxsize=4)
def eido_schema(shared_data: Path) -> EidoSchema:
    """The published schema under ``shared_data`` (one per process; files are read as documents need them)."""
    return EidoSchema(shared_data / SCHEMA_FOLDER)


def schema_folder(shared_data: Path) -> Path:
    return shared_data / SCHEMA_FOLDER


_FORMATS = {"date-time": "an RFC 3339 date-time with its time zone, e.g. 2025-10-01T14:03:00Z",
            "uri": "a URI, e.g. tel:+19195550100 or https://…", "uri-reference": "a URI reference"}


def _reason(error: ValidationError) -> str:
    """Why, in the schema's words only: the rule and its expected value, never the document's value."""
    keyword, expected = str(error.validator), cast(Any, error.validator_value)
    if keyword == "type":
        kinds = expected if isinstance(expected, list) else [expected]
        return "must be " + " or ".join(f"{'an' if kind[0] in 'aeiou' else 'a'} {kind}" for kind in kinds)
    if keyword == "enum":
        if len(expected) <= 10:
            return "must be one of " + ", ".join(repr(value) for value in expected)
        return f"must be one of the {len(expected)} values the schema lists"
    if keyword == "format":
        return f"must be {_FORMATS.get(expected, f'in the {expected!r} format')}"
    if keyword == "minItems":
        return f"must hold at least {expected} item{'s' if expected != 1 else ''}"
    if keyword == "maxItems":
        return f"must hold at most {expected} item{'s' if expected != 1 else ''}"
    return f"breaks the schema's {keyword!r} rule ({expected!r})" if isinstance(expected, int | str) else (
        f"breaks the schema's {keyword!r} rule")


def _order(path: tuple[str | int, ...]) -> list[tuple[int, int, str]]:
    return [(1, part, "") if isinstance(part, int) else (0, 0, part) for part in path]


def _quoted(message: str) -> str | None:
    """The property a ``required`` error names (a name from the schema, not a value of the document)."""
    match = re.match(r"^'(.+)' is a required property$", message)
    return match.group(1) if match else None
