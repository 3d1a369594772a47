"""A referral's closed loop with a partner agency's system, in HL7 FHIR R4: the referral goes out as a Bundle that
fhir.resources validates (the Patient holds only what the neighbor consented to share with that provider), the
partner's Task updates come back and move the referral through the same guard — once, in order — and a bad document
is refused with the FHIR path of each problem, changing nothing."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from fhir.resources.R4B.bundle import Bundle
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from heart.db import transaction, utcnow
from heart.events import Event
from heart.navigation.followups.models import Referral
from heart.neighbors import flows as neighbor_flows
from heart.neighbors.models import Consent, NeighborRead
from tests.conftest import login
from tests.navigation.followups.care import Care

pytestmark = pytest.mark.parametrize("database_url", ["sqlite", "postgres"], indirect=True)


def navigator(client: TestClient) -> TestClient:
    return login(client, "care-navigator", "x" * 12)


def resources(bundle: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {entry["resource"]["resourceType"]: entry["resource"] for entry in bundle["entry"]}


def task_update(bundle: dict[str, Any], status: str, at: datetime) -> dict[str, Any]:
    """The partner's answer: the Task HEART sent, with its new status and time."""
    task = copy.deepcopy(resources(bundle)["Task"])
    task.update(status=status, lastModified=at.isoformat(timespec="seconds"), businessStatus={"text": status})
    return task


def status_of(sessions: sessionmaker[Session], referral_id: int) -> str:
    with sessions() as session:
        return session.get_one(Referral, referral_id).status.value


