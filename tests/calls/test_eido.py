"""Live CAD intake: POST /api/eido with NENA EIDO documents creates or updates one call per incident."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from heart.auth.models import Role
from tests.factories import UNARMED_TEAM_TYPES

AGENCY = "psap.durhamnc.gov"
PIDF_LO = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<presence xmlns="urn:ietf:params:xml:ns:pidf" xmlns:gp="urn:ietf:params:xml:ns:pidf:geopriv10" '
    'xmlns:ca="urn:ietf:params:xml:ns:pidf:geopriv10:civicAddr" xmlns:gml="http://www.opengis.net/gml" '
    'entity="pres:caller@example.com"><tuple id="t1"><status><gp:geopriv><gp:location-info>'
    "<ca:civicAddress><ca:country>US</ca:country><ca:A1>NC</ca:A1><ca:A3>Durham</ca:A3><ca:HNO>101</ca:HNO>"
    "<ca:RD>City Hall</ca:RD><ca:STS>Plaza</ca:STS></ca:civicAddress>"
    '<gml:Point srsName="urn:ogc:def:crs:EPSG::4326"><gml:pos>35.9940 -78.8986</gml:pos></gml:Point>'
    "</gp:location-info><gp:usage-rules/></gp:geopriv></status></tuple></presence>"
)


def eido(stamp: str = "2025-10-01T14:03:00.000Z", **incident: Any) -> dict[str, Any]:
    """An EIDO 1.0 document (NENA-STA-021.1a-2022 shape) for one incident, as a CAD sends it."""
    prologue = {"lastUpdateTimeStamp": stamp, "updatedByAgencyReference": {"$ref": AGENCY}}
    return {
        "$id": f"urn:emergency:uid:incidentid:a56e556d871:{AGENCY}",
        **prologue,
        "eidoVersion": "1.0",
        "issuingElementIdentification": "cad.durhamnc.gov",
        "agencyComponent": [{"$id": AGENCY, **prologue, "agencyRoleDescriptionRegistryText": ["CallReceiving"],
                             "agencyType": ["psap"]}],
        "incidentComponent": {
            "$id": f"urn:emergency:uid:incidentid:a56e556d871:{AGENCY}:incident",
            **prologue,
            "incidentTypeCommonRegistryText": "Police",
            "incidentTypeInternalCode": "MH",
            "incidentTypeInternalText": "MENTAL HEALTH CASE",
            "incidentPriorityInternalText": "3",
            "beatOrDispatchGroupText": "D2",
            "locationReference": [{"$ref": "loc-1"}],
            "notesReference": [{"$ref": "note-1"}],
            **incident,
        },
        "callComponent": [{"$id": "urn:emergency:uid:callid:77e1:psap.durhamnc.gov", **prologue,
                           "callStartTimestamp": "2025-10-01T14:01:30.000Z", "standardPrimaryCallType": "emergency"}],
        "locationComponent": [{"$id": "loc-1", **prologue, "locationTypeDescriptionRegistryText": "Incident",
                               "locationByValue": PIDF_LO}],
        "notesComponent": [{"$id": "note-1", **prologue,
                            "notesActionComments": "<p>Neighbour talking to himself &amp; pacing, <b>no weapon</b> "
                                                   "seen.</p>"}],
    }


Client = Callable[..., TestClient]


def test_an_eido_creates_a_call_and_sending_it_again_changes_nothing(signed_in: Client) -> None:
    client = signed_in(Role.CALL_TAKER)
    created = client.post("/api/eido", json=eido())
    assert created.status_code == 201, created.text
    body = created.json()
    call = body["call"]
    assert body["created"] is True and body["stale"] is False
    assert call["external_id"] == f"a56e556d871:{AGENCY}" and call["source"] == "cad"
    assert (call["nature_code"], call["incident_type"], call["category"]) == (
        "MENTAL HEALTH CASE", "mental_health_crisis", "Behavioral Health")
    assert (call["priority"], call["beat"]) == ("3", "D2")
    assert call["address"] == "101 City Hall Plaza, Durham, NC"
    assert (call["lat"], call["lon"]) == (35.994, -78.8986)
    assert call["summary"] == "Neighbour talking to himself & pacing, no weapon seen."
    assert call["received_at"].startswith("2025-10-01T14:01:30")
    again = client.post("/api/eido", json=eido())
    assert again.status_code == 200 and again.json()["changed"] == [] and again.json()["call"]["id"] == call["id"]
    listed = client.get("/api/calls").json()
    assert [c["id"] for c in listed if c["external_id"] == call["external_id"]] == [call["id"]]


def test_a_newer_eido_updates_what_changed_and_an_older_one_is_ignored(signed_in: Client) -> None:
    client = signed_in(Role.DISPATCHER)
    call_id = client.post("/api/eido", json=eido()).json()["call"]["id"]
    newer = eido("2025-10-01T14:09:00.000Z", incidentPriorityInternalText="2")
    newer["notesComponent"][0]["notesActionComments"] = "Now shouting at passers-by."
    updated = client.post("/api/eido", json=newer)
    assert updated.status_code == 200
    assert updated.json()["changed"] == ["priority", "summary"]
    assert updated.json()["call"]["priority"] == "2"
    events = client.get(f"/api/calls/{call_id}/events").json()
    change = next(e for e in events if e["kind"] == "call.updated")
    assert change["before"] == {"priority": "3", "summary": "(changed)"}
    assert change["after"] == {"priority": "2", "summary": "(changed)"}
    assert "shouting" not in str(events) and "Neighbour" not in str(events)  # no personal data in the log
    older = client.post("/api/eido", json=eido("2025-10-01T14:05:00.000Z", incidentPriorityInternalText="4"))
    assert older.status_code == 200 and older.json()["stale"] is True and older.json()["changed"] == []
    assert client.get(f"/api/calls/{call_id}").json()["priority"] == "2"


def without(document: dict[str, Any], *path: str) -> dict[str, Any]:
    changed = copy.deepcopy(document)
    target = changed
    for step in path[:-1]:
        target = target[step]
    del target[path[-1]]
    return changed


def replaced(document: dict[str, Any], value: Any, *path: Any) -> dict[str, Any]:
    changed = copy.deepcopy(document)
    target = changed
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return changed


MALFORMED = {
    "no incident type": (without(eido(), "incidentComponent", "incidentTypeCommonRegistryText"),
                         ["body", "incidentComponent", "incidentTypeCommonRegistryText"]),
    "no incident": (without(eido(), "incidentComponent"), ["body", "incidentComponent"]),
    "wrong version": (replaced(eido(), "2.0", "eidoVersion"), ["body", "eidoVersion"]),
    "time without zone": (replaced(eido(), "2025-10-01T14:03:00", "lastUpdateTimeStamp"),
                          ["body", "lastUpdateTimeStamp"]),
    "no $id": (without(eido(), "$id"), ["body", "$id"]),
    "unknown location": (replaced(eido(), [{"$ref": "loc-9"}], "incidentComponent", "locationReference"),
                         ["body", "incidentComponent.locationReference.0.$ref"]),
    "location not PIDF-LO": (replaced(eido(), "12 Main St", "locationComponent", 0, "locationByValue"),
                             ["body", "locationComponent.0.locationByValue"]),
    "incident id too long": (replaced(eido(), "urn:emergency:uid:incidentid:" + "x" * 80, "$id"), ["body", "$id"]),
    "called from the future": (replaced(eido(), "2999-01-01T00:00:00Z", "callComponent", 0, "callStartTimestamp"),
                               ["body", "callComponent.0.callStartTimestamp"]),
}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("case", list(MALFORMED))
def test_a_malformed_eido_gets_a_422_naming_the_field(signed_in: Client, case: str) -> None:
    document, location = MALFORMED[case]
    answer = signed_in(Role.CALL_TAKER).post("/api/eido", json=document)
    assert answer.status_code == 422, answer.text
    assert location in [error["loc"] for error in answer.json()["detail"]]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_draft_shaped_eido_and_a_dangerous_call_type(signed_in: Client) -> None:
    client = signed_in(Role.SUPERVISOR)
    document = eido(incidentTypeInternalText="SUICIDAL PERSON WITH KNIFE", incidentPriorityInternalText="HIGH")
    document["incidentTrackingIdentifier"] = "urn:emergency:uid:incidentid:0:psap.allegheny.pa.us"
    document["incidentComponent"] = [document["incidentComponent"]]  # the 2020 draft wrote a list
    answer = client.post("/api/eido", json=document)
    assert answer.status_code == 201, answer.text
    call = answer.json()["call"]
    assert call["external_id"] == "0:psap.allegheny.pa.us"
    assert call["incident_type"] not in UNARMED_TEAM_TYPES  # a knife never goes to an unarmed team by type
    assert call["priority"] is None  # an internal priority HEART does not know is left unknown


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_only_roles_that_write_calls_may_send_eido(client: TestClient, signed_in: Client) -> None:
    assert client.post("/api/eido", json=eido()).status_code == 401
    assert signed_in(Role.RESPONDER).post("/api/eido", json=eido()).status_code == 403
    assert signed_in(Role.ANALYST).post("/api/eido", json=eido()).status_code == 403
