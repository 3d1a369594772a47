"""Script payloads planted in every free-text field a user or a feed can fill, through the product's own API.

Each payload calls ``alert(N)`` with its own number N, so a dialog (or a CSP report) names the payload and the
field it came from; ``Plants`` counts what was planted and which numbers were later seen as text.
"""

from __future__ import annotations

import csv
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

from heart.config import SOURCE_ROOT
from heart.db import utcnow

KINDS = (
    '<img src=x onerror=alert({n})>',
    "<script>alert({n})</script>",
    '"><svg onload=alert({n})>',
    "javascript:alert({n})",
    "'><iframe srcdoc=\"<script>parent.alert({n})</script>\"></iframe>",
    '<a href="javascript:alert({n})">alert({n})</a>',
)
SAFE = {"weapon": "no", "medical_intervention": "no", "imminent_risk_to_others": "no"}
NORTH, SOUTH = (36.0335, -78.9051), (35.9350, -78.8810)


@dataclass
class Plants:
    """Every payload planted: its number, its text and the field it went into."""

    by_number: dict[int, tuple[str, str]] = field(default_factory=dict)

    def text(self, where: str, max_length: int = 4000) -> str:
        """As many payloads as fit in ``max_length`` characters (at least one), each with a new number."""
        pieces: list[str] = []
        for kind in KINDS:
            number = len(self.by_number) + 1
            piece = kind.format(n=number)
            if pieces and len(" ".join([*pieces, piece])) > max_length:
                break
            self.by_number[number] = (piece, where)
            pieces.append(piece)
        text = " ".join(pieces)
        assert len(text) <= max_length, (where, text)
        return text

    def one(self, where: str, kind: str) -> str:
        """One payload of ``kind`` (one of KINDS), with a new number."""
        number = len(self.by_number) + 1
        self.by_number[number] = (kind.format(n=number), where)
        return self.by_number[number][0]

    def numbers_in(self, text: str) -> set[int]:
        """The payloads whose words ``alert(N)`` appear in ``text`` (shown as text, not run)."""
        return {number for number in self.by_number if f"alert({number})" in text}

    def where(self, numbers: set[int]) -> list[str]:
        return sorted({self.by_number[number][1] for number in numbers})


@contextmanager
def api(base_url: str, username: str, password: str) -> Iterator[httpx.Client]:
    """An API client signed in as ``username`` (its CSRF token sent on every write)."""
    with httpx.Client(base_url=base_url, timeout=30) as client:
        signed = client.post("/api/auth/login", json={"username": username, "password": password})
        assert signed.status_code == 200, signed.text
        client.headers["X-CSRF-Token"] = signed.json()["csrf_token"]
        yield client


def ok(response: httpx.Response) -> Any:
    assert response.status_code < 300, f"{response.request.method} {response.request.url}: {response.text}"
    return response.json() if response.content else None


@dataclass
class Planted:
    """What the screens are opened on."""

    plants: Plants
    calls: list[int]
    responders: list[str]
    supervisor: str
    service_ids: list[str]
    care: Any = None  # planted_care.CarePlanted


def plant_units_and_people(admin: httpx.Client, plants: Plants, crew_roles: list[str],
                           password: str) -> tuple[list[int], list[str], str]:
    """Three CRT units named by payloads, crews with payload names, a responder on each of the first two (the
    third stays free, to be set out of service) and a supervisor, with payload display names. Returns the unit
    ids, the responders' usernames and the supervisor's."""
    units = []
    for home in (NORTH, SOUTH, NORTH):
        unit = ok(admin.post("/api/units", json={"call_sign": plants.text("unit call sign", 32),
                                                 "program_code": "CRT", "home_lat": home[0], "home_lon": home[1]}))
        crew = []
        for role in crew_roles:
            staff = ok(admin.post("/api/staff", json={"name": plants.text("staff name", 128), "role": role,
                                                      "program_code": "CRT"}))
            crew.append({"staff_id": staff["id"], "role": role})
        ok(admin.post(f"/api/units/{unit['id']}/on-duty",
                      json={"crew": crew, "ends_at": (utcnow() + timedelta(hours=12)).isoformat()}))
        units.append(unit["id"])
    names = []
    for role, unit_id in (("responder", units[0]), ("responder", units[1]), ("supervisor", None)):
        username = f"{role}-{uuid.uuid4().hex[:6]}"
        ok(admin.post("/api/users", json={"username": username, "password": password, "role": role,
                                      "display_name": plants.text(f"{role} display name", 128), "unit_id": unit_id}))
        names.append(username)
    return units, names[:2], names[2]


