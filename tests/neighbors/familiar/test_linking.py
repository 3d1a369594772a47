"""Linking a program's neighbor records: "Jon" and "Jonathan" with one birthday, or a phone with two digits swapped,
become one neighbor; a father and his junior are proposed, not merged, and a reviewer's "different people" holds in
every later run; a merge can be split and stays split; a record kept for the Office of Survivor Care is never linked;
the weights a reviewer reads add up and events name no one."""

from __future__ import annotations

import math

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from heart.db import transaction
from heart.events import Event
from heart.navigation.followups.queue import neighbor_timeline
from heart.neighbors.familiar.linking import decide_proposal, run_linkage, split_record
from heart.neighbors.familiar.models import MatchDecision, MatchProposal, ProposalStatus
from heart.neighbors.models import Neighbor
from heart.programs.models import ProgramAccess
from heart.programs.schemas import ProgramConfig
from heart.programs.service import upsert_program
from tests.neighbors.familiar.town import JON, JONATHAN, KEISHA, KEISHA_TYPO, MARCUS, MARCUS_JR, Town

pytestmark = pytest.mark.parametrize("database_url", ["sqlite", "postgres"], indirect=True)


def kept(session: Session, record: int) -> int:
    return session.get_one(Neighbor, record, populate_existing=True).kept_id


def proposal(session: Session, a: int, b: int) -> MatchProposal | None:
    return session.scalar(select(MatchProposal).where(MatchProposal.left_id == min(a, b),
                                                      MatchProposal.right_id == max(a, b)))


def link(place: Town) -> None:
    with transaction(place.sessions) as session:
        run_linkage(session=session, at=place.now, by_id=None, rules=place.rules)


def test_a_nickname_with_one_birthday_and_a_phone_typo_become_one_neighbor_a_junior_waits_for_review(
    place: Town,
) -> None:
    for name, details in (("jon", JON), ("jonathan", JONATHAN), ("keisha", KEISHA), ("keisha typo", KEISHA_TYPO),
                          ("marcus", MARCUS), ("junior", MARCUS_JR)):
        place.person(name, details)
    link(place)
    r = place.records
    with place.sessions() as session:
        assert kept(session, r["jonathan"]) == kept(session, r["jon"]) == r["jon"]  # the older record is kept
        assert kept(session, r["keisha typo"]) == kept(session, r["keisha"])
        assert kept(session, r["junior"]) != kept(session, r["marcus"])
        junior = proposal(session, r["marcus"], r["junior"])
        assert junior is not None and junior.status == ProposalStatus.OPEN
        nickname = proposal(session, r["jon"], r["jonathan"])
        assert nickname is not None and nickname.status == ProposalStatus.MERGED
        steps = {step["comparison"]: step for step in nickname.contributions}
        assert steps["first_name"]["level"] == "nickname of the same name" and steps["first_name"]["weight"] > 0
        assert steps["Prior"]["weight"] < 0
        assert math.isclose(sum(step["weight"] for step in nickname.contributions), nickname.match_weight,
                            abs_tol=0.01)
        logged = " ".join(str(e.after) for e in session.scalars(select(Event)))
    for words in ("Smithwick", "Mabry", "Reedy", "555-01"):
        assert words not in logged


def test_a_reviewers_different_people_holds_in_every_later_run(place: Town) -> None:
    marcus, junior = place.person("marcus", MARCUS), place.person("junior", MARCUS_JR)
    link(place)
    with transaction(place.sessions) as session:
        found = proposal(session, marcus, junior)
        assert found is not None
        decide_proposal(session=session, proposal_id=found.id, same_person=False, at=place.now, by=place.supervisor)
    place.person("junior again", MARCUS_JR)  # a new record joins one side by its own evidence
    link(place)
    with place.sessions() as session:
        assert kept(session, junior) != kept(session, marcus)
        assert session.get_one(MatchProposal, found.id).status == ProposalStatus.REJECTED
        assert kept(session, place.records["junior again"]) == kept(session, junior)


def test_accepting_a_proposal_merges_and_splitting_a_record_keeps_it_apart(place: Town) -> None:
    marcus, junior = place.person("marcus", MARCUS), place.person("junior", MARCUS_JR)
    link(place)
    with transaction(place.sessions) as session:
        found = proposal(session, marcus, junior)
        assert found is not None
        decide_proposal(session=session, proposal_id=found.id, same_person=True, at=place.now, by=place.supervisor)
        decide_proposal(session=session, proposal_id=found.id, same_person=True, at=place.now, by=place.supervisor)
    with place.sessions() as session:
        assert kept(session, junior) == marcus
        timeline = neighbor_timeline(session=session, neighbor_id=marcus, reader=place.supervisor, now=place.now)
        assert [n.id for n in timeline.merged] == [junior] and len(timeline.calls) == 2  # the merge is followed
    with transaction(place.sessions) as session:
        split_record(session=session, record_id=junior, at=place.now, by=place.supervisor)
    link(place)
    with place.sessions() as session:
        assert kept(session, junior) == junior
        decisions = session.scalars(select(MatchDecision.same_person).where(
            MatchDecision.left_id == marcus, MatchDecision.right_id == junior).order_by(MatchDecision.id)).all()
        assert decisions == [True, False]  # accepted once (the second accept changed nothing), then split


def test_a_record_kept_for_survivor_care_is_never_linked(place: Town) -> None:
    jon = place.person("jon", JON)
    survivor = place.person("survivor", JON)  # the very same details
    with transaction(place.sessions) as session:
        osc = upsert_program(session=session, config=ProgramConfig(code="OSC", name="Office of Survivor Care",
                                                                   kind="case", access=ProgramAccess.MEMBERS),
                             now=place.now, actor_id=None)[0]
        session.execute(update(Neighbor).where(Neighbor.id == survivor).values(restricted_to_program_id=osc.id))
    link(place)
    with place.sessions() as session:
        assert kept(session, survivor) == survivor and kept(session, jon) == jon
        assert not session.scalars(select(MatchProposal).where(
            (MatchProposal.left_id == survivor) | (MatchProposal.right_id == survivor))).all()
