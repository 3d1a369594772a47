"""Linking neighbor records into people, and what reviewers decide about it.

``run_linkage`` scores every record against the others (Splink, ``heart.neighbors.linkage``) and, for each pair of
records that belong to two different neighbors today:

- at or above the city's ``merge_without_review``: merges the two neighbors (the older record is kept, the other's
  ``merged_into_id`` points to it — nothing is deleted) and lists the pair as merged, for a reviewer to confirm or
  split;
- at or above ``link_threshold``: proposes the pair to a reviewer, with what each comparison contributed.

Reviewers' decisions are kept and every later run honours them: an accepted link merges the two neighbors; a
rejected one, or a record split from its neighbor, is never merged with them again. Records kept for a members-only
program are never linked. Events name record ids and counts, never a personal value.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import pandas as pd
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from heart.auth.models import User
from heart.errors import Conflict, NotFound
from heart.events import record_event
from heart.navigation.followups.rules import CareRules
from heart.neighbors.familiar.flags import end_flags_of_merged
from heart.neighbors.familiar.models import MatchDecision, MatchProposal, ProposalStatus
from heart.neighbors.linkage.constraints import ReviewDecisions
from heart.neighbors.linkage.engine import link_records
from heart.neighbors.models import Neighbor


@dataclass(frozen=True, slots=True)
class LinkRun:
    records: int
    pairs: int  # pairs at or above the link threshold
    merged: int  # neighbors merged by this run
    proposed: int  # pairs waiting for a reviewer after this run
    seconds: float
    model_version: str


class _Groups:
    """Who is one neighbor now: records grouped under the record kept, joined as links are made."""

    def __init__(self, kept: dict[int, int], apart: dict[int, set[int]]) -> None:
        self.root = dict(kept)  # record → its group's kept record
        self.members: dict[int, set[int]] = {}
        for record, root in kept.items():
            self.members.setdefault(root, set()).add(record)
        self.apart = apart  # record → records a reviewer said are someone else

    def same(self, a: int, b: int) -> bool:
        return self.root[a] == self.root[b]

    def kept_apart(self, a: int, b: int) -> bool:
        """Whether a reviewer said some record of a's neighbor is not some record of b's."""
        other = self.members[self.root[b]]
        return any(self.apart.get(record, set()) & other for record in self.members[self.root[a]])

    def join(self, a: int, b: int) -> None:
        keep, gone = sorted((self.root[a], self.root[b]))
        for record in self.members.pop(gone):
            self.root[record] = keep
            self.members[keep].add(record)


def _records(session: Session) -> pd.DataFrame:
    rows = session.execute(select(Neighbor.id, Neighbor.first_name, Neighbor.last_name, Neighbor.aliases,
                                  Neighbor.date_of_birth, Neighbor.phone, Neighbor.address)
                           .where(Neighbor.restricted_to_program_id.is_(None)).order_by(Neighbor.id)).all()
    frame = pd.DataFrame(rows, columns=["id", "first_name", "last_name", "aliases", "date_of_birth", "phone",
                                        "address"])
    frame.insert(0, "record_id", frame.pop("id").astype(str))
    return frame


def decisions(session: Session) -> tuple[set[tuple[int, int]], set[tuple[int, int]]]:
    """The reviewers' decisions in force: (same person, different people), each pair (smaller id first)."""
    latest: dict[tuple[int, int], bool] = {}
    for left, right, same in session.execute(select(MatchDecision.left_id, MatchDecision.right_id,
                                                    MatchDecision.same_person).order_by(MatchDecision.id)):
        latest[(left, right)] = same
    return ({pair for pair, same in latest.items() if same}, {pair for pair, same in latest.items() if not same})


def run_linkage(*, session: Session, at: datetime, by_id: int | None, rules: CareRules) -> LinkRun:
    """Score every (unrestricted) record; merge the sure pairs, propose the likely ones (see the module's rules)."""
    began = time.perf_counter()
    config = rules.familiar
    frame = _records(session)
    if len(frame) < 2:
        return LinkRun(len(frame), 0, 0, 0, time.perf_counter() - began, "")
    same, different = decisions(session)
    result = link_records(frame, decisions=ReviewDecisions.of(
        must_link=[(str(a), str(b)) for a, b in same], cannot_link=[(str(a), str(b)) for a, b in different]),
        threshold=config.link_threshold, review_floor=config.link_threshold, explain=True)
    kept = {ident: kept_id or ident for ident, kept_id in session.execute(
        select(Neighbor.id, Neighbor.merged_into_id).where(Neighbor.restricted_to_program_id.is_(None)))}
    apart: dict[int, set[int]] = {}
    for a, b in different:
        apart.setdefault(a, set()).add(b)
        apart.setdefault(b, set()).add(a)
    groups = _Groups(kept, apart)
    proposals = {(p.left_id, p.right_id): p for p in session.scalars(select(MatchProposal))}
    merged_before = len(groups.members)
    for row in result.pairs.itertuples(index=False):
        a, b = sorted((int(row.unique_id_l), int(row.unique_id_r)))
        existing = proposals.get((a, b))
        if groups.same(a, b) or groups.kept_apart(a, b) or (existing and existing.status == ProposalStatus.REJECTED):
            continue
        sure = config.merge_without_review is not None and row.match_probability >= config.merge_without_review
        if sure:
            groups.join(a, b)
        status = ProposalStatus.MERGED if sure else ProposalStatus.OPEN
        values = {"match_weight": float(row.match_weight), "match_probability": float(row.match_probability),
                  "contributions": list(row.contributions), "model_version": result.model_version, "found_at": at,
                  "status": status}
        if existing is None:
            proposals[(a, b)] = MatchProposal(left_id=a, right_id=b, **values)
            session.add(proposals[(a, b)])
        elif existing.status == ProposalStatus.OPEN:
            for name, value in values.items():
                setattr(existing, name, value)
    merged = merged_before - len(groups.members)
    _apply(session, kept, groups.root, at, by_id)
    session.flush()
    waiting = sum(1 for p in proposals.values() if p.status == ProposalStatus.OPEN)
    record_event(session=session, kind="linkage.run", subject_type="linkage", subject_id=0, at=at, actor_id=by_id,
                 after={"records": len(frame), "pairs": len(result.pairs), "merged": merged, "proposed": waiting,
                        "model_version": result.model_version})
    return LinkRun(len(frame), len(result.pairs), merged, waiting, time.perf_counter() - began, result.model_version)