def new_call(client: httpx.Client, plants: Plants, at: tuple[float, float], *, hand_off: bool = True,
             summary: bool = False) -> int:
    """A call-taker's call with payloads in its free-text fields, decided by the policy (and handed off). Only a
    crew's phone shows a call's summary, so only the calls a crew is on get one."""
    call = ok(client.post("/api/calls", json={
        "external_id": plants.text("call number", 64), "nature_code": plants.text("nature code", 128),
        "incident_type": "welfare_check", "priority": "3", "address": plants.text("address", 256),
        "summary": plants.text("summary") if summary else None, "lat": at[0], "lon": at[1], "screening": SAFE,
        "caller": {"name": plants.text("caller name", 120), "callback": "919-555-0100"}}))
    ok(client.post(f"/api/calls/{call['id']}/location-notes", json={  # shown beside the weapon question
        "kind": "weapon", "text": plants.text("location note", 1000), "observed_on": utcnow().date().isoformat()}))
    ok(client.post(f"/api/calls/{call['id']}/triage", json={}))
    if hand_off:
        ok(client.post(f"/api/calls/{call['id']}/hand-off"))
    return int(call["id"])


def eido_document(plants: Plants) -> dict[str, Any]:
    """A NENA EIDO incident whose id, call type, address, beat and notes carry payloads."""
    agency = "psap.example.gov"
    stamp = utcnow().isoformat()
    prologue = {"lastUpdateTimeStamp": stamp, "updatedByAgencyReference": {"$ref": agency}}
    street = plants.text("EIDO address", 90).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    street = street.replace('"', "&quot;")
    pidf = ('<?xml version="1.0" encoding="UTF-8"?><presence xmlns="urn:ietf:params:xml:ns:pidf" '
            'xmlns:gp="urn:ietf:params:xml:ns:pidf:geopriv10" '
            'xmlns:ca="urn:ietf:params:xml:ns:pidf:geopriv10:civicAddr" xmlns:gml="http://www.opengis.net/gml" '
            'entity="pres:caller@example.com"><tuple id="t1"><status><gp:geopriv><gp:location-info>'
            f"<ca:civicAddress><ca:country>US</ca:country><ca:HNO>7</ca:HNO><ca:RD>{street}</ca:RD></ca:civicAddress>"
            f'<gml:Point srsName="urn:ogc:def:crs:EPSG::4326"><gml:pos>{NORTH[0]} {NORTH[1]}</gml:pos></gml:Point>'
            "</gp:location-info><gp:usage-rules/></gp:geopriv></status></tuple></presence>")
    # Notes arrive as HTML: HEART keeps their text, so a payload written escaped becomes live text after that.
    notes = plants.text("EIDO notes", 2000).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    incident_id = plants.text("EIDO incident id", 50)
    return {
        "$id": f"urn:emergency:uid:incidentid:{incident_id}", **prologue, "eidoVersion": "1.0",
        "issuingElementIdentification": "cad.example.gov",
        "agencyComponent": [{"$id": agency, **prologue, "agencyRoleDescriptionRegistryText": ["CallReceiving"],
                             "agencyType": ["psap"]}],
        "incidentComponent": {"$id": "incident-1", **prologue, "incidentTypeCommonRegistryText": "Police",
                              "incidentTypeInternalText": plants.text("EIDO call type", 128),
                              "incidentPriorityInternalText": "3", "beatOrDispatchGroupText": "D2",
                              "locationReference": [{"$ref": "loc-1"}], "notesReference": [{"$ref": "note-1"}]},
        "callComponent": [{"$id": "call-1", **prologue, "callStartTimestamp": stamp,
                           "standardPrimaryCallType": "emergency", "direction": "incoming",
                           "callStateRegistryText": "callAnswered"}],
        "locationComponent": [{"$id": "loc-1", **prologue, "locationTypeDescriptionRegistryText": "Incident",
                               "locationByValue": pidf}],
        "notesComponent": [{"$id": "note-1", **prologue, "notesActionComments": f"<p>{notes}</p>"}],
    }


def resource_directory(plants: Plants, folder: Path) -> tuple[Path, str]:
    """The demo HSDS directory with payloads in one service (name, description, web address, how to apply,
    what to bring), its organization's name and its address. Returns the folder and the service's id."""
    copy = Path(shutil.copytree(SOURCE_ROOT / "cities" / "durham" / "resources" / "directory", folder))

    def edit(table: str, row_index: int, **cells: str) -> dict[str, str]:
        path = copy / f"{table}.csv"
        with path.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
        rows[row_index].update(cells)
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        return rows[row_index]

    service = edit("services", 0, name=plants.text("service name", 128),
                   description=plants.text("service description"), url=plants.one("service web address", KINDS[3]),
                   application_process=plants.text("service application process"))
    edit("organizations", _row_of(copy / "organizations.csv", "id", service["organization_id"]),
         name=plants.text("organization name", 128))
    documents = copy / "required_documents.csv"
    if _row_of(documents, "service_id", service["id"], missing=-1) >= 0:
        edit("required_documents", _row_of(documents, "service_id", service["id"]),
             document=plants.text("required document", 200))
    return copy, service["id"]


def _row_of(path: Path, column: str, value: str, missing: int | None = None) -> int:
    with path.open(newline="", encoding="utf-8") as handle:
        for index, row in enumerate(csv.DictReader(handle)):
            if row[column] == value:
                return index
    if missing is not None:
        return missing
    raise AssertionError(f"no {column}={value} in {path}")


