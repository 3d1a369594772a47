"""Residents' requests and sign-ups: received, worked through their statuses, and their contact details erased.

Each change appends an event holding the status alone — never a name, address or message.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from heart.errors import Conflict, InvalidInput, NotFound
from heart.events import record_event
from heart.public.models import (
    CLOSED,
    NEXT_STATUS,
    EngagementRequest,
    InterestSignup,
    PublicFormAttempt,
    RequestStatus,
)
from heart.public.schemas import Checked

KINDS: dict[str, type[EngagementRequest] | type[InterestSignup]] = {
    "event": EngagementRequest, "volunteer": InterestSignup}
"""The queue's two kinds of item, by the name their URLs use."""
SUBJECT = {"event": "engagement_request", "volunteer": "interest_signup"}
ATTEMPTS_KEPT = timedelta(days=1)
RATE_WINDOW = timedelta(hours=1)


class TooManyForms(Conflict):
    """A client sent more forms in the last hour than the limit allows."""

    def __init__(self, retry_after: int) -> None:
        super().__init__("Too many forms were sent from your connection in the last hour.")
        self.retry_after = retry_after


def count_form_attempt(*, session: Session, client_key: str, now: datetime, limit: int) -> None:
    """Count one form sent by the client, or refuse it when the client already sent ``limit`` in the last hour."""
    since = now - RATE_WINDOW
    sent = session.execute(select(func.count(), func.min(PublicFormAttempt.at)).where(
        PublicFormAttempt.client_key == client_key, PublicFormAttempt.at > since)).one()
    if sent[0] >= limit:
        oldest: datetime = sent[1]
        raise TooManyForms(max(1, int((oldest + RATE_WINDOW - now).total_seconds()) + 1))
    session.add(PublicFormAttempt(client_key=client_key, at=now))


def receive_event_request(*, session: Session, checked: Checked, now: datetime) -> EngagementRequest:
    """Save a checked request for the department at an event (status new)."""
    if not checked.ok:
        raise InvalidInput("the request has mistakes: " + ", ".join(sorted(checked.errors)))
    values = checked.values
    item = EngagementRequest(
        received_at=now, status_changed_at=now, status=RequestStatus.NEW,
        name=values["name"], email=values["email"], phone=values["phone"] or None,
        message=values["message"] or None, organization=values["organization"] or None, place=values["place"],
        event_date=datetime.fromisoformat(values["event_date"]).date(),
        audience=int(values["audience"]) if values["audience"] else None)
    session.add(item)
    session.flush()
    record_event(session=session, kind="engagement.request_received", subject_type=SUBJECT["event"],
                 subject_id=item.id, at=now, actor_id=None, after={"status": item.status.value})
    return item


def receive_signup(*, session: Session, checked: Checked, now: datetime) -> InterestSignup:
    """Save a checked sign-up to the volunteer interest list (status new)."""
    if not checked.ok:
        raise InvalidInput("the sign-up has mistakes: " + ", ".join(sorted(checked.errors)))
    values = checked.values
    item = InterestSignup(received_at=now, status_changed_at=now, status=RequestStatus.NEW, name=values["name"],
                          email=values["email"], phone=values["phone"] or None, message=values["message"] or None,
                          interests=values["interests"])
    session.add(item)
    session.flush()
    record_event(session=session, kind="engagement.signup_received", subject_type=SUBJECT["volunteer"],
                 subject_id=item.id, at=now, actor_id=None, after={"status": item.status.value})
    return item


def get_item(*, session: Session, kind: str, item_id: int) -> EngagementRequest | InterestSignup:
    model = KINDS.get(kind)
    if model is None:
        raise NotFound("queue", kind, known=KINDS)
    item = cast(EngagementRequest | InterestSignup | None, session.get(model, item_id))
    if item is None:
        raise NotFound("request" if kind == "event" else "sign-up", item_id)
    return item


def change_status(*, session: Session, kind: str, item_id: int, to: str, by: int, now: datetime
                  ) -> EngagementRequest | InterestSignup:
    """Move a request or sign-up to its next status (``models.NEXT_STATUS``); a closed one stays closed.

    The update is conditional on the status it was read in, so two people moving it at once cannot both win.
    """
    item = get_item(session=session, kind=kind, item_id=item_id)
    try:
        target = RequestStatus(to)
    except ValueError:
        raise InvalidInput(f"{to!r} is not a status; use {', '.join(s.value for s in RequestStatus)}",
                           field="status") from None
    current = item.status
    if target not in NEXT_STATUS[current]:
        allowed = ", ".join(s.value for s in NEXT_STATUS[current]) or "nothing (it is closed)"
        raise Conflict(f"a {current.value} item can become {allowed}, not {target.value}")
    model = type(item)
    changed = session.execute(
        update(model).where(model.id == item.id, model.status == current)
        .values(status=target, status_changed_at=now, changed_by_id=by,
                closed_at=now if target in CLOSED else None)
        .execution_options(synchronize_session=False)).rowcount  # type: ignore[attr-defined]
    if changed != 1:
        raise Conflict("someone else changed this item just now; reload the queue")
    record_event(session=session, kind="engagement.status_changed", subject_type=SUBJECT[kind], subject_id=item.id,
                 at=now, actor_id=by, before={"status": current.value}, after={"status": target.value})
    session.refresh(item)
    return item


def queue(*, session: Session, kind: str, open_only: bool = True) -> list[EngagementRequest | InterestSignup]:
    """The items of one kind: open ones oldest first (what waits longest is worked first), or every one."""
    model = KINDS[kind]
    query = select(model)
    if open_only:
        query = query.where(model.status.not_in(CLOSED)).order_by(model.received_at, model.id)
    else:
        query = query.order_by(model.received_at.desc(), model.id.desc()).limit(200)
    return list(session.scalars(query))


def purge_contact_details(*, session: Session, now: datetime, retention_days: int) -> int:
    """Erase the contact details of every request and sign-up closed more than ``retention_days`` ago, and forget
    the rate limit's tally after a day; returns how many rows were erased. Safe to run in several processes."""
    cutoff = now - timedelta(days=retention_days)
    erased = 0
    for kind, model in KINDS.items():
        ids = list(session.scalars(select(model.id).where(model.closed_at < cutoff, model.purged_at.is_(None))))
        if not ids:
            continue
        blank: dict[str, datetime | None] = {"name": None, "email": None, "phone": None, "message": None,
                                             "purged_at": now}
        if model is EngagementRequest:
            blank.update(organization=None, place=None)
        done = session.execute(update(model).where(model.id.in_(ids), model.purged_at.is_(None)).values(**blank)
                               .returning(model.id)).scalars().all()
        for item_id in done:
            record_event(session=session, kind="engagement.contact_purged", subject_type=SUBJECT[kind],
                         subject_id=item_id, at=now, actor_id=None, after={"retention_days": retention_days})
        erased += len(done)
    session.execute(delete(PublicFormAttempt).where(PublicFormAttempt.at < now - ATTEMPTS_KEPT))
    return erased
