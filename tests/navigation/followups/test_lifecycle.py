"""A follow-up from the responder's handoff to its close: opened with consent, due in the city's hours, worked
through attempts, needs, notes and referrals, and closed only with an outcome its state allows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from heart.db import transaction
from heart.errors import Conflict, InvalidInput
from heart.events import Event
from heart.navigation.followups import service
from heart.navigation.followups.models import (
    FollowUp,
    FollowUpNeed,
    FollowUpNote,
    FollowUpStatus,
    Referral,
    ReferralStatus,
)
from heart.navigation.followups.queue import build_queue
from heart.navigation.followups.schemas import Handoff
from heart.neighbors import flows as neighbor_flows
from heart.neighbors.models import Consent, Neighbor, NeighborLink
from heart.yamlfile import YamlFileError
from tests.navigation.followups.care import ROSA, Care, a_service, care_world, rules_for

NOW = datetime(2025, 3, 3, 15, 0, tzinfo=UTC)
CONFIG = Path(__file__).resolve().parents[3] / "cities" / "durham" / "care_navigation.yaml"


@pytest.fixture
def care(sessions: sessionmaker[Session]) -> Care:
    return care_world(sessions, now=NOW)


def _count(session: Session, model: type, *where: object) -> int:
    return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)  # type: ignore[arg-type]


def attempt(care: Care, follow_up_id: int, result: str, at: datetime, token: str, method: str = "phone") -> None:
    with transaction(care.sessions) as session:
        service.record_attempt(session=session, follow_up_id=follow_up_id, method=method, result=result, at=at,
                               now=at, by=care.navigator, client_token=token, rules=care.rules)


def test_clearing_with_consent_opens_a_follow_up_due_in_the_citys_hours_with_the_handoff(care: Care) -> None:
    follow_up = care.clear_with()
    assert follow_up is not None
    assert follow_up.status == FollowUpStatus.AWAITING_CONTACT
    assert follow_up.due_at == NOW + timedelta(hours=48)  # cities/durham/care_navigation.yaml
    with care.sessions() as session:
        neighbor = session.get_one(Neighbor, follow_up.neighbor_id)
        assert (neighbor.first_name, neighbor.phone, neighbor.contact_method, neighbor.contact_times) == (
            "Rosalind", "919-555-0142", "phone", "weekday mornings")
        consent = session.get_one(Consent, follow_up.consent_id)
        assert consent.purpose == "follow_up" and consent.active and consent.encounter_id == follow_up.encounter_id
        needs = session.scalars(select(FollowUpNeed.need).where(FollowUpNeed.follow_up_id == follow_up.id)).all()
        assert sorted(needs) == ["food", "housing"]
        notes = session.scalars(select(FollowUpNote.text).where(FollowUpNote.follow_up_id == follow_up.id)).all()
        assert notes == ["Wants help finding a shelter bed before Friday."]
        assert _count(session, NeighborLink, NeighborLink.neighbor_id == neighbor.id) == 1
        # The events name what happened, never who: no name, phone or note in the log.
        logged = " ".join(str(e.after) for e in session.scalars(select(Event)))
        for personal in ("Rosalind", "Quennell", "555-0142", "shelter bed", "weekday mornings"):
            assert personal not in logged
    with transaction(care.sessions) as session:
        queue = build_queue(session=session, reader=care.navigator, now=NOW)
    assert [item.follow_up.id for item in queue.awaiting_contact] == [follow_up.id]


def test_the_due_hours_come_from_the_citys_file_and_a_bad_file_names_its_line(
    sessions: sessionmaker[Session], tmp_path: Path,
) -> None:
    changed = tmp_path / "care.yaml"
    changed.write_text(CONFIG.read_text(encoding="utf-8").replace("follow_up_due_hours: 48",
                                                                  "follow_up_due_hours: 24"), encoding="utf-8")
    care = care_world(sessions, now=NOW, rules=rules_for(care_navigation_file=changed), directory=False)
    follow_up = care.clear_with()
    assert follow_up is not None and follow_up.due_at == NOW + timedelta(hours=24)
    broken = tmp_path / "broken.yaml"
    broken.write_text(CONFIG.read_text(encoding="utf-8").replace("attempts_before_unreachable: 3",
                                                                 "attempts_before_unreachable: none"),
                      encoding="utf-8")
    with pytest.raises(YamlFileError) as raised:
        rules_for(care_navigation_file=broken)
    line = next(n for n, text in enumerate(broken.read_text().splitlines(), 1) if "attempts_before_unreachable" in text)
    assert f"broken.yaml, line {line}" in str(raised.value)
    assert "care_navigation.attempts_before_unreachable" in str(raised.value)


def test_without_consent_nothing_personal_is_kept(care: Care) -> None:
    assert care.clear_with(consent=False, handoff=None) is None
    with pytest.raises(InvalidInput, match="only when the neighbor consents"):
        care.clear_with(consent=False, handoff=Handoff(first_name="Sam"))
    with care.sessions() as session:
        assert _count(session, Neighbor) == 0 and _count(session, FollowUp) == 0
        # The refused clear saved nothing at all: the second call's response is still on scene.
        assert _count(session, Event, Event.kind == "response.cleared") == 1


def test_consent_without_details_still_opens_a_follow_up(care: Care) -> None:
    follow_up = care.clear_with(handoff=None, needs=["behavioral health", "pets"])
    assert follow_up is not None
    with care.sessions() as session:
        assert session.get_one(Neighbor, follow_up.neighbor_id).display_name == f"Neighbor {follow_up.neighbor_id}"
        # another name of a need is recorded as the need; a word outside the vocabulary stays on the encounter only
        needs = session.scalars(select(FollowUpNeed.need).where(FollowUpNeed.follow_up_id == follow_up.id)).all()
        assert needs == ["mental health"]


def test_attempts_move_it_into_contact_and_are_written_once(care: Care) -> None:
    follow_up = care.clear_with()
    assert follow_up is not None
    later = NOW + timedelta(hours=3)
    attempt(care, follow_up.id, "no_answer", later, "attempt-0001")
    attempt(care, follow_up.id, "no_answer", later, "attempt-0001")  # the same form sent twice
    with care.sessions() as session:
        assert service.attempts_made(session=session, follow_up_id=follow_up.id) == 1
        assert session.get_one(FollowUp, follow_up.id).status == FollowUpStatus.AWAITING_CONTACT
    attempt(care, follow_up.id, "reached", later + timedelta(hours=1), "attempt-0002")
    with care.sessions() as session:
        assert session.get_one(FollowUp, follow_up.id).status == FollowUpStatus.IN_CONTACT
    with pytest.raises(InvalidInput, match="unknown result"):
        attempt(care, follow_up.id, "maybe", later, "attempt-0003")
    with pytest.raises(InvalidInput, match="before the follow-up was opened"):
        attempt(care, follow_up.id, "reached", NOW - timedelta(hours=1), "attempt-0004")


def test_a_phone_call_needs_a_phone_number_on_the_record(care: Care) -> None:
    follow_up = care.clear_with(handoff=Handoff(first_name="Dee", contact_method="visit", address="Urban Ministries"))
    assert follow_up is not None
    with pytest.raises(InvalidInput, match="no phone number"):
        attempt(care, follow_up.id, "reached", NOW, "attempt-0001", method="text")
    attempt(care, follow_up.id, "reached", NOW, "attempt-0002", method="visit")


def close(care: Care, follow_up_id: int, outcome: str, at: datetime = NOW) -> FollowUp:
    with transaction(care.sessions) as session:
        return service.close_follow_up(session=session, follow_up_id=follow_up_id, outcome=outcome, at=at, now=at,
                                       by=care.navigator, rules=care.rules)


def test_it_closes_as_unreachable_only_after_the_configured_attempts(care: Care) -> None:
    follow_up = care.clear_with()
    assert follow_up is not None
    with pytest.raises(Conflict, match="has not reached the neighbor"):
        close(care, follow_up.id, "connected")
    for n in range(2):
        attempt(care, follow_up.id, "no_answer", NOW + timedelta(hours=n), f"attempt-000{n}")
    with pytest.raises(Conflict, match="has 2 contact attempts; it can close as unreachable after 3"):
        close(care, follow_up.id, "unreachable")
    attempt(care, follow_up.id, "wrong_number", NOW + timedelta(hours=5), "attempt-0009")
    with pytest.raises(Conflict, match="when the neighbor withdraws"):
        close(care, follow_up.id, "consent_withdrawn")
    closed = close(care, follow_up.id, "unreachable", NOW + timedelta(hours=6))
    assert (closed.status, closed.outcome, closed.closed_at) == (FollowUpStatus.CLOSED, "unreachable",
                                                                NOW + timedelta(hours=6))
    assert close(care, follow_up.id, "unreachable").outcome == "unreachable"  # sent twice: the same close
    with pytest.raises(Conflict, match="already closed"):
        close(care, follow_up.id, "declined")
    with pytest.raises(Conflict, match="is closed"):
        attempt(care, follow_up.id, "reached", NOW + timedelta(hours=7), "attempt-0010")
    with transaction(care.sessions) as session:
        queue = build_queue(session=session, reader=care.navigator, now=NOW + timedelta(hours=7))
        assert [i.follow_up.id for i in queue.recently_closed] == [follow_up.id]  # closed, never gone
        assert not queue.awaiting_contact and not queue.in_contact


def test_a_referral_to_a_directory_service_closes_its_loop_with_each_time(care: Care) -> None:
    follow_up = care.clear_with()
    assert follow_up is not None
    shelter = a_service(care.sessions, "shelter")

    def refer(token: str, *, share: bool, at: datetime) -> Referral:
        with transaction(care.sessions) as session:
            return service.make_referral(session=session, follow_up_id=follow_up.id, need="shelter",
                                         service_id=shelter.id, at=at, now=at, by=care.navigator,
                                         client_token=token, rules=care.rules, consent_to_share=share)

    with pytest.raises(Conflict, match="has not reached the neighbor yet"):
        refer("referral-0001", share=True, at=NOW)
    attempt(care, follow_up.id, "reached", NOW + timedelta(hours=2), "attempt-0001")
    with pytest.raises(Conflict, match="has not consented to share their details"):
        refer("referral-0002", share=False, at=NOW + timedelta(hours=2))
    referral = refer("referral-0003", share=True, at=NOW + timedelta(hours=2))
    assert refer("referral-0003", share=True, at=NOW + timedelta(hours=2)).id == referral.id  # written once
    assert referral.need == "housing" and referral.status == ReferralStatus.MADE  # "shelter" is another name

    def move(status: ReferralStatus, hours: int) -> Referral:
        with transaction(care.sessions) as session:
            at = NOW + timedelta(hours=hours)
            return service.move_referral(session=session, referral_id=referral.id, status=status, at=at, now=at,
                                         by=care.navigator)

    with pytest.raises(Conflict, match="can become accepted or declined or no response"):
        move(ReferralStatus.COMPLETED, 3)
    move(ReferralStatus.ACCEPTED, 5)
    move(ReferralStatus.ACCEPTED, 6)  # said twice: the first time stands
    done = move(ReferralStatus.COMPLETED, 30)
    assert (done.made_at, done.accepted_at, done.completed_at) == (
        NOW + timedelta(hours=2), NOW + timedelta(hours=5), NOW + timedelta(hours=30))
    with pytest.raises(Conflict, match="its loop is closed"):
        move(ReferralStatus.DECLINED, 31)
    with care.sessions() as session:
        consent = session.get_one(Consent, done.consent_id)
        assert consent.purpose == "share_with_provider" and consent.provider_organization_id == shelter.organization_id
    closed = close(care, follow_up.id, "connected", NOW + timedelta(hours=31))
    assert closed.outcome == "connected"


def test_withdrawing_consent_closes_the_follow_up_with_that_outcome(care: Care) -> None:
    follow_up = care.clear_with()
    assert follow_up is not None
    with transaction(care.sessions) as session:
        consent, closed = neighbor_flows.withdraw_consent(session=session, neighbor_id=follow_up.neighbor_id,
                                                          consent_id=follow_up.consent_id, at=NOW, by=care.navigator,
                                                          rules=care.rules)
        assert not consent.active and [f.id for f in closed] == [follow_up.id]
    with care.sessions() as session:
        row = session.get_one(FollowUp, follow_up.id)
        assert (row.status, row.outcome) == (FollowUpStatus.CLOSED, "consent_withdrawn")


def test_a_due_follow_up_nobody_touched_alerts_the_supervisors_once(care: Care) -> None:
    untouched = care.clear_with()
    worked = care.clear_with(handoff=ROSA.model_copy(update={"note": None}))
    later = care.clear_with(at=NOW + timedelta(hours=10))
    assert untouched and worked and later
    with transaction(care.sessions) as session:
        service.add_note(session=session, follow_up_id=worked.id, text="Called the shelter about a bed.",
                         at=NOW + timedelta(hours=1), actor_id=care.navigator.id, client_token="note-0001")
    due = NOW + timedelta(hours=48)
    with transaction(care.sessions) as session:
        assert service.alert_untouched(session=session, now=due - timedelta(minutes=1), rules=care.rules) == 0
    for _ in range(2):  # two server processes sweeping: one alert
        with transaction(care.sessions) as session:
            service.alert_untouched(session=session, now=due, rules=care.rules)
    with care.sessions() as session:
        alerted = session.scalars(select(FollowUp.id).where(FollowUp.supervisor_alerted_at.is_not(None))).all()
        assert alerted == [untouched.id]  # the handoff's note is the responder's, not a navigator's touch
        assert _count(session, Event, Event.kind == "follow_up.supervisor_alerted") == 1
    with transaction(care.sessions) as session:
        queue = build_queue(session=session, reader=care.supervisor, now=due)
        assert [item.follow_up.id for item in queue.alerts] == [untouched.id]
        service.acknowledge_alert(session=session, follow_up_id=untouched.id, by=care.supervisor, now=due)
    with transaction(care.sessions) as session:
        assert build_queue(session=session, reader=care.supervisor, now=due).alerts == []


def test_the_queue_puts_overdue_first_then_by_due_time_then_those_in_contact(care: Care) -> None:
    oldest = care.clear_with(at=NOW - timedelta(hours=60))
    newest = care.clear_with(at=NOW)
    middle = care.clear_with(at=NOW - timedelta(hours=30))
    talking = care.clear_with(at=NOW - timedelta(hours=70))
    assert oldest and newest and middle and talking
    attempt(care, talking.id, "reached", NOW - timedelta(hours=1), "attempt-0001")
    with transaction(care.sessions) as session:
        queue = build_queue(session=session, reader=care.navigator, now=NOW)
    assert [i.follow_up.id for i in queue.awaiting_contact] == [oldest.id, middle.id, newest.id]
    assert [i.overdue(NOW) for i in queue.awaiting_contact] == [True, False, False]
    assert queue.awaiting_contact[0].time_left(NOW) == timedelta(hours=-12)
    assert [i.follow_up.id for i in queue.in_contact] == [talking.id]


def test_the_app_runs_the_supervisors_sweep_with_its_periodic_work(
    sessions: sessionmaker[Session], app_settings: object,
) -> None:
    from heart.config import Settings
    from heart.main import create_app

    assert isinstance(app_settings, Settings)
    app = create_app(app_settings)
    try:
        periodic = {job.name: job.job for job in app.state.realtime.periodic}
        care = care_world(sessions, now=datetime.now(UTC) - timedelta(hours=50), directory=False)
        assert care.clear_with() is not None

        def alerted() -> int:
            with sessions() as session:
                return len(session.scalars(select(Event).where(Event.kind == "follow_up.supervisor_alerted")).all())

        periodic["follow-up-sweep"]()  # what the running server does every minute: due two hours ago, untouched
        assert alerted() == 1
        periodic["follow-up-sweep"]()
        assert alerted() == 1  # once
    finally:
        app.state.engine.dispose()
        app.state.read_engine.dispose()
