"""The board's desk work: notes a crew sees, messages both ways in the timeline, out of service with its guard,
and every free unit offered (fastest first)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from heart.auth.models import Role
from heart.auth.service import create_user
from heart.calls import notes
from heart.calls.desk import OutOfService
from heart.calls.models import CallNote
from heart.db import transaction
from heart.dispatch import flows, service
from heart.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from heart.events import Event
from heart.programs.models import Unit, UnitStatus
from heart.programs.service import return_to_service, take_out_of_service
from tests.dispatch.scenario import DOWNTOWN, NORTH, SOUTH, World, world

SECRET = "Back door code 4417, neighbor's sister Ms Rivera"


def _assigned(w: World, sessions: sessionmaker[Session], unit: str = "CRT-1") -> tuple[int, int]:
    call_id = w.add_call(address="101 City Hall Plaza")
    with transaction(sessions) as session:
        response = service.assign_unit(session=session, call_id=call_id, unit_id=w.units[unit], at=w.now,
                                       now=w.now, by=w.dispatcher)
        return call_id, response.id


def _events(sessions: sessionmaker[Session], kind: str) -> list[Event]:
    with sessions() as session:
        return list(session.scalars(select(Event).where(Event.kind == kind)))


def test_a_note_is_kept_once_and_its_event_holds_no_text(sessions: sessionmaker[Session]) -> None:
    w = world(sessions, "CRT")
    w.add_unit("CRT", "CRT-1")
    call_id, _ = _assigned(w, sessions)
    with transaction(sessions) as session:
        first = notes.add_note(session=session, call_id=call_id, text=f"  {SECRET}  ", by=w.dispatcher, now=w.now,
                               token="tap-1")
        again = notes.add_note(session=session, call_id=call_id, text=SECRET, by=w.dispatcher, now=w.now,
                               token="tap-1")
        assert again.id == first.id and first.text == SECRET
    events = _events(sessions, "call.note_added")
    assert len(events) == 1 and events[0].after == {"note": "(note added)"}
    assert SECRET not in repr([(e.before, e.after) for e in _events(sessions, "call.note_added")])


def test_notes_refuse_empty_long_or_unauthorised_text(sessions: sessionmaker[Session]) -> None:
    w = world(sessions, "CRT")
    call_id = w.add_call()
    with transaction(sessions) as session:
        analyst = create_user(session=session, username="analyst-1", password="x" * 12, role=Role.ANALYST, now=w.now)
        session.expunge(analyst)
    with sessions() as session:
        with pytest.raises(InvalidInput, match="write the note first"):
            notes.add_note(session=session, call_id=call_id, text="   ", by=w.dispatcher, now=w.now)
        with pytest.raises(InvalidInput, match="at most 2000 characters"):
            notes.add_note(session=session, call_id=call_id, text="x" * 2001, by=w.dispatcher, now=w.now)
        with pytest.raises(PermissionDenied):
            notes.add_note(session=session, call_id=call_id, text="hello", by=analyst, now=w.now)


def test_messages_go_between_a_unit_on_the_call_and_dispatch(
    sessions: sessionmaker[Session], make_user: Callable[..., object],
) -> None:
    w = world(sessions, "CRT")
    w.add_unit("CRT", "CRT-1")
    w.add_unit("CRT", "CRT-2", home=NORTH)
    call_id, _ = _assigned(w, sessions)
    make_user(Role.RESPONDER, unit_id=w.units["CRT-1"], username="crt1-phone")
    make_user(Role.RESPONDER, unit_id=w.units["CRT-2"], username="crt2-phone")
    with transaction(sessions) as session:
        from heart.auth.service import get_user_by_username

        crew = get_user_by_username(session=session, username="crt1-phone")
        other = get_user_by_username(session=session, username="crt2-phone")
        notes.send_message(session=session, call_id=call_id, text="On scene soon, 2 min", by=crew, now=w.now)
        notes.send_message(session=session, call_id=call_id, text="Caller says side gate", by=w.dispatcher,
                           unit_id=w.units["CRT-1"], now=w.now)
        with pytest.raises(InvalidInput, match="choose the unit"):
            notes.send_message(session=session, call_id=call_id, text="hi", by=w.dispatcher, now=w.now)
        with pytest.raises(Conflict, match="CRT-2 is not on call"):
            notes.send_message(session=session, call_id=call_id, text="hi", by=w.dispatcher,
                               unit_id=w.units["CRT-2"], now=w.now)
        with pytest.raises(NotFound):  # a crew not on the call cannot even see it
            notes.send_message(session=session, call_id=call_id, text="hi", by=other, now=w.now)
        seen = notes.notes_for_call(session=session, call_id=call_id, viewer=crew)
        assert [(n.text, n.from_unit) for n in seen] == [("On scene soon, 2 min", True),
                                                         ("Caller says side gate", False)]
        with pytest.raises(NotFound):
            notes.notes_for_call(session=session, call_id=call_id, viewer=other)
    assert [e.after for e in _events(sessions, "call.message_sent")] == [
        {"from": "CRT-1", "to": "dispatch", "message": "(message)"},
        {"from": "dispatch", "to": "CRT-1", "message": "(message)"}]


def test_out_of_service_is_refused_for_a_unit_on_a_call_in_the_service_itself(sessions: sessionmaker[Session]) -> None:
    w = world(sessions, "CRT")
    w.add_unit("CRT", "CRT-1")
    w.add_unit("CRT", "CRT-2", home=NORTH)
    _assigned(w, sessions, "CRT-1")
    call_id = w.add_call(at=NORTH)
    with transaction(sessions) as session:
        with pytest.raises(Conflict, match="CRT-1 is dispatched on a call"):
            take_out_of_service(session=session, unit_id=w.units["CRT-1"], reason="flat tyre", now=w.now,
                                actor_id=None)
        with pytest.raises(Conflict, match="CRT-1 is dispatched on a call"):  # the board's flow, default rules
            flows.take_out_of_service(session=session, unit_id=w.units["CRT-1"], reason="flat tyre", now=w.now,
                                      by=w.dispatcher)
        with pytest.raises(InvalidInput, match="say why"):
            take_out_of_service(session=session, unit_id=w.units["CRT-2"], reason=" ", now=w.now, actor_id=None)
        unit = take_out_of_service(session=session, unit_id=w.units["CRT-2"], reason="meal break", now=w.now,
                                   actor_id=w.dispatcher.id)
        assert (unit.status, unit.status_reason) == (UnitStatus.OUT_OF_SERVICE, "meal break")
        with pytest.raises(Conflict):
            service.assign_unit(session=session, call_id=call_id, unit_id=w.units["CRT-2"], at=w.now, now=w.now,
                                by=w.dispatcher)
        assert return_to_service(session=session, unit_id=w.units["CRT-2"], now=w.now,
                                 actor_id=None).status == UnitStatus.AVAILABLE
    assert [e.after for e in _events(sessions, "unit.out_of_service")] == [
        {"status": "out_of_service", "reason": "(reason given)"}]


def test_where_the_rules_allow_a_unit_on_a_call_is_called_off_first(sessions: sessionmaker[Session]) -> None:
    w = world(sessions, "CRT")
    w.add_unit("CRT", "CRT-1")
    call_id, response_id = _assigned(w, sessions, "CRT-1")
    with transaction(sessions) as session:
        unit = flows.take_out_of_service(session=session, unit_id=w.units["CRT-1"], reason="vehicle breakdown",
                                         now=w.now, by=w.dispatcher,
                                         rules=OutOfService(while_on_call=True))
        assert unit.status == UnitStatus.OUT_OF_SERVICE
        response = service.get_response(session=session, response_id=response_id)
        assert response.cancelled_at is not None and response.cancel_reason == "unit out of service"
    with sessions() as session:
        from heart.dispatch.queue import queued_calls

        assert [q.call.id for q in queued_calls(session=session)] == [call_id]  # back in the queue


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_board_offers_every_free_unit_fastest_first_and_takes_notes_and_service_changes(
    signed_in: Callable[..., TestClient], sessions: sessionmaker[Session],
) -> None:
    w = world(sessions, "CRT")
    for n, home in enumerate((DOWNTOWN, NORTH, SOUTH, DOWNTOWN, SOUTH), start=1):
        w.add_unit("CRT", f"CRT-{n}", home=home)
    call_id = w.add_call(at=NORTH)
    client = signed_in(Role.DISPATCHER)
    page = client.get("/dispatch").text
    offered = [page.index(f"Assign CRT-{n}") for n in range(1, 6)]
    assert all(i > 0 for i in offered)  # five units, not three
    assert page.index("Assign CRT-2") == min(offered)  # the nearest first
    added = client.post(f"/dispatch/calls/{call_id}/notes", data={"text": "Caller is the <b>neighbor</b>"})
    assert added.status_code == 200 and "Note added" in added.text
    page = client.get("/dispatch").text
    assert "Caller is the &lt;b&gt;neighbor&lt;/b&gt;" in page
    refused = client.post(f"/dispatch/calls/{call_id}/notes", data={"text": ""})
    assert refused.status_code == 422 and "write the note first" in refused.text
    out = client.post(f"/dispatch/units/{w.units['CRT-5']}/out-of-service", data={"reason": "fuel"})
    assert out.status_code == 200 and "CRT-5 is out of service" in out.text
    page = client.get("/dispatch").text
    assert "Assign CRT-5" not in page and "(fuel)" in page and "Back in service" in page
    back = client.post(f"/dispatch/units/{w.units['CRT-5']}/in-service")
    assert back.status_code == 200 and "back in service" in back.text
    with sessions() as session:
        assert session.get_one(Unit, w.units["CRT-5"]).status == UnitStatus.AVAILABLE
        assert session.scalar(select(CallNote.text)) == "Caller is the <b>neighbor</b>"
