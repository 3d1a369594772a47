"""Safety at every step, as a call-taker, a dispatcher and a crew meet it through the JSON API and the screens.

Each test is one of the ways issue 9 found the promise broken: a weapon learnt after triage, a call type that
names a weapon, a call that closed itself, a fallback that said "no unit available" while units were free, a
cancel message that was not true, two presses sending two units.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from heart.auth.models import Role
from heart.calls.models import Call, CallStatus
from heart.db import make_engine, make_sessionmaker, transaction, utcnow
from heart.dispatch import flows, queue, service
from heart.dispatch.models import Alert, AlertKind
from heart.dispatch.schemas import CancelResponse
from heart.errors import ConfirmationNeeded, Conflict
from heart.events import Event
from heart.programs.models import Program
from heart.triage.engine import NO_UNIT_AVAILABLE, NO_UNIT_IN_TIME, NOT_DISPATCHED_IN_TIME, PROGRAM_CLOSED
from heart.triage.flows import change_screening
from heart.triage.models import TriageDecision
from heart.triage.service import current_decision
from tests import factories
from tests.dispatch.scenario import NORTH, World, always_open, world

pytestmark = pytest.mark.usefixtures("all_day_policy")
Client = Callable[..., TestClient]
SAFE = factories.SAFE_SCREENING


def _sent(w: World, sessions: sessionmaker[Session], unit: str = "CRT-1", **call: object) -> tuple[int, int]:
    call_id = w.add_call(**call)
    with transaction(sessions) as session:
        response = service.assign_unit(session=session, call_id=call_id, unit_id=w.units[unit], at=w.now,
                                       now=w.now, by=w.dispatcher)
        return call_id, response.id


def _exclusion_alerts(sessions: sessionmaker[Session]) -> list[Alert]:
    with sessions() as session:
        return list(session.scalars(select(Alert).where(Alert.kind == AlertKind.EXCLUSION).order_by(Alert.id)))


def test_a_weapon_learnt_after_triage_decides_again_and_the_unarmed_team_is_refused(
    signed_in: Client, sessions: sessionmaker[Session]
) -> None:
    w = world(sessions, "CRT", "COR")
    w.add_unit("CRT", "CRT-1")
    w.add_unit("COR", "COR-1")
    call_id = w.add_call(nature_code="MENTAL HEALTH CASE")
    client = signed_in(Role.CALL_TAKER)
    assert client.get(f"/api/calls/{call_id}").json()["pathway"] == "CRT"
    changed = client.patch(f"/api/calls/{call_id}/screening", json={"answers": {"weapon": "yes"}})
    assert changed.status_code == 200 and changed.json()["pathway"] == "COR"  # the waiting call moved queue
    decisions = client.get(f"/api/calls/{call_id}/decisions").json()
    assert [d["pathway"] for d in decisions] == ["CRT", "COR"]
    assert decisions[-1]["reasons"][0]["text"] == "Screening changed: weapon yes."
    with sessions() as session:
        event = session.scalars(select(Event).where(Event.call_id == call_id, Event.kind == "triage.redecided")).one()
        assert event.after is not None and event.after["changed"] == {"weapon": "yes"}
        assert [q.program.code for q in queue.queued_calls(session=session)] == ["COR"]
    sent = signed_in(Role.DISPATCHER).post(f"/api/calls/{call_id}/responses", json={"unit_id": w.units["CRT-1"]})
    assert sent.status_code == 409 and "routed to COR" in sent.json()["detail"]
    assert _exclusion_alerts(sessions) == []  # nobody was on the way


def test_a_weapon_reported_while_the_team_is_on_the_way_alerts_every_board_and_the_crew_until_both_acknowledge(
    signed_in: Client, sessions: sessionmaker[Session]
) -> None:
    w = world(sessions, "CRT", "COR")
    w.add_unit("CRT", "CRT-1")
    call_id, response_id = _sent(w, sessions)
    call_taker = signed_in(Role.CALL_TAKER)
    assert call_taker.patch(f"/api/calls/{call_id}/screening", json={"answers": {"weapon": "yes"}}).status_code == 200
    again = call_taker.patch(f"/api/calls/{call_id}/screening", json={"answers": {"weapon": "yes"}})
    assert again.json()["status"] == "assigned"  # the unit is still on the call; no second alert for no change
    (alert,) = _exclusion_alerts(sessions)
    assert alert.message == f"CRT-1 · call {call_id}: Weapon reported — stage and wait for police."
    assert (alert.response_id, alert.acknowledged_at, alert.crew_acknowledged_at) == (response_id, None, None)
    with sessions() as session:
        raised = session.scalars(select(Event).where(Event.kind == "alert.raised", Event.call_id == call_id)).one()
        assert raised.after is not None and raised.after["kind"] == "exclusion"

    dispatcher = signed_in(Role.DISPATCHER)
    listed = dispatcher.get("/api/alerts").json()
    assert [a["kind"] for a in listed][:1] == ["exclusion"]  # the first thing on the board
    board = dispatcher.get("/dispatch").text
    assert "Weapon reported — stage and wait for police." in board and ">SAFETY<" in board
    assert dispatcher.post(f"/dispatch/alerts/{alert.id}/acknowledge", data={"token": "ack-1"}).status_code == 200
    board = dispatcher.get("/dispatch").text
    assert "Weapon reported" in board and "board: acknowledged · crew (CRT-1): not yet" in board  # still there

    crew = signed_in(Role.RESPONDER, unit_id=w.units["CRT-1"])
    phone = crew.get("/responder").text
    assert "Weapon reported — stage and wait for police." in phone and "Seen: we stage and wait" in phone
    seen = crew.post(f"/responder/alerts/{alert.id}/acknowledge")
    assert seen.status_code == 200 and "it stays here until dispatch has too" not in seen.text  # both have now
    assert "Weapon reported" not in crew.get("/responder").text
    assert signed_in(Role.DISPATCHER).get("/api/alerts").json() == []

    call_taker = signed_in(Role.CALL_TAKER)
    call_taker.patch(f"/api/calls/{call_id}/screening", json={"answers": {"imminent_risk_to_others": "unknown"}})
    newest = _exclusion_alerts(sessions)[-1]
    assert "Imminent risk to others is no longer answered no" in newest.message  # the policy's own words


def test_a_call_type_that_names_a_weapon_never_takes_an_unarmed_team_and_the_screen_says_why(
    signed_in: Client, sessions: sessionmaker[Session]
) -> None:
    w = world(sessions, "CRT", "COR")
    w.add_unit("CRT", "CRT-1")
    call_id = w.add_call(nature_code="SUICIDE THREAT WITH WEAPON")  # every answer "no"
    client = signed_in(Role.CALL_TAKER)
    call = client.get(f"/api/calls/{call_id}").json()
    assert (call["pathway"], call["incident_type"]) == ("COR", "crisis_with_violence")
    reasons = [r["text"] for r in client.get(f"/api/calls/{call_id}/decisions").json()[-1]["reasons"]]
    assert any(r.startswith("The call type says: weapon (WEAPON)") for r in reasons)
    assert "The call type says: weapon (WEAPON)" in client.get(f"/calls/{call_id}/triage").text
    refused = client.post(f"/api/calls/{call_id}/triage/override", json={"pathway": "CRT", "reason": "calm now"})
    assert refused.status_code == 409 and "the call type says: weapon (WEAPON)" in refused.json()["detail"]


@pytest.mark.parametrize(("change", "words"), [
    ({"nature_code": "SUBJECT ARMED WITH KNIFE"}, "Weapon reported"),
    ({"priority": "P"}, "now Priority P"),
    ({"incident_type": "overdose"}, "Medical emergency reported"),
])
def test_a_changed_call_type_or_priority_alerts_the_team_on_the_way(
    signed_in: Client, sessions: sessionmaker[Session], change: dict[str, str], words: str
) -> None:
    w = world(sessions, "CRT", "COR")
    w.add_unit("CRT", "CRT-1")
    w.add_unit("CRT", "CRT-2")
    call_id, _ = _sent(w, sessions)
    changed = signed_in(Role.CALL_TAKER).patch(f"/api/calls/{call_id}", json=change)
    assert changed.status_code == 200, changed.text
    (alert,) = _exclusion_alerts(sessions)
    assert words in alert.message and alert.message.startswith("CRT-1 ·")
    added = signed_in(Role.DISPATCHER).post(f"/api/calls/{call_id}/responses",
                                            json={"unit_id": w.units["CRT-2"], "additional": True})
    assert added.status_code == 409  # no second unarmed team either


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_guard_names_the_incident_type_that_blocks_it(sessions: sessionmaker[Session]) -> None:
    w = world(sessions, "CRT")
    w.add_unit("CRT", "CRT-1")
    call_id = w.add_call()
    with transaction(sessions) as session:  # a type set by a path that does not decide again
        session.get_one(Call, call_id).incident_type = "person_with_weapon"
    with pytest.raises(service.ExclusionHolds, match="the incident type is Person with a weapon"), \
            transaction(sessions) as session:
        service.assign_unit(session=session, call_id=call_id, unit_id=w.units["CRT-1"], at=w.now, now=w.now,
                            by=w.dispatcher)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_saving_a_call_records_the_decision_and_waits_for_a_person_to_send_it(
    signed_in: Client, sessions: sessionmaker[Session]
) -> None:
    world(sessions, "CRT")
    client = signed_in(Role.CALL_TAKER)
    saved = client.post("/calls/new", data={"nature_code": "CHECK WELFARE", "priority": "3"},
                        follow_redirects=False)  # every question still unanswered
    assert saved.status_code == 303
    call_id = int(saved.headers["location"].split("/")[2])
    call = client.get(f"/api/calls/{call_id}").json()
    assert (call["pathway"], call["status"], call["closed_at"]) == ("PD", "triaged", None)
    screen = client.get(f"/calls/{call_id}/triage").text
    assert "Send to PD…" in screen and "Nothing has been sent yet" in screen
    asked = client.post(f"/calls/{call_id}/triage/send", data={})
    assert asked.status_code == 200 and "Confirm: send to PD" in asked.text
    assert client.get(f"/api/calls/{call_id}").json()["status"] == "triaged"  # asking changed nothing
    done = client.post(f"/calls/{call_id}/triage/send", data={"confirm": "yes"}, follow_redirects=False)
    assert done.status_code == 303
    assert client.get(f"/api/calls/{call_id}").json()["status"] == "resolved"
    with sessions() as session:
        kinds = [e.kind for e in session.scalars(select(Event).where(Event.call_id == call_id).order_by(Event.id))]
    assert kinds == ["call.received", "triage.decided", "call.sent_to_agency"]

    crt = client.post("/api/calls", json={"nature_code": "CHECK WELFARE", "priority": "3", "screening": SAFE}).json()
    client.post(f"/api/calls/{crt['id']}/triage", json={})
    dispatcher = signed_in(Role.DISPATCHER)
    assert dispatcher.get("/api/dispatch/queue").json() == []  # not handed off: not on the board
    assert signed_in(Role.CALL_TAKER).post(f"/api/calls/{crt['id']}/hand-off").status_code == 200
    assert [q["call_id"] for q in signed_in(Role.DISPATCHER).get("/api/dispatch/queue").json()] == [crt["id"]]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_two_presses_on_two_assign_buttons_send_one_unit_and_cancel_messages_say_what_is_true(
    signed_in: Client, sessions: sessionmaker[Session]
) -> None:
    w = world(sessions, "CRT")
    w.add_unit("CRT", "CRT-1")
    w.add_unit("CRT", "CRT-2", home=NORTH)
    call_id = w.add_call(at=NORTH)
    client = signed_in(Role.DISPATCHER)
    first = client.post(f"/dispatch/calls/{call_id}/assign", data={"unit_id": w.units["CRT-2"], "token": "t-1"})
    second = client.post(f"/dispatch/calls/{call_id}/assign", data={"unit_id": w.units["CRT-1"], "token": "t-2"})
    assert first.status_code == 200 and "CRT-2 sent" in first.text
    assert second.status_code == 409 and "already has CRT-2 on it" in second.text and "Add a unit" in second.text
    assert "Add a unit" in client.get("/dispatch").text
    added = client.post(f"/dispatch/calls/{call_id}/add-unit", data={"unit_id": w.units["CRT-1"], "token": "t-3"})
    assert added.status_code == 200 and f"CRT-1 added: CRT-1, CRT-2 on call {call_id}" in added.text
    with sessions() as session:
        by_unit = {r.unit_id: r.id for r in service.responses_for_call(session=session, call_id=call_id)}
    form = {"reason": "one team is enough", "token": "c-1"}
    cancelled = client.post(f"/dispatch/responses/{by_unit[w.units['CRT-1']]}/cancel", data=form)
    assert f"CRT-1 called off; CRT-2 still on call {call_id}." in cancelled.text
    assert client.get(f"/api/calls/{call_id}").json()["status"] == "assigned"
    last = client.post(f"/dispatch/responses/{by_unit[w.units['CRT-2']]}/cancel",
                       data={"reason": "the caller withdrew", "token": "c-2"})
    assert f"CRT-2 called off; call {call_id} is closed (no unit needed)." in last.text


# --- fallback reasons are facts -------------------------------------------------------------------------------

def _waiting(w: World, minutes: float, **call: object) -> int:
    return w.add_call(when=w.now - timedelta(minutes=minutes), **call)


def _max_wait(w: World, sessions: sessionmaker[Session], minutes: int = 15) -> None:
    with transaction(sessions) as session:
        session.get_one(Program, w.programs["CRT"]).max_wait_minutes = minutes


def test_each_fallback_records_the_reason_that_held(sessions: sessionmaker[Session]) -> None:
    w = world(sessions, "CRT", "COR")
    w.add_unit("CRT", "CRT-1", home=NORTH)
    _max_wait(w, sessions)
    policy = always_open()
    early = _waiting(w, 3)
    with pytest.raises(Conflict, match="CRT-1 is free and can arrive within the maximum wait"), \
            transaction(sessions) as session:
        flows.fall_back(session=session, call_id=early, now=w.now, by=w.dispatcher, policy=policy)
    late = _waiting(w, 16)
    with pytest.raises(ConfirmationNeeded, match="Not dispatched within 15 minutes while CRT units were free"), \
            transaction(sessions) as session:
        flows.fall_back(session=session, call_id=late, now=w.now, by=w.dispatcher, policy=policy)
    with transaction(sessions) as session:
        decision = flows.fall_back(session=session, call_id=late, now=w.now, by=w.dispatcher, policy=policy,
                                   confirm=NOT_DISPATCHED_IN_TIME)
    assert decision.fallback == NOT_DISPATCHED_IN_TIME and "(CRT-1; waited 16 of 15 minutes)" in (
        decision.override_reason or "")
    far = _waiting(w, 1, at=(36.60, -79.50))  # some 80 km away
    with transaction(sessions) as session:
        assert flows.fall_back(session=session, call_id=far, now=w.now, by=w.dispatcher,
                               policy=policy).fallback == NO_UNIT_IN_TIME
    closed_policy = dataclasses.replace(policy, programs={**policy.programs, "CRT": dataclasses.replace(
        policy.programs["CRT"], hours=())})
    with transaction(sessions) as session:
        assert flows.fall_back(session=session, call_id=early, now=w.now, by=w.dispatcher,
                               policy=closed_policy).fallback == PROGRAM_CLOSED
    busy = _waiting(w, 2)
    with transaction(sessions) as session:
        service.assign_unit(session=session, call_id=w.add_call(), unit_id=w.units["CRT-1"], at=w.now, now=w.now,
                            by=w.dispatcher)
    with transaction(sessions) as session:
        assert flows.fall_back(session=session, call_id=busy, now=w.now, by=w.dispatcher,
                               policy=policy).fallback == NO_UNIT_AVAILABLE
    with sessions() as session:
        recorded = session.scalars(select(Event.after).where(Event.kind == "triage.fallback").order_by(Event.id))
        assert [(a or {})["fallback"] for a in recorded] == [NOT_DISPATCHED_IN_TIME, NO_UNIT_IN_TIME, PROGRAM_CLOSED,
                                                              NO_UNIT_AVAILABLE]


def test_the_why_page_and_the_api_name_a_late_fallback_for_what_it_was(
    signed_in: Client, sessions: sessionmaker[Session]
) -> None:
    w = world(sessions, "CRT")
    w.add_unit("CRT", "CRT-1", home=NORTH)
    _max_wait(w, sessions)
    late = _waiting(w, 20)
    dispatcher = signed_in(Role.DISPATCHER)
    unconfirmed = dispatcher.post(f"/api/calls/{late}/fallback", json={})
    assert unconfirmed.status_code == 409 and unconfirmed.json().get("field") == "confirm"
    assert "Not dispatched within 15 minutes" in unconfirmed.json()["detail"]
    done = dispatcher.post(f"/api/calls/{late}/fallback", json={"confirm": NOT_DISPATCHED_IN_TIME})
    assert done.status_code == 201 and done.json()["fallback"] == NOT_DISPATCHED_IN_TIME
    page = signed_in(Role.SUPERVISOR).get(f"/calls/{late}/why").text
    assert "not dispatched within the maximum wait although CRT units were free" in page
    assert "No CRT unit was" not in page


# --- every intake path, and two people at once --------------------------------------------------------------

@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_later_eido_document_that_names_a_weapon_alerts_the_team_on_the_way(
    signed_in: Client, sessions: sessionmaker[Session]
) -> None:
    from tests.calls.eido.documents import eido

    w = world(sessions, "CRT", "COR")
    w.add_unit("CRT", "CRT-1")
    client = signed_in(Role.DISPATCHER)
    first = client.post("/api/eido", json=eido(incidentTypeInternalText="CHECK WELFARE"))
    call_id = first.json()["call"]["id"]
    client.patch(f"/api/calls/{call_id}/screening", json={"answers": SAFE})
    assert client.post(f"/api/calls/{call_id}/triage", json={}).json()["pathway"] == "CRT"
    assert client.post(f"/api/calls/{call_id}/responses", json={"unit_id": w.units["CRT-1"]}).status_code == 201
    later = eido("2025-10-01T14:20:00.000Z", incidentTypeInternalText="CHECK WELFARE - ARMED SUBJECT")
    updated = client.post("/api/eido", json=later)
    assert updated.status_code == 200 and "nature_code" in updated.json()["changed"]
    (alert,) = _exclusion_alerts(sessions)
    assert "Weapon reported" in alert.message
    with sessions() as session:
        decision = current_decision(session=session, call_id=call_id)
        assert decision is not None and decision.pathway != "CRT" and decision.reasons[0]["text"].startswith(
            "Incident type changed")


def test_a_weapon_reported_at_the_moment_a_unit_is_sent_is_never_missed(postgres_url: str) -> None:
    """Two people at once on PostgreSQL: the screening change and the dispatch lock the same call row, so either
    the unit is refused or it is out and alerted — never out and silent."""
    engine = make_engine(postgres_url, pool_size=4, max_overflow=0)
    sessions = make_sessionmaker(engine)
    try:
        w = world(sessions, "CRT", "COR")
        w.add_unit("CRT", "CRT-1")
        outcomes = []
        for _ in range(6):
            call_id = w.add_call(nature_code="MENTAL HEALTH CASE")
            barrier = threading.Barrier(2)
            sent: list[bool] = []

            def report(call_id: int = call_id, barrier: threading.Barrier = barrier) -> None:
                barrier.wait()
                with transaction(sessions) as session:
                    change_screening(session=session, call_id=call_id, answers={"weapon": "yes"}, now=utcnow(),
                                     actor_id=None, policy=always_open())

            def send(call_id: int = call_id, sent: list[bool] = sent, barrier: threading.Barrier = barrier) -> None:
                barrier.wait()
                try:
                    with transaction(sessions) as session:
                        service.assign_unit(session=session, call_id=call_id, unit_id=w.units["CRT-1"],
                                            at=utcnow(), now=utcnow(), by=w.dispatcher, policy=always_open())
                    sent.append(True)
                except Conflict:
                    sent.append(False)

            threads = [threading.Thread(target=report), threading.Thread(target=send)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=30)
            with sessions() as session:
                alerted = session.scalar(select(Alert.id).where(Alert.call_id == call_id,
                                                                Alert.kind == AlertKind.EXCLUSION))
                assert sent == [alerted is not None], f"sent={sent}, alerted={alerted is not None}"
                outcomes.append(sent[0])
            if sent[0]:  # free the unit for the next round
                with transaction(sessions) as session:
                    response = service.responses_for_call(session=session, call_id=call_id)[0]
                    service.cancel_response(session=session, response_id=response.id,
                                            data=CancelResponse(reason="test round over"), at=utcnow(),
                                            now=utcnow(), by=w.dispatcher)
        assert len(outcomes) == 6
    finally:
        engine.dispose()


def test_decisions_keep_the_program_a_call_is_eligible_for(sessions: sessionmaker[Session]) -> None:
    """What reach counts against: the policy's program before hours and free units, kept through a fallback."""
    w = world(sessions, "CRT", "COR")
    w.add_unit("COR", "COR-1")
    call_id = w.add_call(when=w.now - timedelta(minutes=20), nature_code="MENTAL HEALTH CASE")
    with transaction(sessions) as session:
        flows.fall_back(session=session, call_id=call_id, now=w.now, by=w.dispatcher, policy=always_open())
    with sessions() as session:
        rows = session.execute(select(TriageDecision.pathway, TriageDecision.eligible_pathway)
                               .where(TriageDecision.call_id == call_id).order_by(TriageDecision.id)).all()
    assert [tuple(r) for r in rows] == [("CRT", "CRT"), ("COR", "CRT")]
    with sessions() as session:
        assert session.get_one(Call, call_id).status == CallStatus.TRIAGED  # COR's queue now