def plant_everything(base_url: str, admin: str, password: str, crew_roles: list[str],
                     encounter_of: Any, import_directory: Any, folder: Path) -> Planted:
    """Fill every free-text field through the API, as call-takers, dispatchers, crews, admins and feeds do:
    call 1 cleared by unit 1 (disposition, narrative, a struck entry); call 2 on scene with unit 1, transport
    started (destination); call 3 overridden to the phone clinician and escalated; call 4's unit cancelled, so it
    waits again; call 5 resolved by phone with a note; an EIDO incident on scene with unit 2; a resource directory
    from an HSDS feed; and the care screens' data (tests.e2e.planted_care), call 1's clear handing its neighbor to
    Care Navigation."""
    plants = Plants()
    from tests.e2e.planted_care import create_case_programs, handoff, plant_care

    with api(base_url, admin, password) as admin_api:
        units, crews, supervisor = plant_units_and_people(admin_api, plants, crew_roles, password)
        create_case_programs(admin_api)
    details = handoff(plants)
    with api(base_url, supervisor, password) as desk, api(base_url, crews[0], password) as crew, \
            api(base_url, crews[1], password) as other_crew:
        first = new_call(desk, plants, NORTH)
        response = ok(desk.post(f"/api/calls/{first}/responses", json={"unit_id": units[0]}))["id"]
        for step in ("en-route", "on-scene"):
            ok(crew.post(f"/api/responses/{response}/{step}", json={}))
        ok(crew.post(f"/api/responses/{response}/clear", json={
            "pd_backup_for_safety": False, "ems_support": False, "disposition": plants.text("disposition", 64),
            "narrative": plants.text("narrative at clear"), "needs": ["housing"], "consent_to_follow_up": True,
            "handoff": details}))
        encounter = encounter_of(response)
        entry = ok(crew.post(f"/api/encounters/{encounter}/narrative",
                             json={"text": plants.text("narrative entry"), "client_token": uuid.uuid4().hex}))
        ok(crew.post(f"/api/encounters/{encounter}/narrative/{entry['id']}/strike",
                     json={"reason": plants.text("strike reason", 256)}))

        second = new_call(desk, plants, SOUTH, summary=True)
        response = ok(desk.post(f"/api/calls/{second}/responses", json={"unit_id": units[0]}))["id"]
        for step, body in (("en-route", {}), ("on-scene", {}),
                           ("transport", {"destination": plants.text("transport destination", 128)})):
            ok(crew.post(f"/api/responses/{response}/{step}", json=body))

        third = new_call(desk, plants, NORTH, hand_off=False)
        ok(desk.post(f"/api/calls/{third}/triage/override",
                     json={"pathway": "CCD", "reason": plants.text("override reason", 1000)}))
        ok(desk.post(f"/api/calls/{third}/escalate", json={"reason": plants.text("escalation reason", 200)}))

        fourth = new_call(desk, plants, SOUTH)
        response = ok(desk.post(f"/api/calls/{fourth}/responses", json={"unit_id": units[1]}))["id"]
        ok(desk.post(f"/api/responses/{response}/cancel",
                     json={"reason": plants.text("cancel reason", 256), "call_still_needs_response": True}))

        fifth = new_call(desk, plants, NORTH, hand_off=False)
        ok(desk.post(f"/api/calls/{fifth}/triage/override", json={"pathway": "CCD", "reason": "phone first"}))
        resolved = desk.post(f"/calls/{fifth}/triage/resolve", data={"outcome": "resolved",
                                                                      "note": plants.text("phone clinician's note")})
        assert resolved.status_code in (200, 303), resolved.text

        incident = ok(desk.post("/api/eido", json=eido_document(plants)))["call"]["id"]
        ok(desk.patch(f"/api/calls/{incident}", json={"incident_type": "welfare_check"}))  # a person reads it
        ok(desk.patch(f"/api/calls/{incident}/screening", json={"answers": SAFE}))  # and asks the questions
        ok(desk.post(f"/api/calls/{incident}/triage", json={}))
        ok(desk.post(f"/api/calls/{incident}/hand-off"))
        response = ok(desk.post(f"/api/calls/{incident}/responses", json={"unit_id": units[1]}))["id"]
        for step in ("en-route", "on-scene"):
            ok(other_crew.post(f"/api/responses/{response}/{step}", json={}))
        # The desk's free text: a note from the board, messages both ways, a unit out of service with its reason.
        ok(desk.post(f"/api/calls/{incident}/notes", json={"text": plants.text("call note", 2000)}))
        ok(desk.post(f"/api/calls/{incident}/messages", json={"text": plants.text("message to a unit", 280),
                                                               "unit_id": units[1]}))
        ok(other_crew.post(f"/api/calls/{incident}/messages", json={"text": plants.text("message from a unit", 280)}))
        ok(desk.post(f"/api/units/{units[2]}/out-of-service", json={"reason": plants.text("out-of-service reason",
                                                                                             256)}))
    directory, service_id = resource_directory(plants, folder)
    import_directory(directory)
    care = plant_care(base_url, admin, supervisor, password, plants, details, [second, third, fourth, incident],
                      service_id)
    return Planted(plants, [first, second, third, fourth, fifth, incident], crews, supervisor, [service_id], care)
