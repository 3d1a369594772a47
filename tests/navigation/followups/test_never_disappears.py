"""A follow-up never disappears: whatever navigators, supervisors and neighbors do, in any order, every follow-up
ever opened is either in the queue (awaiting contact or in contact) or closed with an outcome its state allowed.

A Hypothesis state machine drives the real services on a real SQLite file; a refused action changes nothing.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from itertools import count
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from heart.db import make_engine, make_sessionmaker, transaction
from heart.errors import DomainError
from heart.navigation.followups import service
from heart.navigation.followups.models import ContactAttempt, FollowUp, FollowUpStatus, Referral, ReferralStatus
from heart.navigation.followups.queue import build_queue
from heart.neighbors import flows as neighbor_flows
from heart.neighbors.models import Consent
from tests.navigation.followups.care import ROSA, Care, a_service, care_world

START = datetime(2025, 3, 3, 15, 0, tzinfo=UTC)


def test_no_sequence_of_actions_makes_a_follow_up_vanish_without_an_outcome(
    sqlite_template: Path, tmp_path: Path,
) -> None:
    prepared = tmp_path / "prepared.db"
    shutil.copy(sqlite_template, prepared)
    engine = make_engine(f"sqlite:///{prepared}")
    template_care = care_world(make_sessionmaker(engine), now=START)
    service_ids = [a_service(template_care.sessions, words).id for words in ("shelter", "pantry")]
    engine.dispose()
    examples = count()

    class FollowUps(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            path = tmp_path / f"example-{next(examples)}.db"
            shutil.copy(prepared, path)
            self.engine = make_engine(f"sqlite:///{path}")
            self.care = Care(template_care.w.__class__(make_sessionmaker(self.engine), START,
                                                       template_care.w.dispatcher, dict(template_care.w.programs),
                                                       dict(template_care.w.units)),
                             template_care.rules, template_care.navigator, template_care.supervisor,
                             template_care.responder)
            self.now = START
            self.opened: list[int] = []
            self.tokens = count()

        def teardown(self) -> None:
            self.engine.dispose()

        def _try(self, work: Callable[[Session], object]) -> None:
            try:
                with transaction(self.care.sessions) as session:
                    work(session)
            except DomainError:
                pass  # refused: nothing was written

        def _pick(self, index: int) -> int | None:
            return self.opened[index % len(self.opened)] if self.opened else None

        @initialize()
        def two_neighbors_consented(self) -> None:
            for _ in range(2):
                self.clear_a_call(consent=True)

        @rule(consent=st.booleans())
        def clear_a_call(self, consent: bool) -> None:
            self.care.w.now = self.now
            found = self.care.clear_with(consent=consent, handoff=ROSA if consent else None, at=self.now)
            assert (found is not None) == consent
            if found is not None:
                self.opened.append(found.id)

        @rule(index=st.integers(0, 3), result=st.sampled_from(["reached", "no_answer", "no_answer", "left_message"]))
        def attempt(self, index: int, result: str) -> None:
            if (follow_up_id := self._pick(index)) is not None:
                self._try(lambda s: service.record_attempt(
                    session=s, follow_up_id=follow_up_id, method="phone", result=result, at=self.now, now=self.now,
                    by=self.care.navigator, client_token=f"attempt-{next(self.tokens):06d}", rules=self.care.rules))

        @rule(index=st.integers(0, 3))
        def note(self, index: int) -> None:
            if (follow_up_id := self._pick(index)) is not None:
                self._try(lambda s: service.add_note(session=s, follow_up_id=follow_up_id, text="Left a card.",
                                                     at=self.now, actor_id=self.care.navigator.id,
                                                     client_token=f"note-{next(self.tokens):06d}"))

        @rule(index=st.integers(0, 3), which=st.integers(0, 1), share=st.booleans())
        def refer(self, index: int, which: int, share: bool) -> None:
            if (follow_up_id := self._pick(index)) is not None:
                self._try(lambda s: service.make_referral(
                    session=s, follow_up_id=follow_up_id, need="housing", service_id=service_ids[which], at=self.now,
                    now=self.now, by=self.care.navigator, client_token=f"referral-{next(self.tokens):06d}",
                    rules=self.care.rules, consent_to_share=share))

        @rule(index=st.integers(0, 3), status=st.sampled_from(list(ReferralStatus)))
        def move_referral(self, index: int, status: ReferralStatus) -> None:
            with self.care.sessions() as session:
                referrals = list(session.scalars(select(Referral.id).order_by(Referral.id)))
            if referrals:
                referral_id = referrals[index % len(referrals)]
                self._try(lambda s: service.move_referral(session=s, referral_id=referral_id, status=status,
                                                          at=self.now, now=self.now, by=self.care.navigator))

        @rule(index=st.integers(0, 3), outcome=st.sampled_from(["connected", "declined", "unreachable", "unreachable",
                                                                "consent_withdrawn", "nonsense"]))
        def close(self, index: int, outcome: str) -> None:
            if (follow_up_id := self._pick(index)) is not None:
                self._try(lambda s: service.close_follow_up(session=s, follow_up_id=follow_up_id, outcome=outcome,
                                                            at=self.now, now=self.now, by=self.care.navigator,
                                                            rules=self.care.rules))

        @rule(index=st.integers(0, 3), rarely=st.integers(0, 3))
        def withdraw_consent(self, index: int, rarely: int) -> None:
            if rarely == 0 and (follow_up_id := self._pick(index)) is not None:
                with self.care.sessions() as session:
                    row = session.get_one(FollowUp, follow_up_id)
                    neighbor_id, consent_id = row.neighbor_id, row.consent_id
                self._try(lambda s: neighbor_flows.withdraw_consent(
                    session=s, neighbor_id=neighbor_id, consent_id=consent_id, at=self.now, by=self.care.navigator,
                    rules=self.care.rules))

        @rule()
        def sweep(self) -> None:
            self._try(lambda s: service.alert_untouched(session=s, now=self.now, rules=self.care.rules))

        @rule(hours=st.integers(1, 72))
        def time_passes(self, hours: int) -> None:
            self.now += timedelta(hours=hours)

        @invariant()
        def every_follow_up_is_in_the_queue_or_closed_with_an_allowed_outcome(self) -> None:
            with transaction(self.care.sessions) as session:
                rows = list(session.scalars(select(FollowUp).order_by(FollowUp.id)))
                assert [row.id for row in rows] == self.opened  # nothing deleted, nothing unexpected
                queue = build_queue(session=session, reader=self.care.navigator, now=self.now)
                listed = {i.follow_up.id for i in queue.awaiting_contact + queue.in_contact}
                for row in rows:
                    reached = bool(session.scalar(select(func.count()).select_from(ContactAttempt).where(
                        ContactAttempt.follow_up_id == row.id, ContactAttempt.reached)))
                    if row.status != FollowUpStatus.CLOSED:
                        assert row.id in listed
                        assert (row.status == FollowUpStatus.IN_CONTACT) == reached
                        continue
                    assert row.id not in listed and row.outcome is not None and row.closed_at is not None
                    rule_ = self.care.rules.outcome_rule(row.outcome)
                    if rule_ == "reached":
                        assert reached
                    elif rule_ == "unreachable":
                        made = service.attempts_made(session=session, follow_up_id=row.id)
                        assert not reached and made >= self.care.rules.attempts_before_unreachable
                    else:
                        assert session.get_one(Consent, row.consent_id).withdrawn_at is not None

    run_state_machine_as_test(FollowUps, settings=settings(
        max_examples=40, stateful_step_count=40, deadline=None, suppress_health_check=[HealthCheck.too_slow]))
    assert next(examples) >= 40
