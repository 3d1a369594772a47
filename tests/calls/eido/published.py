"""The published EIDO schema checked without HEART's loader: every file read up front from ``../shared``.

A second, plain reading of the same artifact, so that a test document is known valid (or not) independently of
``heart.calls.eido.standard``: all 44 files are registered under their own ``file://`` addresses, the one known
quirk (``minItems: 1,``) is replaced in the text before YAML reads it, and the double slash of
``NIEMComponents//j.yaml`` is left to the file system's own address form.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import pytest
import yaml
from jsonschema import Draft4Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from tests.conftest import shared_data

FOLDER = shared_data() / "standards" / "nena-eido" / "Schema"


@lru_cache(maxsize=1)
def published_validator() -> Draft4Validator:
    if not (FOLDER / "openapi.yaml").is_file():
        pytest.skip(f"the published NENA EIDO schema is not at {FOLDER}")
    registry: Registry[Any] = Registry()
    for path in sorted(FOLDER.rglob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        if path.name == "openapi.yaml":
            assert text.count("minItems: 1,") == 1, "the published quirk changed: look at it again"
            text = text.replace("minItems: 1,", "minItems: 1")
        contents = yaml.load(text, Loader=yaml.CSafeLoader)
        resource = Resource.from_contents(contents, default_specification=DRAFT4)
        registry = registry.with_resource(path.as_uri(), resource)
        if path.parent.name == "NIEMComponents":  # the one reference written with two slashes
            registry = registry.with_resource(f"{path.parent.as_uri()}//{path.name}", resource)
    root = {"$ref": f"{(FOLDER / 'openapi.yaml').as_uri()}#/components/schemas/EmergencyIncidentDataObjectType"}
    return Draft4Validator(root, registry=registry, format_checker=FormatChecker())


def published_problems(document: Any) -> set[str]:
    """The JSON Pointers where ``document`` breaks the published schema (a required property: its own place)."""
    found = set()
    for error in published_validator().iter_errors(document):
        path = "".join(f"/{part}" for part in error.absolute_path)
        if error.validator == "required":
            path += "/" + error.message.split("'")[1]
        found.add(path)
    return found


def assert_published_valid(document: Any) -> None:
    problems = published_problems(document)
    assert not problems, f"not valid by the published EIDO schema: {sorted(problems)}"
