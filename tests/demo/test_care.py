"""The demo's care navigation: every consented encounter has its follow-up, in every state a queue shows, worked by
the same rules the services keep, with referrals to services of the imported demo directory."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from heart.auth.models import Role
from heart.auth.service import create_user
from heart.db import make_engine, make_sessionmaker, transaction
from heart.demo.care import build_care
from heart.demo.history import build_history
from heart.demo.setup import load_demo_configuration
from heart.encounters.models import Encounter
from heart.events import Event
from heart.navigation.followups.models import ContactAttempt, FollowUp, FollowUpStatus, Referral
from heart.navigation.followups.queue import build_queue
from heart.navigation.resources.importer import import_directory
from heart.navigation.resources.models import Service
from heart.neighbors.models import Neighbor
from tests.navigation.followups.care import DIRECTORY, rules_for

END = date(2025, 6, 2)
NOW = datetime.combine(END, time(14, 0), tzinfo=ZoneInfo("America/New_York")).astimezone(UTC)


def test_the_demo_queue_holds_follow_ups_in_every_state_by_the_services_rules(database_url: str) -> None:
    rules = rules_for()
    engine = make_engine(database_url)
    sessions = make_sessionmaker(engine)
    with transaction(sessions) as session:
        load_demo_configuration(session=session, now=NOW, rng=random.Random(4))
        build_history(session=session, seed=4, years=0.05, end=END)
        import_directory(session=session, paths=[DIRECTORY], now=NOW)
        summary = build_care(session=session, seed=4, now=NOW, rules=rules)
    with transaction(sessions) as session:
        consented = session.scalar(select(func.count()).select_from(Encounter).where(Encounter.consent_to_follow_up))
        assert summary.follow_ups == consented == session.scalar(select(func.count()).select_from(FollowUp)) > 50
        assert set(summary.by_status) == {"awaiting_contact", "in_contact", "closed"}
        assert summary.overdue > 0 and summary.alerts > 0 and summary.referrals > 0
        directory = set(session.scalars(select(Service.id)))
        for follow_up in session.scalars(select(FollowUp)):
            attempts = list(session.scalars(select(ContactAttempt).where(ContactAttempt.follow_up_id == follow_up.id)
                                            .order_by(ContactAttempt.at)))
            reached = [a.at for a in attempts if a.reached]
            assert all(follow_up.opened_at <= a.at <= NOW for a in attempts)
            assert (follow_up.status == FollowUpStatus.AWAITING_CONTACT) == (not reached and follow_up.outcome is None)
            if follow_up.outcome is not None:
                assert follow_up.closed_at is not None and follow_up.closed_at <= NOW
                rule = rules.outcome_rule(follow_up.outcome)
                assert (rule == "reached") == bool(reached)
                if rule == "unreachable":
                    assert len(attempts) >= rules.attempts_before_unreachable
            for referral in session.scalars(select(Referral).where(Referral.follow_up_id == follow_up.id)):
                assert reached and reached[0] <= referral.made_at <= NOW and referral.service_id in directory
        queue = build_queue(session=session, reader=_navigator(session), now=NOW)
        assert queue.awaiting_contact and queue.in_contact and queue.recently_closed and queue.alerts
        assert queue.awaiting_contact[0].overdue(NOW) and not queue.awaiting_contact[-1].overdue(NOW)
        names = {n.last_name for n in session.scalars(select(Neighbor))}
        logged = " ".join(str(event.after) for event in session.scalars(select(Event).where(
            Event.subject_type.in_(("neighbor", "follow_up", "referral")))))
        assert not any(name in logged for name in names if name)
        # the ids written in bulk leave the sequences ready for the live program
        added = Neighbor(first_name="Live", aliases=[], created_at=NOW)
        session.add(added)
        session.flush()
        assert added.id > max(n.id for n in session.scalars(select(Neighbor).where(Neighbor.id != added.id)))
    engine.dispose()


def _navigator(session: object) -> object:
    user = create_user(session=session, username="demo-navigator", password="x" * 12,  # type: ignore[arg-type]
                       role=Role.NAVIGATOR, now=NOW - timedelta(days=1))
    session.flush()  # type: ignore[attr-defined]
    return user
