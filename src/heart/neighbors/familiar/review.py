"""What the reviewers' and the crews' screens read of familiar neighbors — each read of a record logged.

Proposals are listed with both records (a reviewer compares them: logged as read for "linkage review"); a crew's
phone shows the approach notes of an active flag on a neighbor named on their current call (logged for "responder's
call"), never a pending flag's, and never anything that would tell them to stay away.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from heart.auth.models import User
from heart.auth.need_to_know import neighbors_visible_to
from heart.errors import NotFound
from heart.neighbors.familiar.models import FamiliarFlag, FlagStatus, MatchProposal, ProposalStatus
from heart.neighbors.models import Neighbor, NeighborLink
from heart.neighbors.service import log_reads


@dataclass(frozen=True, slots=True)
class Pair:
    proposal: MatchProposal
    left: Neighbor
    right: Neighbor

    @property
    def same_neighbor(self) -> bool:
        return self.left.kept_id == self.right.kept_id


def proposals(*, session: Session, status: ProposalStatus, reader: User, at: datetime, limit: int = 100
              ) -> list[Pair]:
    """Proposals of ``status``, strongest first — open ones only while their records are still two neighbors; both
    records of each are logged as read."""
    rows = session.scalars(select(MatchProposal).where(MatchProposal.status == status)
                           .order_by(MatchProposal.match_probability.desc(), MatchProposal.id).limit(limit * 3))
    found = list(rows)
    records = {n.id: n for n in session.scalars(select(Neighbor).where(
        Neighbor.id.in_({p.left_id for p in found} | {p.right_id for p in found}), neighbors_visible_to(reader)))}
    pairs = [Pair(p, records[p.left_id], records[p.right_id]) for p in found
             if p.left_id in records and p.right_id in records]
    if status == ProposalStatus.OPEN:
        pairs = [pair for pair in pairs if not pair.same_neighbor]
    pairs = pairs[:limit]
    log_reads(session=session, neighbor_ids=[n.id for pair in pairs for n in (pair.left, pair.right)], reader=reader,
              purpose="linkage review", at=at)
    return pairs


def pair(*, session: Session, proposal_id: int, reader: User, at: datetime) -> Pair:
    """One proposal with both records (logged as read)."""
    proposal = session.get(MatchProposal, proposal_id)
    if proposal is None:
        raise NotFound("proposed link", proposal_id, field="proposal_id")
    records = {n.id: n for n in session.scalars(select(Neighbor).where(
        Neighbor.id.in_((proposal.left_id, proposal.right_id)), neighbors_visible_to(reader)))}
    if len(records) != 2:
        raise NotFound("proposed link", proposal_id, field="proposal_id")
    log_reads(session=session, neighbor_ids=list(records), reader=reader, purpose="linkage review", at=at)
    return Pair(proposal, records[proposal.left_id], records[proposal.right_id])


@dataclass(frozen=True, slots=True)
class Approach:
    neighbor: Neighbor
    level: int
    notes: str


def approach_notes_for_call(*, session: Session, call_id: int, reader: User, at: datetime) -> list[Approach]:
    """The active flags' approach notes of the neighbors named on a call that ``reader`` may see (logged)."""
    named = select(NeighborLink.neighbor_id).where(NeighborLink.call_id == call_id)
    records = list(session.scalars(select(Neighbor).where(Neighbor.id.in_(named), neighbors_visible_to(reader))))
    if not records:
        return []
    kept = {record.kept_id: record for record in records}
    flags = list(session.scalars(select(FamiliarFlag).where(FamiliarFlag.neighbor_id.in_(kept),
                                                            FamiliarFlag.status == FlagStatus.ACTIVE)))
    shown = [Approach(kept[flag.neighbor_id], flag.level, flag.approach_notes or "") for flag in flags]
    log_reads(session=session, neighbor_ids=[a.neighbor.id for a in shown], reader=reader,
              purpose="responder's call (approach notes)", at=at)
    return shown
