"""What is known about a call's place and caller: possible duplicates (distance and time from the city's
places.yaml, a decision recorded once), earlier calls at the location, location safety notes (author, date,
expiry, every read logged, their text never in an event, a reason to ask again that never answers a question),
and the caller (read only by call-takers, dispatchers and supervisors; a responder reads the callback number
when the city's policy allows; every read logged; never in an event)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from heart.auth.access import RestrictedRead
from heart.auth.models import Role, User
from heart.calls.callers import Caller, read_caller
from heart.calls.models import Call, CallStatus
from heart.config import Settings
from heart.db import transaction, utcnow
from heart.dispatch.service import assign_unit
from heart.errors import Conflict, InvalidInput
from heart.events import Event
from heart.places.models import DuplicateFlag
from heart.places.rules import load_place_rules, place_rules
from heart.places.service import add_note, decide_duplicate, end_note, history_at, notes_at
from tests import factories
from tests.conftest import Account, login

HERE = (35.996245, -78.910021)
RULES = load_place_rules(Settings(env="test").places_file)
METERS = 1 / 111_000  # degrees of latitude in a metre


def _north(meters: float) -> tuple[float, float]:
    return HERE[0] + meters * METERS, HERE[1]


def test_a_new_call_near_an_open_call_soon_after_it_is_flagged(db: Session) -> None:
    now = utcnow()
    first = factories.call(db, now=now - timedelta(minutes=20), lat=HERE[0], lon=HERE[1])
    within = factories.call(db, now=now, lat=_north(100)[0], lon=HERE[1])  # 100 m, 20 min: flagged
    far = factories.call(db, now=now, lat=_north(400)[0], lon=HERE[1])  # 400 m: not (Durham: 150 m)
    late = factories.call(db, now=now + timedelta(minutes=90), received_at=None, lat=HERE[0], lon=HERE[1])
    flags = {(f.call_id, f.other_call_id) for f in db.scalars(select(DuplicateFlag))}
    assert (within.id, first.id) in flags
    assert not any(call_id == far.id for call_id, _ in flags)
    # 110 minutes after the first (Durham: 60): not its duplicate; but within an hour of the second and third
    assert (late.id, first.id) not in flags and (late.id, within.id) not in flags
    first.status = CallStatus.RESOLVED
    db.flush()
    again = factories.call(db, now=now + timedelta(minutes=1), lat=HERE[0], lon=HERE[1])
    assert (again.id, first.id) not in {(f.call_id, f.other_call_id) for f in db.scalars(select(DuplicateFlag))}
    assert RULES.duplicates.within_meters == 150 and RULES.duplicates.within_minutes == 60


def test_the_decision_on_a_possible_duplicate_is_recorded_once(db: Session, make_user: Callable[..., Account]) -> None:
    account = make_user(Role.DISPATCHER)  # before this session writes (SQLite has one writer)
    now = utcnow()
    first = factories.call(db, now=now - timedelta(minutes=5), lat=HERE[0], lon=HERE[1])
    second = factories.call(db, now=now, lat=HERE[0], lon=HERE[1])
    user = db.get_one(User, account.user_id)
    flag = db.scalars(select(DuplicateFlag).where(DuplicateFlag.call_id == second.id)).one()
    with pytest.raises(InvalidInput):
        decide_duplicate(session=db, flag_id=flag.id, decision="maybe", by=user, now=now)
    decide_duplicate(session=db, flag_id=flag.id, decision="kept_apart", by=user, now=now)
    decide_duplicate(session=db, flag_id=flag.id, decision="kept_apart", by=user, now=now)  # the same: no change
    with pytest.raises(Conflict, match="already decided: kept apart"):
        decide_duplicate(session=db, flag_id=flag.id, decision="linked", by=user, now=now)
    events = list(db.scalars(select(Event).where(Event.kind == "call.duplicate_decided")))
    assert len(events) == 1 and events[0].after == {"decision": "kept_apart", "other_call_id": first.id,
                                                    "meters": 0.0}
    assert (flag.decided_by_id, flag.decision) == (user.id, "kept_apart")


def test_earlier_calls_at_the_location_count_types_and_last_date(db: Session) -> None:
    now = utcnow()
    for days, nature in ((400, "CHECK WELFARE"), (30, "SUICIDE THREAT"), (3, "CHECK WELFARE")):
        call = factories.call(db, now=now - timedelta(days=days), lat=_north(10)[0], lon=HERE[1], nature_code=nature)
        call.status = CallStatus.RESOLVED
    factories.call(db, now=now - timedelta(days=2), lat=_north(200)[0], lon=HERE[1])  # too far to count
    factories.call(db, now=now - timedelta(days=5 * 365), lat=HERE[0], lon=HERE[1])  # too long ago (3 years)
    db.flush()
    history = history_at(session=db, lat=HERE[0], lon=HERE[1], now=now, rules=RULES)
    assert history.count == 3
    assert history.last_at is not None and abs((history.last_at - (now - timedelta(days=3))).total_seconds()) < 1
    assert dict(history.types)["welfare_check"] == 2


def test_location_notes_show_where_they_hold_until_they_end_and_every_read_is_logged(
    db: Session, make_user: Callable[..., Account],
) -> None:
    accounts = make_user(Role.SUPERVISOR), make_user(Role.CALL_TAKER)
    now = utcnow()
    author, reader = (db.get_one(User, account.user_id) for account in accounts)
    note = add_note(session=db, lat=HERE[0], lon=HERE[1], address="1209 W Pettigrew St", kind="weapon",
                    text="Knife shown to a neighbor on the porch.", observed_on=now.date() - timedelta(days=3),
                    days=30, author=author, now=now, rules=RULES)
    shown = notes_at(session=db, lat=_north(20)[0], lon=HERE[1], now=now, rules=RULES, reader=reader,
                     purpose="new call: location")
    assert [(n.id, n.question, n.author, n.label) for n in shown] == [
        (note.id, "weapon", author.username, "Weapon reported at this location")]
    assert notes_at(session=db, lat=_north(100)[0], lon=HERE[1], now=now, rules=RULES, reader=reader,
                    purpose="x") == []  # 100 m away: another place (Durham: 40 m)
    later = now + timedelta(days=31)
    assert notes_at(session=db, lat=HERE[0], lon=HERE[1], now=later, rules=RULES, reader=reader, purpose="x") == []
    reads = list(db.scalars(select(RestrictedRead).where(RestrictedRead.kind == "location_note")))
    assert [(r.subject_id, r.reader_id, r.purpose) for r in reads] == [(note.id, reader.id, "new call: location")]
    end_note(session=db, note_id=note.id, by=author, now=now)
    assert notes_at(session=db, lat=HERE[0], lon=HERE[1], now=now, rules=RULES, reader=reader, purpose="x") == []
    events = list(db.scalars(select(Event).where(Event.subject_type == "location_note").order_by(Event.id)))
    assert [e.kind for e in events] == ["location_note.added", "location_note.ended"]
    assert "Knife" not in json.dumps([e.after for e in events], default=str)  # the text stays in the note


@pytest.mark.parametrize(("kind", "text", "days", "field"), [
    ("ghost", "Zyxwv", None, "kind"), ("weapon", "   ", None, "text"), ("weapon", "x" * 1001, None, "text"),
    ("weapon", "Zyxwv", 0, "days"), ("weapon", "Zyxwv", 5000, "days"),
])
def test_a_bad_note_is_refused_naming_its_field(db: Session, make_user: Callable[..., Account], kind: str, text: str,
                                                days: int | None, field: str) -> None:
    author = db.get_one(User, make_user(Role.DISPATCHER).user_id)
    with pytest.raises(InvalidInput) as refused:
        add_note(session=db, lat=HERE[0], lon=HERE[1], address=None, kind=kind, text=text, observed_on=utcnow().date(),
                 days=days, author=author, now=utcnow(), rules=RULES)
    assert refused.value.field == field and "Zyxwv" not in str(refused.value)


@pytest.fixture
def placed_call(client: TestClient, make_user: Callable[..., Account], sessions: sessionmaker[Session],
                all_day_policy: Path) -> dict[str, object]:
    """A call with its caller and a weapon note at its place, a unit sent to it, and one account per role."""
    now = utcnow()
    with transaction(sessions) as session:
        crt = factories.program(session, "CRT", now=now)
        unit = factories.unit(session, crt, "CRT-1", now=now)
        unit_id = unit.id
    people = {role: make_user(role, unit_id=unit_id if role == Role.RESPONDER else None) for role in Role}
    login(client, people[Role.CALL_TAKER].username)
    created = client.post("/api/calls", json={
        "nature_code": "CHECK WELFARE", "priority": "3", "lat": HERE[0], "lon": HERE[1],
        "screening": {"weapon": "no", "medical_intervention": "no", "imminent_risk_to_others": "no"},
        "caller": {"name": "Perpetua Ashdown", "callback": "919-555-0199"}})
    assert created.status_code == 201, created.text
    call_id = created.json()["id"]
    assert client.post(f"/api/calls/{call_id}/triage", json={}).status_code == 201
    assert "Perpetua" not in created.text and "0199" not in created.text  # the call's answer has no caller
    noted = client.post(f"/api/calls/{call_id}/location-notes", json={
        "kind": "weapon", "text": "Rifle by the door.", "observed_on": now.date().isoformat(), "days": 30})
    assert noted.status_code == 201, noted.text
    with transaction(sessions) as session:
        by = session.get_one(User, people[Role.DISPATCHER].user_id)
        sent = utcnow()
        assign_unit(session=session, call_id=call_id, unit_id=unit_id, at=sent, now=sent, by=by)
    client.cookies.clear()
    return {"call_id": call_id, "people": people, "note_id": noted.json()["id"]}


def _as(client: TestClient, account: Account) -> TestClient:
    client.cookies.clear()
    return login(client, account.username)


def test_the_caller_is_read_by_call_takers_dispatchers_and_supervisors_and_each_read_is_logged(
    client: TestClient, placed_call: dict[str, object], sessions: sessionmaker[Session],
) -> None:
    call_id, people = placed_call["call_id"], placed_call["people"]
    assert isinstance(people, dict)
    for role in (Role.CALL_TAKER, Role.DISPATCHER, Role.SUPERVISOR):
        answer = _as(client, people[role]).get(f"/api/calls/{call_id}/caller")
        assert answer.json() == {"name": "Perpetua Ashdown", "callback": "919-555-0199", "withheld": []}
        page = client.get(f"/calls/{call_id}/place")
        assert "Perpetua Ashdown" in page.text and "919-555-0199" in page.text
    # Durham's policy lets the crew call back: the number, never the name
    responder = _as(client, people[Role.RESPONDER])
    assert responder.get(f"/api/calls/{call_id}/caller").json() == {
        "name": None, "callback": "919-555-0199", "withheld": ["name"]}
    page = responder.get("/responder/place").text
    assert "919-555-0199" in page and "Perpetua" not in page and "Rifle by the door." in page
    for role in (Role.NAVIGATOR, Role.ANALYST, Role.ADMIN):  # no call to read at all
        assert _as(client, people[role]).get(f"/api/calls/{call_id}/caller").status_code == 403
    with sessions() as session:
        caller_id = session.scalars(select(Caller.id).where(Caller.call_id == call_id)).one()
        readers = [r.reader_id for r in session.scalars(select(RestrictedRead).where(
            RestrictedRead.kind == "caller", RestrictedRead.subject_id == caller_id))]
        events = json.dumps([e.after for e in session.scalars(select(Event).where(Event.call_id == call_id))])
    assert sorted(readers) == sorted([people[r].user_id for r in (Role.CALL_TAKER, Role.DISPATCHER,
                                                                   Role.SUPERVISOR) for _ in range(2)]
                                     + [people[Role.RESPONDER].user_id] * 2)
    assert "Perpetua" not in events and "0199" not in events and "Rifle" not in events
    log = _as(client, people[Role.SUPERVISOR]).get(f"/api/calls/{call_id}/caller/reads")
    assert len(log.json()) == 8 and {"at", "reader_id", "purpose", "call_id"} == set(log.json()[0])
    assert _as(client, people[Role.DISPATCHER]).get(f"/api/calls/{call_id}/caller/reads").status_code == 403


def test_without_the_policy_a_responder_sees_no_caller(
    client: TestClient, placed_call: dict[str, object], sessions: sessionmaker[Session],
) -> None:
    people = placed_call["people"]
    assert isinstance(people, dict)
    with sessions() as session:
        reader = session.get_one(User, people[Role.RESPONDER].user_id)
        assert read_caller(session=session, call_id=int(str(placed_call["call_id"])), reader=reader, purpose="x",
                           at=utcnow(), responder_sees_callback=False) is None
        assert session.scalars(select(RestrictedRead)).all() == []  # nothing shown, nothing logged


def test_a_note_is_read_beside_its_question_and_the_reads_are_the_supervisors_to_see(
    client: TestClient, placed_call: dict[str, object],
) -> None:
    call_id, people, note_id = placed_call["call_id"], placed_call["people"], placed_call["note_id"]
    assert isinstance(people, dict)
    triage = _as(client, people[Role.CALL_TAKER]).get(f"/calls/{call_id}/place?questions=1").text
    assert 'id="place-notes-weapon" hx-swap-oob="true"' in triage and "Rifle by the door." in triage
    assert "A reason to ask again" in triage
    place = client.get(f"/api/calls/{call_id}/place").json()
    assert [(n["kind"], n["question"], n["text"]) for n in place["notes"]] == [
        ("weapon", "weapon", "Rifle by the door.")]
    with_note = client.get(f"/api/calls/{call_id}").json()
    # as the call-taker answered: a note answers no question
    assert with_note["screening"] == {"weapon": "no", "medical_intervention": "no", "imminent_risk_to_others": "no"}
    reads = _as(client, people[Role.SUPERVISOR]).get(f"/api/location-notes/{note_id}/reads").json()
    assert [r["reader_id"] for r in reads] == [people[Role.CALL_TAKER].user_id] * 2
    assert _as(client, people[Role.CALL_TAKER]).get(f"/api/location-notes/{note_id}/reads").status_code == 403
    ended = client.post(f"/api/location-notes/{note_id}/end")
    assert ended.status_code == 200
    assert client.get(f"/api/calls/{call_id}/place").json()["notes"] == []


def test_the_places_file_is_checked_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "places.yaml"
    path.write_text("safety_notes:\n  kinds:\n    weapon: {label: ''}\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"places.yaml, line 3: safety_notes.kinds.weapon.label"):
        load_place_rules(path)
    assert place_rules(Settings(env="test")).caller.responder_sees_callback is True


def test_an_address_typed_through_the_api_is_placed_when_the_match_is_sure(db: Session) -> None:
    from heart.places.importer import import_addresses

    settings = Settings(env="test")
    import_addresses(session=db, path=settings.addresses_file, words=RULES.geocoding.words,
                     beats_file=settings.map_beats_file, now=utcnow())
    sure = factories.call(db, now=utcnow(), address="1209 W Pettigrew Street")
    unsure = factories.call(db, now=utcnow(), address="somewhere by the river")
    assert (round(sure.lat or 0, 5), round(sure.lon or 0, 5), sure.beat) == (35.99625, -78.91002, "311")
    assert (unsure.lat, unsure.lon) == (None, None)
    assert db.get_one(Call, sure.id).beat == "311"


def test_the_call_page_forms_write_a_note_decide_a_duplicate_and_name_a_refusal(
    client: TestClient, placed_call: dict[str, object], sessions: sessionmaker[Session],
) -> None:
    call_id, people = placed_call["call_id"], placed_call["people"]
    assert isinstance(people, dict)
    dispatcher = _as(client, people[Role.DISPATCHER])
    again = dispatcher.post("/api/calls", json={"nature_code": "CHECK WELFARE", "lat": HERE[0], "lon": HERE[1]})
    second = again.json()["id"]
    page = dispatcher.get(f"/calls/{second}/place").text
    assert "Possible duplicate" in page and f'action="/calls/{second}/duplicates/' in page
    with sessions() as session:
        flag_id = session.scalars(select(DuplicateFlag.id).where(DuplicateFlag.call_id == second)).one()
    decided = dispatcher.post(f"/calls/{second}/duplicates/{flag_id}", data={"decision": "linked"},
                              follow_redirects=False)
    assert (decided.status_code, decided.headers["location"]) == (303, f"/calls/{second}")
    assert "Linked to" in dispatcher.get(f"/calls/{second}/place").text
    first_page = dispatcher.get(f"/calls/{call_id}/place").text
    assert f"Call <a href=\"/calls/{second}\">#{second}</a> was linked" in first_page
    refused = dispatcher.post(f"/calls/{second}/duplicates/{flag_id}", data={"decision": "kept_apart"},
                              headers={"accept": "text/html"})
    assert refused.status_code == 409 and "already decided: linked" in refused.text and "<html" in refused.text
    written = dispatcher.post(f"/calls/{second}/location-notes", follow_redirects=False, data={
        "kind": "dog", "text": "Two dogs behind the gate.", "observed_on": "2020-01-01", "days": "10"})
    assert written.status_code == 303
    assert "Two dogs behind the gate." in dispatcher.get(f"/calls/{second}/place").text
    bad = dispatcher.post(f"/calls/{second}/location-notes", headers={"accept": "text/html"},
                          data={"kind": "dog", "text": "x", "observed_on": "someday"})
    assert bad.status_code == 422 and "the date is not a date" in bad.text
