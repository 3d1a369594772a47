"""The staff's queue (/engagement): supervisors and administrators work requests through their statuses, other roles
may not see them; a status moves only along new → contacted → scheduled / declined / done; the purge erases contact
details once an item has been closed longer than the retention, and the job runs with the app."""

from __future__ import annotations

import html
from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from heart.auth.models import Role
from heart.db import transaction, utcnow
from heart.events import Event
from heart.live import run_job
from heart.public import scheduled
from heart.public.models import EngagementRequest, InterestSignup, PublicFormAttempt, RequestStatus
from heart.public.service import purge_contact_details
from tests.public.test_forms import EMAIL, NAME, PLACE, event, send, signup


def csrf(client: TestClient) -> str:
    return client.headers["X-CSRF-Token"]


def move(client: TestClient, kind: str, item_id: int, status: str) -> int:
    answer = client.post(f"/engagement/{kind}/{item_id}/status", data={"status": status, "csrf_token": csrf(client)},
                         headers={"content-type": "application/x-www-form-urlencoded"}, follow_redirects=False)
    return answer.status_code


def test_a_supervisor_works_a_request_from_new_to_done(
    client: TestClient, signed_in: Callable[..., TestClient], sessions: sessionmaker[Session],
) -> None:
    assert send(client, "/public/request-event", event()).status_code == 303
    assert send(client, "/public/volunteer", signup()).status_code == 303
    with sessions() as session:
        item_id = session.scalars(select(EngagementRequest.id)).one()
        signup_id = session.scalars(select(InterestSignup.id)).one()
    staff = signed_in(Role.SUPERVISOR)
    queue = staff.get("/engagement")
    assert queue.status_code == 200
    assert NAME in html.unescape(queue.text) and EMAIL in queue.text and PLACE in html.unescape(queue.text)
    assert "Helping at community events" in queue.text  # the sign-up's interests in the city's words
    assert move(staff, "event", item_id, "done") == 409  # not from new
    assert "can become contacted, declined, not done" in html.unescape(
        staff.post(f"/engagement/event/{item_id}/status", data={"status": "done", "csrf_token": csrf(staff)}).text)
    for status in ("contacted", "scheduled", "done"):
        assert move(staff, "event", item_id, status) == 303
    assert move(staff, "event", item_id, "contacted") == 409  # closed stays closed
    assert move(staff, "volunteer", signup_id, "contacted") == 303
    assert move(staff, "volunteer", signup_id, "sideways") == 422
    assert move(staff, "volunteer", 999_999, "contacted") == 404
    with sessions() as session:
        done = session.get_one(EngagementRequest, item_id)
        assert done.status == RequestStatus.DONE and done.closed_at is not None
        changes = session.scalars(select(Event).where(Event.kind == "engagement.status_changed",
                                                      Event.subject_type == "engagement_request",
                                                      Event.subject_id == item_id).order_by(Event.id)).all()
    assert [(e.before, e.after) for e in changes] == [
        ({"status": "new"}, {"status": "contacted"}), ({"status": "contacted"}, {"status": "scheduled"}),
        ({"status": "scheduled"}, {"status": "done"})]
    assert f'data-item="event-{item_id}"' not in staff.get("/engagement").text  # closed: off the open queue
    assert f'data-item="event-{item_id}"' in staff.get("/engagement?show=all").text


@pytest.mark.parametrize("role", [Role.ANALYST, Role.RESPONDER, Role.NAVIGATOR, Role.DISPATCHER])
def test_other_roles_may_not_see_or_move_requests(
    client: TestClient, signed_in: Callable[..., TestClient], role: Role,
) -> None:
    assert send(client, "/public/request-event", event()).status_code == 303
    other = signed_in(role)
    page = other.get("/engagement")
    assert page.status_code == 403 and NAME not in page.text
    assert move(other, "event", 1, "contacted") == 403


def test_without_its_csrf_token_a_move_is_refused(client: TestClient, signed_in: Callable[..., TestClient]) -> None:
    assert send(client, "/public/request-event", event()).status_code == 303
    staff = signed_in(Role.ADMIN)
    del staff.headers["X-CSRF-Token"]
    assert staff.post("/engagement/event/1/status", data={"status": "contacted"}).status_code == 403
    client.cookies.clear()
    assert client.get("/engagement", headers={"accept": "text/html"}, follow_redirects=False).status_code == 303


def test_the_purge_erases_contact_details_closed_longer_than_the_retention(
    client: TestClient, signed_in: Callable[..., TestClient], sessions: sessionmaker[Session],
) -> None:
    for _ in range(3):
        assert send(client, "/public/request-event", event()).status_code == 303
    staff = signed_in(Role.SUPERVISOR)
    assert move(staff, "event", 1, "declined") == 303
    assert move(staff, "event", 2, "contacted") == 303  # open: kept however old
    retention = client.app.state.settings.engagement_retention_days  # type: ignore[attr-defined]
    factory = client.app.state.sessionmaker  # type: ignore[attr-defined]
    (job,) = scheduled.jobs(client.app.state.settings)  # type: ignore[attr-defined]
    now = utcnow()
    run_job(factory, job, now=lambda: now + timedelta(days=retention - 1))  # not yet
    with sessions() as session:
        assert session.get_one(EngagementRequest, 1).name == NAME
    run_job(factory, job, now=lambda: now + timedelta(days=retention + 1))
    with sessions() as session:
        erased = session.get_one(EngagementRequest, 1)
        assert (erased.name, erased.email, erased.phone, erased.message, erased.organization, erased.place) == (
            None, None, None, None, None, None)
        assert erased.purged_at is not None and erased.status == RequestStatus.DECLINED and erased.event_date
        assert session.get_one(EngagementRequest, 2).name == NAME and session.get_one(EngagementRequest, 3).email
        assert session.scalars(select(PublicFormAttempt)).all() == []  # the rate tally is kept a day
        purged = session.scalars(select(Event).where(Event.kind == "engagement.contact_purged")).all()
    assert [(e.subject_id, e.after) for e in purged] == [(1, {"retention_days": retention})]
    queue = html.unescape(staff.get("/engagement?show=all").text)
    assert "erased" in queue
    with transaction(sessions) as session:  # a second pass changes nothing
        assert purge_contact_details(session=session, now=now + timedelta(days=retention + 2),
                                     retention_days=retention) == 0


def test_the_database_refuses_a_purged_row_that_keeps_a_contact_detail(sessions: sessionmaker[Session]) -> None:
    now = utcnow()
    with pytest.raises(IntegrityError), transaction(sessions) as session:
        session.add(InterestSignup(received_at=now, status_changed_at=now, status=RequestStatus.DONE, closed_at=now,
                                   purged_at=now, email="left@example.org", interests="events"))


def test_contact_details_reach_no_log_line(
    client: TestClient, signed_in: Callable[..., TestClient], caplog: pytest.LogCaptureFixture,
) -> None:
    import logging

    with caplog.at_level(logging.DEBUG):
        assert send(client, "/public/request-event", event()).status_code == 303
        assert send(client, "/public/request-event", event(email="broken")).status_code == 422
        staff = signed_in(Role.SUPERVISOR)
        assert move(staff, "event", 1, "contacted") == 303
        staff.get("/engagement")
    logged = "\n".join(record.getMessage() for record in caplog.records)
    for personal in (NAME, EMAIL, PLACE, "Theo", "broken"):
        assert personal not in logged
