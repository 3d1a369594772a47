"""The screens over HTTP: the responder's warm handoff lands in the navigators' queue at once; the navigator works a
follow-up with plain forms; a CCD clinician hands off a phone contact; what neighbors say is escaped."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from heart.auth.models import Role
from heart.db import transaction, utcnow
from heart.dispatch import service as dispatch
from heart.navigation.followups.models import FollowUp, FollowUpStatus, Referral, ReferralStatus
from heart.neighbors.models import Neighbor
from heart.triage.service import resolve_by_phone, triage_call
from tests import factories
from tests.conftest import Account, login
from tests.dispatch.scenario import always_open
from tests.navigation.followups.care import Care, a_service, care_world

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
HANDOFF = {"handoff_first_name": "Marisol", "handoff_last_name": "Okafor-Reyes", "handoff_phone": "919-555-0177",
           "handoff_contact_method": "text", "handoff_contact_times": "after 3 pm", "handoff_language": "Spanish",
           "handoff_note": "Needs a bed tonight; has a small dog."}


@pytest.fixture
def care(sessions: sessionmaker[Session]) -> Care:
    return care_world(sessions, now=utcnow() - timedelta(minutes=5))


def sign_in(client: TestClient, make_user: Callable[..., Account], role: Role, **extra: object) -> Account:
    account = make_user(role, **extra)
    client.cookies.clear()
    login(client, account.username)
    return account


def on_scene(care: Care) -> tuple[int, int]:
    call_id = care.w.add_call(when=utcnow() - timedelta(minutes=30), address="300 W Main St")
    with transaction(care.sessions) as session:
        response = dispatch.assign_unit(session=session, call_id=call_id, unit_id=care.w.units["CRT-1"],
                                        at=utcnow() - timedelta(minutes=25), now=utcnow(), by=care.w.dispatcher)
        dispatch.mark_on_scene(session=session, response_id=response.id, at=utcnow() - timedelta(minutes=10),
                               now=utcnow(), by=care.w.dispatcher)
        return call_id, response.id


def test_the_responders_handoff_is_in_the_navigators_queue_at_once(
    client: TestClient, make_user: Callable[..., Account], care: Care, sessions: sessionmaker[Session],
) -> None:
    _, response_id = on_scene(care)
    sign_in(client, make_user, Role.RESPONDER, unit_id=care.w.units["CRT-1"])
    form = client.get("/responder").text
    assert 'name="handoff_first_name"' in form and 'value="safety planning"' in form  # the city's needs
    no_consent = client.post(f"/responder/responses/{response_id}/clear", data={
        "token": "clear-0001", "disposition": "resolved on scene", "team_felt_safe": "yes",
        "consent_to_follow_up": "false", **HANDOFF})
    assert no_consent.status_code == 422 and "only when the neighbor consents" in no_consent.text
    bad_date = client.post(f"/responder/responses/{response_id}/clear", data={
        "token": "clear-0002", "disposition": "resolved on scene", "team_felt_safe": "yes",
        "consent_to_follow_up": "true", **HANDOFF,
        "handoff_date_of_birth": "1850-01-01"})
    assert bad_date.status_code == 422 and "Date of birth" in bad_date.text
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Neighbor)) == 0
    cleared = client.post(f"/responder/responses/{response_id}/clear", data={
        "token": "clear-0003", "disposition": "referred to services", "team_felt_safe": "yes",
        "consent_to_follow_up": "true",
        "needs": ["housing", "food"], **HANDOFF})
    assert cleared.status_code == 200 and "no current call" in cleared.text
    sign_in(client, make_user, Role.NAVIGATOR)
    home = client.get("/").text
    assert home.index('href="/follow-ups"') < home.index('href="/resources"')
    queue = client.get("/follow-ups")
    assert queue.status_code == 200
    assert "Marisol Okafor-Reyes" in queue.text and "Due in 1 d 23 h" in queue.text
    assert "Housing" in queue.text and "best by text message" in queue.text


def test_a_navigator_works_a_follow_up_to_a_completed_referral(
    client: TestClient, make_user: Callable[..., Account], care: Care, sessions: sessionmaker[Session],
) -> None:
    follow_up = care.clear_with()
    assert follow_up is not None
    sign_in(client, make_user, Role.NAVIGATOR)
    page = f"/follow-ups/{follow_up.id}"
    shown = client.get(page).text
    assert "Referrals come after the neighbor is reached" in shown and "Close with" not in shown

    def post(path: str, **data: object) -> str:
        answer = client.post(f"{page}{path}", data=data, follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"] == page, answer.text
        return client.get(page).text

    early = client.post(f"{page}/close", data={"outcome": "unreachable"})
    assert early.status_code == 409 and "has 0 contact attempts" in early.text
    after = post("/attempts", method="phone", result="no_answer", token="attempt-00001")
    assert "No answer" in after and "Awaiting first contact" in after
    after = post("/attempts", method="phone", result="reached", token="attempt-00002")
    assert "In contact" in after and "Close with" in after
    shelter = a_service(sessions, "shelter")
    assert f'value="housing::{shelter.id}"' in after  # services meeting the follow-up's needs
    refused = client.post(f"{page}/referrals", data={"choice": f"housing::{shelter.id}", "token": "referral-0001"})
    assert refused.status_code == 409 and "has not consented to share" in refused.text
    after = post("/referrals", choice=f"housing::{shelter.id}", token="referral-0002", consent_to_share="true")
    assert shelter.name in after
    with sessions() as session:
        referral = session.scalars(select(Referral)).one()
    for status in ("accepted", "completed"):
        after = post(f"/referrals/{referral.id}/status", status=status)
    assert "completed" in after and "accepted" in after
    after = post("/notes", text="Bed confirmed for tonight.", token="note-000001")
    assert "Bed confirmed for tonight." in after
    after = post("/close", outcome="connected")
    assert "Closed: Connected to services" in after
    with sessions() as session:
        row = session.get_one(FollowUp, follow_up.id)
        assert row.status == FollowUpStatus.CLOSED and row.outcome == "connected"
        assert session.get_one(Referral, referral.id).status == ReferralStatus.COMPLETED
    assert "Connected to services" in client.get("/follow-ups").text  # closed this week, still listed


def test_a_ccd_clinician_hands_off_a_phone_contact(
    client: TestClient, make_user: Callable[..., Account], care: Care, sessions: sessionmaker[Session],
) -> None:
    with transaction(sessions) as session:
        call = factories.call(session, now=utcnow(), screening={**factories.SAFE_SCREENING, "phone_ok": "yes"})
        decision = triage_call(session=session, call_id=call.id, now=utcnow(), actor_id=None, policy=always_open())
        assert decision.pathway == "CCD"
        resolve_by_phone(session=session, call_id=call.id, outcome="referred", now=utcnow(), actor_id=None,
                         policy=always_open())
        call_id = call.id
    sign_in(client, make_user, Role.CALL_TAKER)
    assert 'id="handoff-link"' in client.get(f"/calls/{call_id}").text
    form = client.get(f"/calls/{call_id}/handoff")
    assert form.status_code == 200 and 'name="consent_to_follow_up"' in form.text
    refused = client.post(f"/calls/{call_id}/handoff", data={"handoff_first_name": "Tomas"})
    assert refused.status_code == 422 and "needs the neighbor&#39;s consent" in refused.text
    done = client.post(f"/calls/{call_id}/handoff", data={"consent_to_follow_up": "true", "needs": ["food"],
                                                          "handoff_first_name": "Tomas", "handoff_phone": "555-0100"})
    assert done.status_code == 200 and "in the navigators' queue" in done.text
    again = client.post(f"/api/calls/{call_id}/handoff", json={"consent_to_follow_up": True,
                                                               "handoff": {"first_name": "Tomas"}},
                        headers={"X-CSRF-Token": client.headers.get("X-CSRF-Token", "")})
    assert again.status_code == 201
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(FollowUp)) == 1  # handed off once
        row = session.scalars(select(FollowUp)).one()
        assert row.due_at - row.opened_at == timedelta(hours=48)


def test_what_neighbors_say_is_shown_as_text(
    client: TestClient, make_user: Callable[..., Account], care: Care,
) -> None:
    from heart.navigation.followups.schemas import Handoff

    follow_up = care.clear_with(handoff=Handoff(first_name="<script>alert(1)</script>", contact_times="<b>now</b>",
                                                note='<img src=x onerror="alert(2)">'))
    assert follow_up is not None
    sign_in(client, make_user, Role.NAVIGATOR)
    for path in ("/follow-ups", f"/follow-ups/{follow_up.id}", f"/neighbors/{follow_up.neighbor_id}"):
        body = client.get(path).text
        assert "<script>alert(1)" not in body and "<b>now</b>" not in body and "<img src=x" not in body, path
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body, path


def test_a_navigator_corrects_the_record_and_the_neighbor_withdraws_consent(
    client: TestClient, make_user: Callable[..., Account], care: Care, sessions: sessionmaker[Session],
) -> None:
    from heart.events import Event

    follow_up = care.clear_with()
    assert follow_up is not None
    sign_in(client, make_user, Role.NAVIGATOR)
    page = f"/neighbors/{follow_up.neighbor_id}"
    form = {"first_name": "Rosalind", "last_name": "Quennell-Marsh", "aliases": "Roz, Rosie", "phone": "919-555-0188",
            "contact_method": "text", "contact_times": "weekday mornings", "language": "Spanish",
            "pronouns": "she/her", "date_of_birth": "", "address": ""}
    bad = client.post(page, data={**form, "date_of_birth": "2999-01-01"})
    assert bad.status_code == 422 and "date of birth" in bad.text
    saved = client.post(page, data=form, follow_redirects=False)
    assert saved.status_code == 303
    shown = client.get(page).text
    assert "919-555-0188" in shown and "Roz, Rosie" in shown and "Text message" in shown
    with sessions() as session:
        changed = session.scalars(select(Event).where(Event.kind == "neighbor.updated")).one()
        assert changed.after == {"fields": ["aliases", "contact_method", "phone"]}  # names of fields, no values
    consent = client.post(f"{page}/consents", data={"purpose": "share_with_provider"})
    assert consent.status_code == 422 and "names the provider" in consent.text
    assert client.post(f"{page}/consents", data={"purpose": "share_with_provider",
                                                 "provider_name": "Lincoln Community Health Center"},
                       follow_redirects=False).status_code == 303
    withdrawn = client.post(f"{page}/consents/{follow_up.consent_id}/withdraw", follow_redirects=False)
    assert withdrawn.status_code == 303
    shown = client.get(page).text
    assert "Consent withdrawn (follow up)" in shown and "Lincoln Community Health Center" in shown
    with sessions() as session:
        row = session.get_one(FollowUp, follow_up.id)
        assert row.status == FollowUpStatus.CLOSED and row.outcome == "consent_withdrawn"
