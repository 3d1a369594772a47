"""The demo's neighbors as people: who each consented encounter met, so that a year of history has Durham's familiar
neighbors — and the linkage, its review and the flags, run on them as a program would.

Each 12-month block of the history gets its own people (``heart.neighbors.linkage.synthetic``: realistic names,
dates of birth, phones, households and shelters), each served a number of times drawn from Durham's published year
(``service_counts``: 0.5% of neighbors take 12% of responses; 74 seen 5+, 19 10+, 8 20+, 4 40+ in 3,500 neighbors,
scaled to the block's encounters). Every encounter writes a new record of its person, with the errors responders
make (a nickname, a typo, a missing phone…), as the warm handoff does; linking those records is the linkage's work.

Then the demo plays the reviewer who has worked the queue up to two weeks ago — knowing who is who, they accept the
proposed links that are one person and reject the others, and split the run's merges that were wrong — and writes
approach notes on most flags, leaving the newest links and a few flags for a real reviewer.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from heart.auth.models import User
from heart.navigation.followups.rules import CareRules
from heart.neighbors.familiar import flags, linking
from heart.neighbors.familiar.models import FlagStatus, MatchProposal, ProposalStatus
from heart.neighbors.linkage.service_counts import draw_yearly_service_counts, survival
from heart.neighbors.linkage.synthetic import RecordErrors, generate_people, one_record
from heart.neighbors.models import Neighbor

BLOCK = timedelta(days=365)
REVIEWED_UNTIL = timedelta(days=14)  # the demo's reviewer has worked the queue up to two weeks ago
# Responders write a known neighbor's details more carefully than a stranger's: fewer errors than the benchmark's.
DEMO_ERRORS = RecordErrors(nickname=0.08, first_name_typo=0.03, last_name_typo=0.03, names_swapped=0.005,
                           first_name_missing=0.01, last_name_missing=0.02, dob_missing=0.06,
                           dob_day_month_swapped=0.02, dob_digit_typo=0.02, phone_missing=0.25, phone_digit_error=0.03,
                           phone_changed=0.08, address_missing=0.3, address_changed=0.08, sex_missing=1.0,
                           alias_used=0.3)
APPROACH = [
    "Prefers to be approached by the peer support specialist first; speak slowly and give time to answer.",
    "Loud settings escalate him: talk away from the crowd, offer water, explain each step before doing it.",
    "Has a service dog; ask before approaching the dog. Responds well to being offered a choice of next steps.",
    "Hard of hearing in the left ear: stand on the right, face her when speaking. Likes to be called by first name.",
    "Often sleeps at the bus station; knock and announce before waking him. Trust built with CRT clinicians.",
    "Spanish first language; ask if she would like an interpreter. Do not mention her family unless she does.",
]


@dataclass
class DemoPeople:
    """Who each demo record is (kept apart, as a linker never sees it)."""

    person_of_record: dict[int, str] = field(default_factory=dict)


def records_for(times: list[datetime], *, seed: int, now: datetime) -> list[tuple[str, dict[str, object]]]:
    """For each encounter time: (the person it met, the record a responder wrote), in the order given."""
    blocks: dict[int, list[int]] = {}
    for index, at in enumerate(times):
        blocks.setdefault(max(0, (now - at) // BLOCK), []).append(index)
    out: list[tuple[str, dict[str, object]]] = [("", {})] * len(times)
    for block, indices in sorted(blocks.items()):
        rng = np.random.default_rng(seed + 1000 * block)
        counts = _counts(len(indices), seed + block)
        people = generate_people(len(counts), seed=seed + 7 * block + 1).to_dict(orient="records")
        visits = rng.permutation(np.repeat(np.arange(len(counts)), counts))
        for index, person in zip(indices, visits, strict=True):
            record = one_record(rng, people[person], DEMO_ERRORS)
            out[index] = (f"{block}-{person}", _neighbor_fields(record))
    return out


def _counts(encounters: int, seed: int) -> np.ndarray:
    """Durham-shaped service counts for this many encounters, adding up to exactly that many."""
    mean = float(survival(np.arange(1, 200)).sum())
    counts = draw_yearly_service_counts(n_neighbors=max(1, round(encounters / mean)), seed=seed)
    rng = np.random.default_rng(seed)
    while counts.sum() > encounters:  # too many: drop people seen once
        ones = np.flatnonzero(counts == 1)
        counts = np.delete(counts, rng.choice(ones, size=min(len(ones), int(counts.sum() - encounters)), replace=False))
    if counts.sum() < encounters:  # too few: more people seen once
        counts = np.concatenate([counts, np.ones(int(encounters - counts.sum()), dtype=counts.dtype)])
    return counts


def _neighbor_fields(record: dict[str, object]) -> dict[str, object]:
    dob = record.get("date_of_birth")
    try:
        born = date.fromisoformat(str(dob)) if dob else None
    except ValueError:
        born = None
    return {"first_name": record.get("first_name"), "last_name": record.get("last_name"),
            "aliases": list(record.get("aliases") or []), "date_of_birth": born,  # type: ignore[call-overload]
            "phone": record.get("phone"), "address": record.get("address")}


@dataclass
class FamiliarSummary:
    records: int = 0
    merged: int = 0
    accepted: int = 0
    rejected: int = 0
    waiting: int = 0
    flags: int = 0
    reviewed: int = 0


def link_and_review(*, session: Session, people: DemoPeople, now: datetime, rules: CareRules,
                    reviewer: User, seed: int) -> FamiliarSummary:
    """Run the linkage, review what a reviewer would have reviewed by now, recount and review flags."""
    rng = random.Random(seed + 40)
    run = linking.run_linkage(session=session, at=now, by_id=None, rules=rules)
    summary = FamiliarSummary(records=run.records, merged=run.merged)
    person = people.person_of_record
    created = {ident: at for ident, at in session.execute(select(Neighbor.id, Neighbor.created_at))}
    for proposal in list(session.scalars(select(MatchProposal).where(
            MatchProposal.status.in_((ProposalStatus.OPEN, ProposalStatus.MERGED))).order_by(MatchProposal.id))):
        if max(created[proposal.left_id], created[proposal.right_id]) > now - REVIEWED_UNTIL:
            continue
        same = person.get(proposal.left_id) == person.get(proposal.right_id)
        if proposal.status == ProposalStatus.OPEN and session.get_one(Neighbor, proposal.left_id).kept_id == \
                session.get_one(Neighbor, proposal.right_id).kept_id:
            continue  # joined meanwhile through another link
        linking.decide_proposal(session=session, proposal_id=proposal.id, same_person=same, at=now, by=reviewer)
        if same:
            summary.accepted += 1
        else:
            summary.rejected += 1
    summary.waiting = len(list(session.scalars(select(MatchProposal.id).where(
        MatchProposal.status == ProposalStatus.OPEN))))
    flags.recount_flags(session=session, now=now, rules=rules)
    open_flags = flags.flags_to_review(session=session, limit=10_000)
    summary.flags = len(open_flags)
    for flag, _ in open_flags:
        if flag.status == FlagStatus.PENDING and rng.random() < 0.8:
            flags.review_flag(session=session, flag_id=flag.id, approach_notes=rng.choice(APPROACH),
                              expires_at=now + timedelta(days=rng.randint(20, rules.familiar.flag_expires_after_days)),
                              now=now, by=reviewer, rules=rules)
            summary.reviewed += 1
    return summary
