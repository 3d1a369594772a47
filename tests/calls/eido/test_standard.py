"""The published NENA EIDO schema, read at run time from ../shared: its quirks, its NIEM types, its error paths."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from heart.calls.eido.standard import EidoSchema, SchemaUnavailable, eido_schema
from tests.calls.eido.documents import (
    CALLBACK_NUMBER,
    CALLER_SURNAME,
    call_transfer,
    changed,
    eido,
    incident_update,
    without,
)
from tests.calls.eido.published import FOLDER, assert_published_valid, published_problems
from tests.conftest import shared_data


@pytest.fixture(scope="module")
def schema() -> EidoSchema:
    if not (FOLDER / "openapi.yaml").is_file():
        pytest.skip(f"the published NENA EIDO schema is not at {FOLDER}")
    return eido_schema(shared_data())


def pointers(schema: EidoSchema, document: Any) -> set[str]:
    return {problem.pointer for problem in schema.problems(document)}


@pytest.mark.parametrize("build", [call_transfer, incident_update, eido])
def test_the_test_documents_are_valid_by_the_published_schema_and_by_heart(schema: EidoSchema, build: Any) -> None:
    document = build()
    assert_published_valid(document)
    assert schema.problems(document) == []


def test_the_published_min_items_quirk_is_read_as_one_and_enforced(schema: EidoSchema) -> None:
    assert schema.quirks == ["openapi.yaml#/components/schemas/AgentType/allOf/1/properties/agentRoleRegistryText"
                             "/minItems: '1,' read as 1"]
    document = changed(call_transfer(), [], "agentComponent", 0, "agentRoleRegistryText")
    (problem,) = schema.problems(document)
    assert problem.pointer == "/agentComponent/0/agentRoleRegistryText"
    assert problem.reason == "must hold at least 1 item"
    assert problem.rule == schema.quirks[0].split(":")[0]
    assert published_problems(document) == {problem.pointer}


def test_the_niem_types_are_checked_through_their_own_files(schema: EidoSchema) -> None:
    """A person's name (nc.yaml → niem-xs.yaml) and a vehicle written ``NIEMComponents//j.yaml`` in the schema."""
    document = changed(call_transfer(), [{"value": 7}], "personComponent", 0, "ncPersonComponent", "name", 0,
                       "personSurName")
    document["vehicleComponent"] = [{
        "$id": "vehicle-1", "lastUpdateTimeStamp": "2025-10-01T14:02:00Z", "updatedByAgencyReference": {"$ref": "x"},
        "vehicleRelationshipType": ["Involved"], "vehicleRelationshipTimeStamp": "2025-10-01T14:02:00Z",
        "jCommercialVehicleComponent": {"isPreviouslyTargeted": "yes"}}]
    found = {problem.pointer: problem for problem in schema.problems(document)}
    assert set(found) == published_problems(document) == {
        "/personComponent/0/ncPersonComponent/name/0/personSurName/0/value",
        "/vehicleComponent/0/jCommercialVehicleComponent/isPreviouslyTargeted"}
    name = found["/personComponent/0/ncPersonComponent/name/0/personSurName/0/value"]
    assert (name.reason, name.rule) == (
        "must be a string", "NIEMComponents/niem-xs.yaml#/components/schemas/niem-xsstring/properties/value/type")
    vehicle = found["/vehicleComponent/0/jCommercialVehicleComponent/isPreviouslyTargeted"]
    assert vehicle.rule.startswith("NIEMComponents/j.yaml#/components/schemas/jCommercialVehicleType/")


BROKEN = {
    "no agency": (without(call_transfer(), "agencyComponent"), "/agencyComponent", "is required"),
    "no incident type": (without(incident_update(), "incidentComponent", "incidentTypeCommonRegistryText"),
                         "/incidentComponent/incidentTypeCommonRegistryText", "is required"),
    "wrong version": (changed(call_transfer(), "2.0", "eidoVersion"), "/eidoVersion", "must be one of '1.0'"),
    "time without zone": (changed(call_transfer(), "2025-10-01T14:02:10", "personComponent", 0, "lastUpdateTimeStamp"),
                          "/personComponent/0/lastUpdateTimeStamp", "must be an RFC 3339 date-time"),
    "callback not a list": (changed(call_transfer(), f"tel:+1{CALLBACK_NUMBER}", "callbackComponent", 0,
                                    "callBackInformationUri"), "/callbackComponent/0/callBackInformationUri",
                            "must be an array"),
    "call direction": (changed(call_transfer(), CALLER_SURNAME, "callComponent", 0, "direction"),
                       "/callComponent/0/direction", "must be one of 'incoming', 'outgoing', 'internal'"),
    "incident as a list (a 2020 draft)": (changed(incident_update(), [incident_update()["incidentComponent"]],
                                                  "incidentComponent"), "/incidentComponent", "must be an object"),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_a_broken_document_is_named_at_the_schemas_own_path_without_its_values(schema: EidoSchema, case: str) -> None:
    document, pointer, reason = BROKEN[case]
    problems = schema.problems(document)
    assert [problem.pointer for problem in problems] == [pointer]
    assert published_problems(document) == {pointer}
    assert problems[0].reason.startswith(reason)
    assert problems[0].rule.startswith("openapi.yaml#/components/schemas/")
    said = " ".join(f"{problem.reason} {problem.rule}" for problem in problems)
    assert CALLBACK_NUMBER not in said and CALLER_SURNAME not in said


def test_a_document_breaking_many_rules_lists_fifty_and_counts_the_rest(schema: EidoSchema) -> None:
    document = call_transfer()
    document["agentComponent"] = [{"$id": f"agent-{n}"} for n in range(30)]  # 4 required fields missing each
    problems = schema.problems(document)
    assert len(problems) == 51 and problems[-1].reason == "and 70 more problems"
    assert problems[0].pointer == "/agentComponent/0/agencyReference"  # by place: agent 0 first, 1 next, not 10
    assert problems[4].pointer.startswith("/agentComponent/1/")
    document["agentComponent"] = [{"$id": f"agent-{n}"} for n in range(400)]  # 1,600: counting stops at 1,000
    assert schema.problems(document)[-1].reason == "and more than 950 more problems (counting stopped at 1000)"


def test_a_missing_schema_or_an_unknown_quirk_stops_the_load_naming_the_place(tmp_path: Path) -> None:
    with pytest.raises(SchemaUnavailable, match="is not at"):
        EidoSchema(tmp_path)
    if not (FOLDER / "openapi.yaml").is_file():
        pytest.skip(f"the published NENA EIDO schema is not at {FOLDER}")
    shutil.copytree(FOLDER, tmp_path / "Schema")
    published = tmp_path / "Schema" / "openapi.yaml"
    published.write_text(published.read_text(encoding="utf-8").replace("minItems: 1,", "minItems: one"),
                         encoding="utf-8")
    with pytest.raises(SchemaUnavailable) as refused:
        EidoSchema(tmp_path / "Schema")
    assert "AgentType/allOf/1/properties/agentRoleRegistryText/minItems is 'one', not a count" in str(refused.value)
