"""The queue: waiting calls by age, the maximum wait, the "no unit available" fallback, and escalation."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from heart.calls.models import Call, CallStatus
from heart.db import transaction
from heart.dispatch import service
from heart.dispatch.board import build_board
from heart.dispatch.flows import escalate_to_field, fall_back
from heart.dispatch.queue import queued_calls
from heart.dispatch.schemas import CancelResponse
from heart.errors import Conflict
from heart.events import call_timeline
from heart.programs.models import Program
from heart.triage.models import TriageDecision
from heart.triage.service import hand_to_dispatch, override_decision
from tests import factories
from tests.dispatch.scenario import always_open, world


def test_calls_wait_oldest_first_and_a_cancelled_response_puts_a_call_back_with_a_fresh_clock(
    sessions: sessionmaker[Session],
) -> None:
    w = world(sessions, "CRT", "COR")
    w.add_unit("CRT", "CRT-1")
    older = w.add_call(when=w.now - timedelta(minutes=12))
    newer = w.add_call(when=w.now - timedelta(minutes=3))
    crisis = w.add_call(when=w.now - timedelta(minutes=6), nature_code="SUICIDAL SUBJECT",
                        screening={**factories.SAFE_SCREENING, "weapon": "yes"})
    with sessions() as session:
        queue = queued_calls(session=session)
        assert [q.call.id for q in queue] == [older, crisis, newer]
        assert [q.program.code for q in queue] == ["CRT", "COR", "CRT"]
        assert queue[0].waited_minutes(w.now) == pytest.approx(12, abs=0.01)
    with transaction(sessions) as session:
        response = service.assign_unit(session=session, call_id=older, unit_id=w.units["CRT-1"], at=w.now,
                                       now=w.now, by=w.dispatcher)
    with sessions() as session:
        assert older not in [q.call.id for q in queued_calls(session=session)]
    cancel_at = w.now + timedelta(minutes=1)
    with transaction(sessions) as session:
        service.cancel_response(session=session, response_id=response.id, data=CancelResponse(reason="flat tyre"),
                                at=cancel_at, now=cancel_at, by=w.dispatcher)
    with sessions() as session:
        back = {q.call.id: q for q in queued_calls(session=session)}
        assert back[older].waiting_since == cancel_at


def test_past_the_maximum_wait_the_board_prompts_and_the_fallback_is_recorded_as_no_unit_available(
    sessions: sessionmaker[Session],
) -> None:
    w = world(sessions, "CRT")
    w.add_unit("CRT", "CRT-1", on_duty=False)
    with transaction(sessions) as session:
        session.get_one(Program, w.programs["CRT"]).max_wait_minutes = 10
    call_id = w.add_call(when=w.now - timedelta(minutes=4))
    with sessions() as session:
        row = build_board(session=session, now=w.now).queue[0]
        assert not row.queued.over_max_wait(w.now) and row.recommendations == [] and row.expected is None
        assert row.fallback_due(w.now)  # nobody is on duty: no unit can come within the wait
        assert build_board(session=session, now=w.now + timedelta(minutes=6)).queue[0].queued.over_max_wait(
            w.now + timedelta(minutes=6))
    later = w.now + timedelta(minutes=7)
    with transaction(sessions) as session:
        decision = fall_back(session=session, call_id=call_id, now=later, by=w.dispatcher, policy=always_open())
    assert decision.fallback == "no_unit_available"
    assert decision.pathway == "PD" and decision.recommended_pathway == "CRT"
    assert decision.decided_by_id == w.dispatcher.id and "No CRT unit was on duty and free" in (
        decision.override_reason or "")
    with sessions() as session:
        call = session.get_one(Call, call_id)
        assert call.status == CallStatus.RESOLVED and call.pathway == "PD"
        assert queued_calls(session=session) == []
        fallback = [e for e in call_timeline(session=session, call_id=call_id) if e.kind == "triage.fallback"]
        assert len(fallback) == 1 and fallback[0].after is not None
        assert fallback[0].after["fallback"] == "no_unit_available" and fallback[0].after["waited_minutes"] == 11.0
        decisions = session.scalars(select(TriageDecision.fallback).where(TriageDecision.call_id == call_id)
                                    .order_by(TriageDecision.id)).all()
        assert decisions == [None, "no_unit_available"]
    with pytest.raises(Conflict, match="not waiting for a field unit"), transaction(sessions) as session:
        fall_back(session=session, call_id=call_id, now=later, by=w.dispatcher, policy=always_open())


def test_a_fallback_under_a_policy_edited_without_a_new_version_number_is_refused(
    sessions: sessionmaker[Session],
) -> None:
    """The fallback's decision is recorded by triage, through the one policy-version check every decision passes."""
    w = world(sessions, "CRT")
    w.add_unit("CRT", "CRT-1", on_duty=False)
    call_id = w.add_call()
    edited = dataclasses.replace(always_open(), text=always_open().text + "\n# a rule changed in place\n")
    with pytest.raises(Conflict, match="give the edited policy a new version number"), \
            transaction(sessions) as session:
        fall_back(session=session, call_id=call_id, now=w.now, by=w.dispatcher, policy=edited)
    with sessions() as session:
        assert session.get_one(Call, call_id).pathway == "CRT"  # nothing of the refused fallback was kept
        assert session.scalars(select(TriageDecision.fallback).where(TriageDecision.call_id == call_id)).all() == [
            None]