def _apply(session: Session, before: dict[int, int], after: dict[int, int], at: datetime, by_id: int | None) -> None:
    """Point every record whose neighbor changed at its new kept record (conditional on what was read)."""
    moved: dict[int, list[int]] = {}
    for record, root in after.items():
        if before[record] != root:
            moved.setdefault(root, []).append(record)
    for root, records in sorted(moved.items()):
        for record in records:
            old = before[record]
            target = None if record == root else root
            done = session.execute(update(Neighbor).where(
                Neighbor.id == record,
                Neighbor.merged_into_id.is_(None) if old == record else Neighbor.merged_into_id == old)
                .values(merged_into_id=target)).rowcount  # type: ignore[attr-defined]
            if done != 1:
                raise Conflict(f"neighbor record {record} changed while linking; run the linkage again")
        record_event(session=session, kind="neighbor.merged", subject_type="neighbor", subject_id=root, at=at,
                     actor_id=by_id, after={"records": sorted(records)})
    end_flags_of_merged(session=session, records=[r for records in moved.values() for r in records], at=at,
                        actor_id=by_id)


def _group(session: Session, record: int) -> tuple[int, list[int]]:
    """A record's neighbor: (its kept record, every record of it)."""
    found = session.get(Neighbor, record)
    if found is None or found.restricted_to_program_id is not None:
        raise NotFound("neighbor", record, field="neighbor_id")
    root = found.kept_id
    members = list(session.scalars(select(Neighbor.id).where((Neighbor.id == root)
                                                             | (Neighbor.merged_into_id == root))))
    return root, sorted(members)


def _decide(session: Session, pairs: Iterable[tuple[int, int]], same: bool, at: datetime, by: User) -> None:
    for a, b in pairs:
        left, right = sorted((a, b))
        session.add(MatchDecision(left_id=left, right_id=right, same_person=same, decided_at=at, decided_by_id=by.id))


def decide_proposal(*, session: Session, proposal_id: int, same_person: bool, at: datetime, by: User) -> MatchProposal:
    """A reviewer's word on a proposed (or merged) pair: the same person (their neighbors are merged) or not (a
    merged pair is split apart again). Deciding the same twice changes nothing."""
    proposal = session.get(MatchProposal, proposal_id, with_for_update=True, populate_existing=True)
    if proposal is None:
        raise NotFound("proposed link", proposal_id, field="proposal_id")
    wanted = ProposalStatus.ACCEPTED if same_person else ProposalStatus.REJECTED
    if proposal.status == wanted:
        return proposal
    left_root, _ = _group(session, proposal.left_id)
    right_root, _ = _group(session, proposal.right_id)
    _decide(session, [(proposal.left_id, proposal.right_id)], same_person, at, by)
    if same_person and left_root != right_root:
        _, left_members = _group(session, left_root)
        _, right_members = _group(session, right_root)
        before = {r: left_root for r in left_members} | {r: right_root for r in right_members}
        keep = min(left_root, right_root)
        _apply(session, before, {r: keep for r in before}, at, by.id)
    if not same_person and left_root == right_root:
        split_record(session=session, record_id=max(proposal.left_id, proposal.right_id), at=at, by=by)
    before_status = proposal.status
    proposal.status, proposal.decided_at, proposal.decided_by_id = wanted, at, by.id
    record_event(session=session, kind=f"neighbor.link_{wanted.value}", subject_type="neighbor",
                 subject_id=min(left_root, right_root), at=at, actor_id=by.id,
                 before={"status": before_status.value},
                 after={"proposal_id": proposal.id, "records": [proposal.left_id, proposal.right_id]})
    return proposal


def split_record(*, session: Session, record_id: int, at: datetime, by: User) -> Neighbor:
    """Take a record out of the neighbor it was merged into: it is its own neighbor again, and no later run merges
    it back with any record of that neighbor."""
    root, members = _group(session, record_id)
    if record_id == root:
        raise Conflict(f"record {record_id} is the record kept for its neighbor; split the others from it instead")
    _decide(session, [(record_id, other) for other in members if other != record_id], False, at, by)
    done = session.execute(update(Neighbor).where(Neighbor.id == record_id, Neighbor.merged_into_id == root)
                           .values(merged_into_id=None)).rowcount  # type: ignore[attr-defined]
    if done != 1:
        raise Conflict(f"neighbor record {record_id} changed meanwhile; reload and try again")
    for proposal in session.scalars(select(MatchProposal).where(
            ((MatchProposal.left_id == record_id) & MatchProposal.right_id.in_(members))
            | ((MatchProposal.right_id == record_id) & MatchProposal.left_id.in_(members)))):
        if proposal.status in (ProposalStatus.MERGED, ProposalStatus.ACCEPTED, ProposalStatus.OPEN):
            proposal.status, proposal.decided_at, proposal.decided_by_id = ProposalStatus.REJECTED, at, by.id
    record_event(session=session, kind="neighbor.split", subject_type="neighbor", subject_id=root, at=at,
                 actor_id=by.id, after={"record": record_id})
    return session.get_one(Neighbor, record_id)
