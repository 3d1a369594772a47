"""Familiar-neighbor flags: raised by the count of responses in the city's window at its levels (5+, 10+, 20+),
reviewed with approach notes and an expiry, expired by date, re-levelled and ended by the count; one open flag per
neighbor, whatever happens at once; every change audited without the notes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from heart.db import transaction
from heart.errors import InvalidInput
from heart.events import Event
from heart.neighbors.familiar import flags
from heart.neighbors.familiar.linking import run_linkage
from heart.neighbors.familiar.models import FamiliarFlag, FlagStatus
from heart.neighbors.service import link_to_call
from tests import factories
from tests.neighbors.familiar.conftest import NOW
from tests.neighbors.familiar.town import JON, JONATHAN, KEISHA, MARCUS, Town

pytestmark = pytest.mark.parametrize("database_url", ["sqlite", "postgres"], indirect=True)
NOTES = "Prefers the peer support specialist first; speak slowly; offer water before asking questions."


def recount(place: Town, at: object = None) -> flags.Recount:
    with transaction(place.sessions) as session:
        return flags.recount_flags(session=session, now=at or place.now, rules=place.rules)  # type: ignore[arg-type]


def open_flags(session: Session) -> dict[int, FamiliarFlag]:
    return {f.neighbor_id: f for f in session.scalars(select(FamiliarFlag).where(
        FamiliarFlag.status.in_((FlagStatus.PENDING, FlagStatus.ACTIVE))))}


def test_flags_rise_at_the_citys_levels_from_responses_in_the_window(place: Town) -> None:
    twelve = place.person("twelve", JON, served=12)
    four = place.person("four", KEISHA, served=4)
    twenty_five = place.person("twenty five", MARCUS, served=25, days_ago=5)
    old = place.person("old", JONATHAN, served=8, days_ago=400)  # long ago: outside the 365-day window
    assert recount(place).raised == 2
    with place.sessions() as session:
        found = open_flags(session)
        assert set(found) == {twelve, twenty_five} and four not in found and old not in found
        assert (found[twelve].level, found[twelve].responses, found[twelve].status) == (10, 12, FlagStatus.PENDING)
        assert found[twenty_five].level == 20
    before = recount(place)
    assert (before.raised, before.changed_level, before.ended) == (0, 0, 0)  # counting again changes nothing


def test_a_reviewed_flag_carries_notes_a_reviewer_and_an_expiry_then_expires_and_is_raised_again(place: Town) -> None:
    person = place.person("familiar", JON, served=6)
    recount(place)
    with transaction(place.sessions) as session:
        flag = open_flags(session)[person]
        with pytest.raises(InvalidInput, match="approach notes"):
            flags.review_flag(session=session, flag_id=flag.id, approach_notes="  ", expires_at=None, now=place.now,
                              by=place.supervisor, rules=place.rules)
        with pytest.raises(InvalidInput, match="at most 90 days"):
            flags.review_flag(session=session, flag_id=flag.id, approach_notes=NOTES,
                              expires_at=place.now + timedelta(days=91), now=place.now, by=place.supervisor,
                              rules=place.rules)
        reviewed = flags.review_flag(session=session, flag_id=flag.id, approach_notes=NOTES,
                                     expires_at=place.now + timedelta(days=30), now=place.now, by=place.supervisor,
                                     rules=place.rules)
        assert (reviewed.status, reviewed.reviewer_id) == (FlagStatus.ACTIVE, place.supervisor.id)
    later = place.now + timedelta(days=31)
    done = recount(place, later)
    assert done.expired == 1 and done.raised == 1  # still served that often: a new flag waits for a reviewer
    with place.sessions() as session:
        history = [e.kind for e in flags.flag_history(session=session, neighbor_id=person)]
        assert history == ["familiar_flag.raised", "familiar_flag.reviewed", "familiar_flag.expired",
                           "familiar_flag.raised"]
        assert open_flags(session)[person].status == FlagStatus.PENDING
        assert "peer support" not in " ".join(str(e.after) for e in session.scalars(select(Event)))


def test_the_level_follows_the_count_and_the_flag_ends_when_the_neighbor_is_served_less(place: Town) -> None:
    person = place.person("familiar", JON, served=6, days_ago=300)
    recount(place)
    place.person("familiar, recently", JON, served=5, days_ago=1)
    with transaction(place.sessions) as session:
        run_linkage(session=session, at=place.now, by_id=None, rules=place.rules)  # the new record is the same man
    assert recount(place).changed_level == 1
    with place.sessions() as session:
        assert open_flags(session)[person].level == 10
    assert recount(place, place.now + timedelta(days=370)).ended == 1  # every response fell out of the window
    with place.sessions() as session:
        assert person not in open_flags(session)


def test_the_database_refuses_a_second_open_flag_for_one_neighbor(place: Town) -> None:
    person = place.person("familiar", JON, served=5)
    recount(place)
    with pytest.raises(IntegrityError), transaction(place.sessions) as session:
        session.add(FamiliarFlag(neighbor_id=person, level=5, responses=5, counted_at=NOW, raised_at=NOW,
                                 status=FlagStatus.ACTIVE))


EXAMPLES = iter(range(10_000))


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(st.tuples(st.sampled_from(["serve", "recount", "review", "end", "later"]),
                                st.integers(min_value=1, max_value=12)), min_size=1, max_size=8))
def test_never_two_open_flags_and_an_open_flag_always_matches_the_count(place: Town,
                                                                       steps: list[tuple[str, int]]) -> None:
    """Whatever sequence of serving, recounting, reviewing, ending and time passing: at most one open flag per
    neighbor, and after a recount an open flag's level is the level its count reaches (each example: a new person,
    and its own clock)."""
    example = next(EXAMPLES)
    now = NOW + timedelta(days=3000 * example)
    person = place.person(f"familiar {example}", {**JON, "last_name": f"Quillfeather{example:04d}",
                                                  "phone": f"919-555-{example:04d}"}, served=0)
    for action, n in steps:
        with transaction(place.sessions) as session:
            flag = open_flags(session).get(person)
            if action == "serve":
                for k in range(n):
                    call = factories.call(session, now=now, received_at=now - timedelta(hours=k + 1))
                    link_to_call(session=session, neighbor_id=person, call_id=call.id, encounter_id=None, at=now,
                                 actor_id=None)
            elif action == "recount":
                flags.recount_flags(session=session, now=now, rules=place.rules)
            elif action == "review" and flag is not None:
                flags.review_flag(session=session, flag_id=flag.id, approach_notes=NOTES, expires_at=None, now=now,
                                  by=place.supervisor, rules=place.rules)
            elif action == "end" and flag is not None:
                flags.end_flag(session=session, flag_id=flag.id, now=now, by=place.supervisor)
            elif action == "later":
                now += timedelta(days=30 * n)
        with place.sessions() as session:
            mine = [f for f in session.scalars(select(FamiliarFlag).where(FamiliarFlag.neighbor_id == person))
                    if f.is_open]
            assert len(mine) <= 1
            if action == "recount":
                counts = {who: int(n) for who, n in session.execute(flags.served_per_neighbor(
                    now - timedelta(days=place.rules.familiar.window_days), now))}
                assert (mine[0].level if mine else None) == flags.level_for(place.rules.familiar,
                                                                            counts.get(person, 0))