def test_a_fallback_goes_to_another_free_field_team_when_the_policy_allows(sessions: sessionmaker[Session]) -> None:
    w = world(sessions, "CRT", "COR")
    w.add_unit("COR", "COR-1")
    call_id = w.add_call(nature_code="MENTAL HEALTH CASE")
    with sessions() as session:
        assert session.get_one(Call, call_id).pathway == "CRT"
    with transaction(sessions) as session:
        decision = fall_back(session=session, call_id=call_id, now=w.now, by=w.dispatcher, policy=always_open())
    assert decision.pathway == "COR"
    with sessions() as session:
        assert [q.program.code for q in queued_calls(session=session)] == ["COR"]


def test_a_phone_call_escalates_to_a_field_team_without_reentering_anything(sessions: sessionmaker[Session]) -> None:
    w = world(sessions, "CCD", "CRT")
    w.add_unit("CRT", "CRT-1")
    call_id = w.add_call(nature_code="MENTAL HEALTH CASE", address="12 Elm St",
                         screening={**factories.SAFE_SCREENING, "phone_ok": "yes"})
    with sessions() as session:
        assert session.get_one(Call, call_id).pathway == "CCD"
        assert queued_calls(session=session) == []
    with transaction(sessions) as session:
        decision = escalate_to_field(session=session, call_id=call_id, reason="caller asks for someone to come",
                                     now=w.now, by=w.dispatcher, policy=always_open())
    assert decision.pathway == "CRT" and "Escalated from CCD" in (decision.override_reason or "")
    with transaction(sessions) as session:
        call = session.get_one(Call, call_id)
        assert call.address == "12 Elm St" and call.screening["phone_ok"] == "yes"  # nothing re-entered
        service.assign_unit(session=session, call_id=call_id, unit_id=w.units["CRT-1"], at=w.now, now=w.now,
                            by=w.dispatcher)
    with sessions() as session:
        kinds = [e.kind for e in call_timeline(session=session, call_id=call_id)]
    assert kinds == ["call.received", "triage.decided", "triage.overridden", "call.escalated", "response.dispatched"]


def test_escalating_to_an_unarmed_team_still_needs_every_exclusion_answered_no(
    sessions: sessionmaker[Session],
) -> None:
    w = world(sessions, "CCD", "CRT")
    call_id = w.add_call(nature_code="MENTAL HEALTH CASE", screening={**factories.SAFE_SCREENING, "phone_ok": "yes"})
    with transaction(sessions) as session:
        session.get_one(Call, call_id).screening = {**factories.SAFE_SCREENING, "phone_ok": "yes",
                                                    "weapon": "unknown"}
    with pytest.raises(Conflict, match="weapon"), transaction(sessions) as session:
        escalate_to_field(session=session, call_id=call_id, reason="", now=w.now, by=w.dispatcher,
                          policy=always_open())
    other = w.add_call()
    with pytest.raises(Conflict, match="only a phone call"), transaction(sessions) as session:
        escalate_to_field(session=session, call_id=other, reason="", now=w.now, by=w.dispatcher,
                          policy=always_open())


def test_an_override_into_the_field_waits_for_the_hand_off_then_joins_the_queue(
    sessions: sessionmaker[Session],
) -> None:
    w = world(sessions, "CRT")
    call_id = w.add_call(nature_code="DISTURBANCE")
    with sessions() as session:
        call = session.get_one(Call, call_id)
        assert (call.pathway, call.status) == ("PD", CallStatus.TRIAGED)  # decided, not sent anywhere
        assert queued_calls(session=session) == []
    with transaction(sessions) as session:
        override_decision(session=session, call_id=call_id, pathway="CRT", reason="officer on scene asked for CRT",
                          now=w.now, actor_id=w.dispatcher.id, policy=always_open())
    with sessions() as session:
        assert queued_calls(session=session) == []  # nobody has handed it to dispatch yet
    with transaction(sessions) as session:
        hand_to_dispatch(session=session, call_id=call_id, now=w.now, actor_id=w.dispatcher.id, policy=always_open())
    with sessions() as session:
        assert [q.call.id for q in queued_calls(session=session)] == [call_id]
