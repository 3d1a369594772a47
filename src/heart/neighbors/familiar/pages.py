"""Familiar neighbors' screens: the reviewers' page (run the linkage, proposed links strongest first, links the run
merged, flags waiting for approach notes), one proposed link side by side with what each comparison contributed,
flag and split actions (from the neighbor's page too), and the report for supervisors and analysts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from heart.auth.models import User
from heart.deps import CurrentUser, LoggedReadDep, Now, SessionDep, allow
from heart.errors import DomainError, InvalidInput, NotFound
from heart.inputs import RowId
from heart.navigation.followups.rules import CareRules
from heart.neighbors.api import Rules
from heart.neighbors.familiar import flags, linking, report, review
from heart.neighbors.familiar.models import ProposalStatus
from heart.neighbors.models import Neighbor
from heart.templating import render

router = APIRouter(include_in_schema=False)
REVIEW = [allow("familiar.review")]
SHOWN = 50


@router.get("/familiar-neighbors", dependencies=REVIEW)
def review_page(request: Request, db: LoggedReadDep, user: CurrentUser, now: Now, rules: Rules) -> HTMLResponse:
    """Proposed links, links the run merged (to confirm or split), and flags waiting for a reviewer."""
    return _review(request, db, user, now, rules)


def _review(request: Request, db: Session, user: User, now: datetime, rules: CareRules, *, error: str | None = None,
            notice: str | None = None, status: int = 200) -> HTMLResponse:
    return render(request, "familiar/review.html", {
        "open": review.proposals(session=db, status=ProposalStatus.OPEN, reader=user, at=now, limit=SHOWN),
        "merged": review.proposals(session=db, status=ProposalStatus.MERGED, reader=user, at=now, limit=SHOWN),
        "flags": flags.flags_to_review(session=db, limit=SHOWN), "config": rules.familiar, "error": error,
        "notice": notice,
    }, status_code=status)


@router.get("/familiar-neighbors/links/{proposal_id}", dependencies=REVIEW)
def pair_page(proposal_id: RowId, request: Request, db: LoggedReadDep, user: CurrentUser, now: Now) -> HTMLResponse:
    """Two records side by side and what each comparison contributed to their match weight."""
    return _pair(request, db, user, now, proposal_id)


def _pair(request: Request, db: Session, user: User, now: datetime, proposal_id: int, error: str | None = None,
          status: int = 200) -> HTMLResponse:
    found = review.pair(session=db, proposal_id=proposal_id, reader=user, at=now)
    return render(request, "familiar/pair.html", {"p": found, "error": error}, status_code=status)


def _act(request: Request, db: Session, work: Callable[[], object], back: str,
         on_error: Callable[[str, int], HTMLResponse]) -> Response:
    try:
        work()
        db.flush()
    except NotFound:
        raise
    except DomainError as error:
        db.rollback()
        return on_error(str(error), 422 if isinstance(error, InvalidInput) else 409)
    return RedirectResponse(back, status_code=303)


@router.post("/familiar-neighbors/links/{proposal_id}/{decision}", dependencies=REVIEW)
def decide(proposal_id: RowId, decision: str, request: Request, db: SessionDep, user: CurrentUser, now: Now,
           back: Annotated[str, Form(max_length=8)] = "pair") -> Response:
    """Accept (the same person: merged) or reject (different people; a merged pair is split)."""
    if decision not in ("accept", "reject"):
        raise NotFound("decision", decision, field="decision")
    target = "/familiar-neighbors" if back == "list" else f"/familiar-neighbors/links/{proposal_id}"
    return _act(request, db, lambda: linking.decide_proposal(session=db, proposal_id=proposal_id,
                                                             same_person=decision == "accept", at=now, by=user),
                target, lambda message, code: _pair(request, db, user, now, proposal_id, message, code))


@router.post("/familiar-neighbors/linkage", dependencies=REVIEW)
def run(request: Request, db: SessionDep, user: CurrentUser, now: Now, rules: Rules) -> HTMLResponse:
    """Run the linkage now, then show what it found."""
    done = linking.run_linkage(session=db, at=now, by_id=user.id, rules=rules)
    db.flush()
    return _review(request, db, user, now, rules, notice=f"Linked {done.records:,} records: {done.merged:,} "
                   f"neighbors merged, {done.proposed:,} links waiting for review ({done.seconds:.1f} s).")


@router.post("/familiar-neighbors/flags/recount", dependencies=REVIEW)
def recount(request: Request, db: SessionDep, user: CurrentUser, now: Now, rules: Rules) -> HTMLResponse:
    done = flags.recount_flags(session=db, now=now, rules=rules, actor_id=user.id)
    db.flush()
    return _review(request, db, user, now, rules, notice=f"Flags: {done.raised} raised, {done.changed_level} changed "
                   f"level, {done.ended} ended, {done.expired} expired.")


@router.post("/familiar-neighbors/records/{neighbor_id}/split", dependencies=REVIEW)
def split(neighbor_id: RowId, request: Request, db: SessionDep, user: CurrentUser, now: Now,
          rules: Rules) -> Response:
    """Take a record out of its neighbor (from the neighbor's page); back to the kept record's page."""
    record = db.get(Neighbor, neighbor_id)
    kept = record.kept_id if record else neighbor_id
    return _act(request, db, lambda: linking.split_record(session=db, record_id=neighbor_id, at=now, by=user),
                f"/neighbors/{kept}", lambda message, code: _review(request, db, user, now, rules, error=message,
                                                                     status=code))


@router.post("/familiar-neighbors/flags/{flag_id}/review", dependencies=REVIEW)
def review_flag(flag_id: RowId, request: Request, db: SessionDep, user: CurrentUser, now: Now, rules: Rules,
                approach_notes: Annotated[str, Form(max_length=2000)] = "",
                expires_on: Annotated[str, Form(max_length=10)] = "",
                back: Annotated[str, Form(max_length=32)] = "") -> Response:
    """Approach notes and an expiry (a local date; blank: the city's number of days)."""
    zone = ZoneInfo(request.app.state.settings.timezone)

    def work() -> object:
        expires = None
        if expires_on:
            try:
                expires = datetime.combine(datetime.fromisoformat(expires_on).date(), time(23, 59), tzinfo=zone)
            except ValueError:
                raise InvalidInput("the expiry is not a date", field="expires_at") from None
        return flags.review_flag(session=db, flag_id=flag_id, approach_notes=approach_notes, expires_at=expires,
                                 now=now, by=user, rules=rules)

    return _act(request, db, work, _back(back), lambda message, code: _review(request, db, user, now, rules,
                                                                             error=message, status=code))


@router.post("/familiar-neighbors/flags/{flag_id}/end", dependencies=REVIEW)
def end_flag(flag_id: RowId, request: Request, db: SessionDep, user: CurrentUser, now: Now, rules: Rules,
             back: Annotated[str, Form(max_length=32)] = "") -> Response:
    return _act(request, db, lambda: flags.end_flag(session=db, flag_id=flag_id, now=now, by=user), _back(back),
                lambda message, code: _review(request, db, user, now, rules, error=message, status=code))


def _back(back: str) -> str:
    """Where a flag's form returns: the neighbor's page it was sent from, or the reviewers' page."""
    return f"/neighbors/{int(back)}" if back.isdigit() else "/familiar-neighbors"


@router.get("/familiar-neighbors/report", dependencies=[allow("familiar.report")])
def report_page(request: Request, db: SessionDep, now: Now, rules: Rules,
                since: Annotated[str, Query(max_length=10)] = "",
                until: Annotated[str, Query(max_length=10)] = "") -> HTMLResponse:
    """How concentrated responses are, for a period of local dates (default: the window up to today)."""
    zone = ZoneInfo(request.app.state.settings.timezone)
    try:
        end = datetime.combine(datetime.fromisoformat(until).date() + timedelta(days=1), time(), tzinfo=zone) \
            if until else now
        start = datetime.combine(datetime.fromisoformat(since).date(), time(), tzinfo=zone) if since \
            else end - timedelta(days=rules.familiar.window_days)
    except ValueError:
        raise InvalidInput("since and until are dates (YYYY-MM-DD)", field="since") from None
    found = report.familiar_report(session=db, since=start, until=end, rules=rules)
    return render(request, "familiar/report.html", {"r": found, "config": rules.familiar,
                                                    "last_moment": found.until - timedelta(microseconds=1)})