def events(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        return int(session.scalar(select(func.count()).select_from(Event)) or 0)


def test_a_referral_goes_out_as_a_valid_bundle_with_only_what_the_neighbor_consented_to_share(
    client: TestClient, care: Care, referral: int, sessions: sessionmaker[Session],
) -> None:
    answer = navigator(client).get(f"/api/referrals/{referral}/fhir")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("application/fhir+json")
    bundle = answer.json()
    Bundle.model_validate(bundle)  # fhir.resources (R4B) accepts it as a whole, every resource inside too
    found = resources(bundle)
    assert sorted(found) == ["Organization", "Patient", "ServiceRequest", "Task"]
    patient, task, request = found["Patient"], found["Task"], found["ServiceRequest"]
    assert patient["name"] == [{"family": "Quennell-Marsh", "given": ["Rosalind"]}]
    assert patient["birthDate"] == "1984-02-29" and patient["telecom"][0]["value"] == "919-555-0142"
    assert patient["communication"][0]["language"]["text"] == "Spanish"
    text = json.dumps(patient)
    for kept_back in ("Liberty", "she/her", "weekday mornings", "shelter bed"):  # address, pronouns, times, note
        assert kept_back not in text
    with sessions() as session:
        made = session.get_one(Referral, referral)
    assert found["Organization"]["id"] == made.organization_id and found["Organization"]["name"]
    assert task["status"] == "requested" and task["focus"]["reference"] == f"ServiceRequest/referral-{referral}"
    assert task["owner"]["reference"] == f"Organization/{made.organization_id}"
    assert request["code"]["coding"][0]["code"] == made.service_id and request["status"] == "active"
    with sessions() as session:
        purposes = session.scalars(select(NeighborRead.purpose)).all()
    assert "referral exported (FHIR)" in purposes  # the export is a read, logged like any other


def test_the_partners_task_updates_close_the_loop_once_and_in_order(
    client: TestClient, care: Care, referral: int, sessions: sessionmaker[Session],
) -> None:
    user = navigator(client)
    bundle = user.get(f"/api/referrals/{referral}/fhir").json()
    now = utcnow()
    accepted = user.post("/api/fhir/Task", json=task_update(bundle, "accepted", now - timedelta(minutes=20)))
    assert accepted.status_code == 200 and accepted.json()["result"] == "moved"
    assert status_of(sessions, referral) == "accepted"
    before = events(sessions)
    again = user.post("/api/fhir/Task", json=task_update(bundle, "accepted", now - timedelta(minutes=20)))
    assert again.json()["result"] == "repeated" and events(sessions) == before
    in_a_bundle = {"resourceType": "Bundle", "type": "collection",
                   "entry": [{"resource": task_update(bundle, "completed", now - timedelta(minutes=5))}]}
    done = user.post("/api/fhir/Task", json=in_a_bundle)
    assert done.status_code == 200 and done.json()["referral"]["status"] == "completed"
    late = user.post("/api/fhir/Task", json=task_update(bundle, "in-progress", now - timedelta(minutes=10)))
    assert late.json()["result"] == "stale" and status_of(sessions, referral) == "completed"
    closed = user.post("/api/fhir/Task", json=task_update(bundle, "rejected", now))
    assert closed.status_code == 409 and status_of(sessions, referral) == "completed"
    refreshed = resources(user.get(f"/api/referrals/{referral}/fhir").json())
    assert refreshed["Task"]["status"] == "completed" and refreshed["ServiceRequest"]["status"] == "completed"


def test_completed_without_accepted_is_recorded_as_both_and_rejected_declines(
    client: TestClient, care: Care, referral: int, sessions: sessionmaker[Session],
) -> None:
    user = navigator(client)
    bundle = user.get(f"/api/referrals/{referral}/fhir").json()
    done = user.post("/api/fhir/Task", json=task_update(bundle, "completed", utcnow()))
    assert done.status_code == 200 and done.json()["notices"]
    with sessions() as session:
        made = session.get_one(Referral, referral)
        assert made.accepted_at == made.completed_at is not None


@pytest.mark.parametrize(("change", "path"), [
    ({"resourceType": "Patient"}, "resourceType"),
    ({"status": "bogus"}, "Task.status"),
    ({"status": "cancelled"}, "Task.status"),
    ({"focus": None}, "Task.focus"),
    ({"focus": {"reference": "ServiceRequest/referral-999999"}}, "Task.focus"),
    ({"owner": {"reference": "Organization/some-other-agency"}}, "Task.owner"),
    ({"lastModified": "next tuesday"}, "Task.lastModified"),
    ({"lastModified": "2001-01-01T00:00:00Z"}, "Task.lastModified"),
    ({"intent": None}, "Task.intent"),
    ({"note": [{"text": 7}]}, "Task.note[0].text"),
])  # fmt: skip
def test_a_bad_document_is_refused_naming_its_fhir_path_and_changes_nothing(
    client: TestClient, care: Care, referral: int, sessions: sessionmaker[Session], change: dict[str, Any],
    path: str,
) -> None:
    user = navigator(client)
    bundle = user.get(f"/api/referrals/{referral}/fhir").json()
    document = {**task_update(bundle, "accepted", utcnow()), **change}
    document = {key: value for key, value in document.items() if value is not None}
    before = events(sessions)
    refused = user.post("/api/fhir/Task", json=document)
    assert refused.status_code == 422, refused.text
    assert path in [problem["loc"][-1] for problem in refused.json()["detail"]], refused.json()
    assert "Quennell" not in refused.text and status_of(sessions, referral) == "made" and events(sessions) == before


def test_a_withdrawn_consent_sends_nothing(client: TestClient, care: Care, referral: int,
                                           sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        share = session.scalar(select(Consent).where(Consent.purpose == "share_with_provider"))
        assert share is not None
        neighbor_id, consent_id = share.neighbor_id, share.id
    with transaction(sessions) as session:
        neighbor_flows.withdraw_consent(session=session, neighbor_id=neighbor_id, consent_id=consent_id,
                                        at=datetime.now(UTC), by=care.navigator, rules=care.rules)
    refused = navigator(client).get(f"/api/referrals/{referral}/fhir")
    assert refused.status_code == 409 and "nothing is sent" in refused.json()["detail"]
