"""Script payloads planted in the care screens' free text, through the product's own API as each person would:
the responder's warm handoff (every field), a navigator's notes and strike reason, a referral's consent to share, a
neighbor named on calls, a reviewer's approach notes, an Office of Survivor Care case (the person, the referrer's
words, the first note) and an Involuntary Commitment petition (the same person, so the linkage links them; the
examiner's community plan)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from tests.e2e.planted import Plants, api, ok

CASE_PROGRAMS = (
    {"code": "CN", "name": "Care Navigation", "kind": "case", "crew_roles": ["care navigator"]},
    {"code": "OSC", "name": "Office of Survivor Care", "kind": "case", "access": "members",
     "crew_roles": ["victim advocate"]},
    {"code": "IVC", "name": "Involuntary Commitment unit", "kind": "case",
     "crew_roles": ["certified first examiner", "peer support specialist"]},
)


@dataclass
class CarePlanted:
    follow_up: int  # Care Navigation's, from the handoff
    neighbor: int
    survivor_case: int
    survivor: int
    petition: int
    respondent: int
    proposal: int | None  # the linkage's pair of the neighbor and the respondent


def handoff(plants: Plants) -> dict[str, Any]:
    """Every free-text field of the warm handoff, a payload in each."""
    return {"first_name": plants.text("handoff first name", 80), "last_name": plants.text("handoff last name", 80),
            "aliases": [plants.text("handoff alias", 80)], "pronouns": plants.text("handoff pronouns", 32),
            "language": plants.text("handoff language", 64), "phone": plants.text("handoff phone", 32),
            "address": plants.text("handoff address", 256), "contact_method": "visit",
            "contact_times": plants.text("handoff best time", 256), "note": plants.text("handoff note", 4000)}


def create_case_programs(admin_api: httpx.Client) -> None:
    """Care Navigation and the two pilots, as an administrator puts them in."""
    for program in CASE_PROGRAMS:
        ok(admin_api.put(f"/api/programs/{program['code']}", json=program))


def plant_care(base_url: str, admin: str, supervisor: str, password: str, plants: Plants, details: dict[str, Any],
               open_calls: list[int], service_id: str) -> CarePlanted:
    """The care screens' data, after a crew's clear handed ``details`` (payloads) to Care Navigation. ``open_calls``
    are calls still being answered (the first: a crew's current call, whose phone then shows the approach notes)."""
    staff: dict[str, str] = {}
    with api(base_url, admin, password) as admin_api:
        for username, program, role in (("advocate", "OSC", "victim advocate"),
                                        ("examiner", "IVC", "certified first examiner")):
            made = ok(admin_api.post("/api/users", json={"username": f"{username}-{uuid.uuid4().hex[:6]}",
                                                         "password": password, "role": "navigator"}))
            staff[username] = made["username"]
            ok(admin_api.put(f"/api/programs/{program}/members/{made['id']}", json={"role": role}))
        lead = next(user["id"] for user in ok(admin_api.get("/api/users")) if user["username"] == supervisor)
        ok(admin_api.put(f"/api/programs/OSC/members/{lead}", json={}))  # the supervisor is on OSC's staff
    with api(base_url, supervisor, password) as desk:
        follow_up = ok(desk.get("/api/follow-ups"))["awaiting_contact"][0]
        ident, neighbor = follow_up["id"], follow_up["neighbor_id"]
        ok(desk.post(f"/api/follow-ups/{ident}/attempts", json={"method": "visit", "result": "reached",
                                                                 "client_token": uuid.uuid4().hex}))
        note = ok(desk.post(f"/api/follow-ups/{ident}/notes", json={"text": plants.text("navigator's note"),
                                                                     "client_token": uuid.uuid4().hex}))
        ok(desk.post(f"/api/follow-ups/{ident}/notes/{note['id']}/strike",
                     json={"reason": plants.text("note strike reason", 256)}))
        ok(desk.post(f"/api/follow-ups/{ident}/notes", json={"text": plants.text("navigator's second note"),
                                                              "client_token": uuid.uuid4().hex}))
        ok(desk.post(f"/api/follow-ups/{ident}/referrals", json={
            "need": "housing", "service_id": service_id, "consent_to_share": True, "client_token": uuid.uuid4().hex}))
        ok(desk.post(f"/api/neighbors/{neighbor}/consents", json={
            "purpose": "share_with_provider", "provider_name": plants.text("consent's provider name", 256)}))
    with api(base_url, staff["advocate"], password) as advocate:
        survivor = ok(advocate.post("/api/programs/OSC/cases", json={
            "intake": "hospital", "reference": plants.text("survivor case referrer", 256),
            "neighbor": handoff(plants), "needs": ["housing"], "consent_to_follow_up": True,
            "client_token": uuid.uuid4().hex}))
    with api(base_url, staff["examiner"], password) as examiner:
        same_person = {key: details[key] for key in ("first_name", "last_name", "aliases", "address")}
        petition = ok(examiner.post("/api/programs/IVC/cases", json={
            "intake": "family_petition", "reference": plants.text("petition reference", 256),
            "neighbor": {**same_person, "note": plants.text("petition note", 4000)}, "consent_to_follow_up": False,
            "client_token": uuid.uuid4().hex}))
        ok(examiner.post(f"/api/follow-ups/{petition['id']}/attempts", json={
            "method": "field_examination", "result": "examined", "client_token": uuid.uuid4().hex}))
        ok(examiner.post(f"/api/follow-ups/{petition['id']}/close", json={
            "outcome": "criteria_not_met", "plan": plants.text("IVC community plan")}))
    with api(base_url, supervisor, password) as desk:
        for call in open_calls:
            ok(desk.post(f"/api/neighbors/{neighbor}/calls", json={"call": str(call)}))
        ok(desk.post("/api/familiar-neighbors/linkage"))
        proposals = [p for status in ("merged", "open")
                     for p in ok(desk.get("/api/familiar-neighbors/proposals", params={"status": status}))
                     if {p["left_id"], p["right_id"]} == {neighbor, petition["neighbor_id"]}]
        ok(desk.post("/api/familiar-neighbors/flags/recount"))
        flag = next(f for f in ok(desk.get("/api/familiar-neighbors/flags")) if f["neighbor_id"] == neighbor)
        ok(desk.post(f"/api/familiar-neighbors/flags/{flag['id']}/review",
                     json={"approach_notes": plants.text("approach notes", 2000)}))
    return CarePlanted(ident, neighbor, survivor["id"], survivor["neighbor_id"], petition["id"],
                       petition["neighbor_id"], proposals[0]["id"] if proposals else None)
