"""Live intake: POST /api/eido takes every document the published EIDO schema accepts, one call per incident."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from heart.auth.models import Role
from tests.calls.eido.documents import (
    AGENCY,
    CALLBACK_NUMBER,
    CALLER_GIVEN,
    CALLER_SURNAME,
    call_transfer,
    changed,
    eido,
    incident_update,
    without,
)
from tests.calls.eido.published import assert_published_valid, published_problems
from tests.factories import UNARMED_TEAM_TYPES

Client = Callable[..., TestClient]
EXTERNAL_ID = f"a56e556d871:{AGENCY}"
PERSONAL = (CALLER_GIVEN, CALLER_SURNAME, CALLBACK_NUMBER, "Neighbour", "pacing", "Main Street", "City Hall")


def post(client: TestClient, document: dict[str, Any]) -> Any:
    assert_published_valid(document)  # every accepted document here is valid by the published schema
    answer = client.post("/api/eido", json=document)
    assert answer.status_code in (200, 201), answer.text
    return answer


def events_of(client: TestClient, call_id: int) -> list[dict[str, Any]]:
    answer = client.get(f"/api/calls/{call_id}/events")
    assert answer.status_code == 200
    return list(answer.json())


def test_a_call_transfer_makes_the_call_and_the_cads_update_adds_the_incident(signed_in: Client) -> None:
    client = signed_in(Role.CALL_TAKER)
    transfer = post(client, call_transfer())
    assert transfer.status_code == 201
    body = transfer.json()
    call = body["call"]
    assert (body["created"], body["stale"], body["notices"]) == (True, False, [])
    assert body["not_kept"] == []  # the caller goes to the call's restricted caller record (below)
    assert (call["external_id"], call["source"], call["status"]) == (EXTERNAL_ID, "cad", "open")
    assert call["received_at"].startswith("2025-10-01T14:01:30")  # the call's start, not the document's time
    assert call["address"] == "410 W Main Street, Durham, NC"  # the routing location; the caller's is a URL
    assert (call["lat"], call["nature_code"], call["incident_type"], call["priority"], call["summary"]) == (
        None, None, None, None, None)  # an unknown type until the CAD says what the incident is
    assert not any(value in transfer.text for value in (CALLER_GIVEN, CALLER_SURNAME, CALLBACK_NUMBER))
    caller = client.get(f"/api/calls/{call['id']}/caller").json()  # kept apart, read by the call-taker (logged)
    assert caller == {"name": f"{CALLER_GIVEN} {CALLER_SURNAME}", "callback": f"+1{CALLBACK_NUMBER}", "withheld": []}

    update = post(client, incident_update())
    assert update.status_code == 200 and update.json()["call"]["id"] == call["id"]
    assert sorted(update.json()["changed"]) == ["beat", "category", "incident_type", "nature_code", "priority",
                                                "summary"]
    now = client.get(f"/api/calls/{call['id']}").json()
    assert (now["nature_code"], now["incident_type"], now["category"], now["priority"], now["beat"]) == (
        "MENTAL HEALTH CASE", "mental_health_crisis", "Behavioral Health", "3", "D2")
    assert now["summary"] == "Neighbour talking to himself & pacing, no weapon seen."
    assert now["address"] == "410 W Main Street, Durham, NC"  # the update says nothing of the place: it stays

    again = post(client, incident_update())
    assert (again.status_code, again.json()["changed"], again.json()["stale"]) == (200, [], False)
    late_transfer = post(client, call_transfer())  # older than the update: it changes nothing
    assert (late_transfer.json()["changed"], late_transfer.json()["stale"]) == ([], True)
    assert [c["id"] for c in client.get("/api/calls").json() if c["external_id"] == EXTERNAL_ID] == [call["id"]]

    events = events_of(client, call["id"])
    assert [e["kind"] for e in events].count("call.eido_applied") == 2  # the repeat and the stale one wrote nothing
    update_event = next(e for e in events if e["kind"] == "call.updated")
    assert update_event["after"]["nature_code"] == update_event["after"]["summary"] == "(changed)"
    assert update_event["after"]["incident_type"] == "mental_health_crisis"
    assert not any(value in str(events) for value in PERSONAL)


def test_a_complete_document_makes_a_call_and_sending_it_again_changes_nothing(signed_in: Client) -> None:
    client = signed_in(Role.CALL_TAKER)
    created = post(client, eido())
    assert created.status_code == 201
    call = created.json()["call"]
    assert (call["nature_code"], call["incident_type"], call["category"]) == (
        "MENTAL HEALTH CASE", "mental_health_crisis", "Behavioral Health")
    assert (call["priority"], call["beat"]) == ("3", "D2")
    assert call["address"] == "101 City Hall Plaza, Durham, NC"
    assert (call["lat"], call["lon"]) == (35.994, -78.8986)
    assert call["received_at"].startswith("2025-10-01T14:01:30")
    again = post(client, eido())
    assert (again.status_code, again.json()["changed"], again.json()["call"]["id"]) == (200, [], call["id"])


def test_a_newer_document_updates_what_changed_and_an_older_one_is_ignored(signed_in: Client) -> None:
    client = signed_in(Role.DISPATCHER)
    call_id = post(client, eido()).json()["call"]["id"]
    newer = eido("2025-10-01T14:09:00.000Z", incidentPriorityInternalText="2")
    newer["notesComponent"][0]["notesActionComments"] = "Now shouting at passers-by."
    updated = post(client, newer)
    assert (updated.status_code, updated.json()["changed"]) == (200, ["priority", "summary"])
    change = next(e for e in events_of(client, call_id) if e["kind"] == "call.updated")
    assert (change["before"], change["after"]) == ({"priority": "3", "summary": "(changed)"},
                                                   {"priority": "2", "summary": "(changed)"})
    assert "shouting" not in str(events_of(client, call_id))
    older = post(client, eido("2025-10-01T14:05:00.000Z", incidentPriorityInternalText="4"))
    assert (older.json()["stale"], older.json()["changed"]) == (True, [])
    assert client.get(f"/api/calls/{call_id}").json()["priority"] == "2"


def test_a_schema_invalid_document_is_a_422_at_the_schemas_path_and_writes_nothing(signed_in: Client) -> None:
    client = signed_in(Role.CALL_TAKER)
    document = changed(call_transfer(), f"tel:+1{CALLBACK_NUMBER}", "callbackComponent", 0, "callBackInformationUri")
    document["personComponent"][0]["ncPersonComponent"]["name"][0]["personSurName"] = [{"value": 42}]
    assert published_problems(document) == {"/callbackComponent/0/callBackInformationUri",
                                            "/personComponent/0/ncPersonComponent/name/0/personSurName/0/value"}
    answer = client.post("/api/eido", json=document)
    assert answer.status_code == 422
    first, second = answer.json()["detail"]
    assert first == {"loc": ["body", "callbackComponent", 0, "callBackInformationUri"], "msg": "must be an array",
                     "type": "eido.schema", "pointer": "/callbackComponent/0/callBackInformationUri",
                     "rule": "openapi.yaml#/components/schemas/CallbackType/allOf/1/properties/callBackInformationUri"
                             "/type"}
    assert second["pointer"] == "/personComponent/0/ncPersonComponent/name/0/personSurName/0/value"
    assert not any(value in answer.text for value in (CALLBACK_NUMBER, CALLER_GIVEN, CALLER_SURNAME))
    assert client.get("/api/calls").json() == []


def test_a_persons_correction_stands_until_the_sender_changes_that_fact(signed_in: Client) -> None:
    client = signed_in(Role.CALL_TAKER)
    call_id = post(client, eido()).json()["call"]["id"]
    corrected = client.patch(f"/api/calls/{call_id}", json={"nature_code": "MENTAL PERSON - ARMED", "priority": "2",
                                                            "incident_type": "crisis_with_violence"})
    assert corrected.status_code == 200, corrected.text
    # The CAD says again what it said before (type and priority), with new notes: only the notes change.
    repeat = post(client, eido("2025-10-01T14:08:00Z", notes="<p>Still pacing.</p>"))
    assert repeat.json()["changed"] == ["summary"]
    kept = repeat.json()["call"]
    assert (kept["nature_code"], kept["incident_type"], kept["priority"]) == (
        "MENTAL PERSON - ARMED", "crisis_with_violence", "2")
    # The CAD changes the priority: that is a newer fact; the person's type still stands.
    raised = post(client, eido("2025-10-01T14:10:00Z", notes="<p>Still pacing.</p>", incidentPriorityInternalText="1"))
    assert raised.json()["changed"] == ["priority"] and raised.json()["call"]["incident_type"] == "crisis_with_violence"
    # The CAD changes the type: its newer word replaces the correction, and is read by the same resolver.
    retyped = post(client, eido("2025-10-01T14:12:00Z", notes="<p>Still pacing.</p>", incidentPriorityInternalText="1",
                                incidentTypeInternalText="SUICIDE THREAT WITH WEAPON"))
    assert sorted(retyped.json()["changed"]) == ["nature_code"]
    assert retyped.json()["call"]["incident_type"] == "crisis_with_violence"


MALFORMED: dict[str, tuple[dict[str, Any], list[Any]]] = {
    "no incident type": (without(eido(), "incidentComponent", "incidentTypeCommonRegistryText"),
                         ["body", "incidentComponent", "incidentTypeCommonRegistryText"]),
    "wrong version": (changed(eido(), "2.0", "eidoVersion"), ["body", "eidoVersion"]),
    "time without zone": (changed(eido(), "2025-10-01T14:03:00", "lastUpdateTimeStamp"),
                          ["body", "lastUpdateTimeStamp"]),
    "a 2020 draft's list of incidents": (changed(eido(), [eido()["incidentComponent"]], "incidentComponent"),
                                         ["body", "incidentComponent"]),
    "an $id naming nothing": (changed(eido(), "urn:emergency:uid:incidentid: ", "$id"), ["body", "$id"]),
    "called from the future": (changed(eido(), "2999-01-01T00:00:00Z", "callComponent", 0, "callStartTimestamp"),
                               ["body", "callComponent", 0, "callStartTimestamp"]),
    "a NUL character": (changed(eido(), "talking to \u0000 himself", "notesComponent", 0, "notesActionComments"),
                        ["body", "notesComponent", 0, "notesActionComments"]),
}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("case", list(MALFORMED))
def test_a_document_heart_cannot_take_gets_a_422_naming_the_place(signed_in: Client, case: str) -> None:
    document, location = MALFORMED[case]
    answer = signed_in(Role.CALL_TAKER).post("/api/eido", json=document)
    assert answer.status_code == 422, answer.text
    assert [error["loc"] for error in answer.json()["detail"]] == [location]
    assert "himself" not in answer.text


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_what_heart_cannot_read_is_a_notice_and_the_rest_is_taken(signed_in: Client) -> None:
    client = signed_in(Role.CALL_TAKER)
    document = eido(incidentTypeInternalText="SUICIDAL PERSON WITH KNIFE", incidentPriorityInternalText="HIGH",
                    locationReference=[{"$ref": "loc-9"}, {"$ref": "loc-1"}])
    document["locationComponent"][0]["locationByValue"] = "101 City Hall Plaza"
    document["locationComponent"][0]["locationDescriptionText"] = "outside the library"
    answer = post(client, document)
    assert answer.status_code == 201
    assert answer.json()["notices"] == [
        {"pointer": "/incidentComponent/incidentPriorityInternalText",
         "reason": "is not a priority HEART knows (P, 1, 2, 3, 4); the call's priority is left as it was"},
        {"pointer": "/incidentComponent/locationReference/0/$ref", "reason": "names no location in locationComponent"},
        {"pointer": "/locationComponent/0/locationByValue", "reason": "is not a PIDF-LO XML document"}]
    call = answer.json()["call"]
    assert call["incident_type"] not in UNARMED_TEAM_TYPES  # a knife never goes to an unarmed team by type
    assert (call["priority"], call["address"], call["lat"]) == (None, "outside the library", None)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_registry_type_never_reads_past_danger_in_the_cads_own_words(signed_in: Client) -> None:
    client = signed_in(Role.CALL_TAKER)
    plain = post(client, eido(incidentTypeInternalText="MAN TALKING TO HIMSELF OUTSIDE STORE",
                              incidentTypeCommonRegistryText="MENTAL HEALTH CASE")).json()["call"]
    assert plain["incident_type"] == "mental_health_crisis"  # unknown words: the registry's type is used
    armed = eido(incidentTypeInternalText="MAN WITH A MACHETE TALKING TO HIMSELF",
                 incidentTypeCommonRegistryText="MENTAL HEALTH CASE")
    armed["$id"] = armed["$id"].replace("a56e556d871", "b0")
    call = post(client, armed).json()["call"]
    assert call["incident_type"] is None and call["nature_code"] == "MAN WITH A MACHETE TALKING TO HIMSELF"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_long_incident_id_stays_unique_and_finds_its_call_again(signed_in: Client) -> None:
    client = signed_in(Role.CALL_TAKER)
    long_id = "urn:emergency:uid:incidentid:" + "7" * 40 + ":psap.a-county-with-a-long-name.state.example.gov"
    first = post(client, call_transfer(incident_id=long_id)).json()["call"]
    other = post(client, call_transfer(incident_id=long_id.replace(".gov", ".org"))).json()["call"]
    assert len(first["external_id"]) == 64 and first["external_id"].startswith("7" * 40 + ":psap.a")
    assert other["id"] != first["id"]
    update = post(client, incident_update(incident_id=long_id))
    assert (update.status_code, update.json()["call"]["id"]) == (200, first["id"])


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_without_the_published_schema_documents_are_refused_with_a_503(signed_in: Client, tmp_path: Any) -> None:
    client = signed_in(Role.CALL_TAKER)
    state = client.app.state  # type: ignore[attr-defined]
    state.settings = state.settings.model_copy(update={"shared_data": tmp_path})
    answer = client.post("/api/eido", json=eido())
    assert answer.status_code == 503 and "published NENA EIDO schema is missing" in answer.json()["detail"]
    assert str(tmp_path) not in answer.text


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_only_roles_that_write_calls_may_send_eido(client: TestClient, signed_in: Client) -> None:
    assert client.post("/api/eido", json=eido()).status_code == 401
    assert signed_in(Role.RESPONDER).post("/api/eido", json=eido()).status_code == 403
    assert signed_in(Role.ANALYST).post("/api/eido", json=eido()).status_code == 403
