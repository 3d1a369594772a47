"""JSON routes of familiar neighbors: run the linkage, review its proposals, split a record off, the flags, and the
report. Supervisors review; the report (counts only) is for supervisors and analysts."""

from __future__ import annotations

from dataclasses import asdict
from datetime import timedelta

from fastapi import APIRouter, Query
from pydantic import AwareDatetime

from heart.deps import CurrentUser, Now, SessionDep, allow
from heart.inputs import RowId
from heart.neighbors.api import Rules
from heart.neighbors.familiar import flags, linking, report, review
from heart.neighbors.familiar.models import FamiliarFlag, ProposalStatus
from heart.neighbors.familiar.schemas import (
    FlagPublic,
    FlagReview,
    LinkRunPublic,
    ProposalPublic,
    RecountPublic,
    ReportPublic,
)

router = APIRouter(prefix="/api/familiar-neighbors", tags=["familiar-neighbors"])
REVIEW = [allow("familiar.review")]


@router.post("/linkage", dependencies=REVIEW)
def run_linkage(db: SessionDep, user: CurrentUser, now: Now, rules: Rules) -> LinkRunPublic:
    """Link every neighbor record: sure pairs are merged, likely ones proposed for review (the city's thresholds)."""
    return LinkRunPublic(**asdict(linking.run_linkage(session=db, at=now, by_id=user.id, rules=rules)))


@router.get("/proposals", dependencies=REVIEW)
def list_proposals(db: SessionDep, user: CurrentUser, now: Now,
                   status: ProposalStatus = ProposalStatus.OPEN) -> list[ProposalPublic]:
    """Pairs of records, strongest first, with what each comparison contributed (the records: ``/api/neighbors``)."""
    return [ProposalPublic.model_validate(p.proposal)
            for p in review.proposals(session=db, status=status, reader=user, at=now)]


@router.post("/proposals/{proposal_id}/accept", dependencies=REVIEW)
def accept(proposal_id: RowId, db: SessionDep, user: CurrentUser, now: Now) -> ProposalPublic:
    """The same person: their two neighbors become one (the older record kept)."""
    return ProposalPublic.model_validate(linking.decide_proposal(session=db, proposal_id=proposal_id,
                                                                 same_person=True, at=now, by=user))


@router.post("/proposals/{proposal_id}/reject", dependencies=REVIEW)
def reject(proposal_id: RowId, db: SessionDep, user: CurrentUser, now: Now) -> ProposalPublic:
    """Different people: never linked again (a pair the run merged is split apart)."""
    return ProposalPublic.model_validate(linking.decide_proposal(session=db, proposal_id=proposal_id,
                                                                 same_person=False, at=now, by=user))


@router.post("/records/{neighbor_id}/split", dependencies=REVIEW)
def split(neighbor_id: RowId, db: SessionDep, user: CurrentUser, now: Now) -> dict[str, int | None]:
    """Take a record out of the neighbor it was merged into; no later run merges it back."""
    record = linking.split_record(session=db, record_id=neighbor_id, at=now, by=user)
    return {"id": record.id, "merged_into_id": record.merged_into_id}


@router.get("/flags", dependencies=REVIEW)
def list_flags(db: SessionDep) -> list[FlagPublic]:
    """Open flags: waiting for a reviewer first, then by level."""
    return [FlagPublic.model_validate(flag) for flag, _ in flags.flags_to_review(session=db)]


@router.post("/flags/recount", dependencies=REVIEW)
def recount(db: SessionDep, user: CurrentUser, now: Now, rules: Rules) -> RecountPublic:
    """Count each neighbor's responses in the window: raise, re-level or end flags; expire those past their date."""
    return RecountPublic(**asdict(flags.recount_flags(session=db, now=now, rules=rules, actor_id=user.id)))


@router.post("/flags/{flag_id}/review", dependencies=REVIEW)
def review_flag(flag_id: RowId, body: FlagReview, db: SessionDep, user: CurrentUser, now: Now,
                rules: Rules) -> FlagPublic:
    """Approach notes and an expiry: the flag becomes active (and shows on the crew's phone)."""
    flag = flags.review_flag(session=db, flag_id=flag_id, approach_notes=body.approach_notes,
                             expires_at=body.expires_at, now=now, by=user, rules=rules)
    return FlagPublic.model_validate(flag)


@router.post("/flags/{flag_id}/end", dependencies=REVIEW)
def end(flag_id: RowId, db: SessionDep, user: CurrentUser, now: Now) -> FlagPublic:
    flag: FamiliarFlag = flags.end_flag(session=db, flag_id=flag_id, now=now, by=user)
    return FlagPublic.model_validate(flag)


@router.get("/report", dependencies=[allow("familiar.report")])
def get_report(db: SessionDep, now: Now, rules: Rules, since: AwareDatetime | None = Query(default=None),
               until: AwareDatetime | None = Query(default=None)) -> ReportPublic:
    """What share of neighbors account for what share of responses, and how many were seen N+ times (default: the
    city's window up to now). Counts only."""
    until = until or now
    since = since or until - timedelta(days=rules.familiar.window_days)
    found = report.familiar_report(session=db, since=since, until=until, rules=rules)
    return ReportPublic(since=found.since, until=found.until, neighbors=found.neighbors, responses=found.responses,
                        shares=[asdict(row) for row in found.shares], seen=[asdict(row) for row in found.seen],
                        compared_with=found.compared_with)
