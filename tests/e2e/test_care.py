"""From the responder's warm handoff to a completed referral, in a real browser: a responder clears a call on a
phone with the neighbor's consent; a navigator finds the follow-up in the queue, reaches the neighbor and refers them
to a service of the imported demo directory; the provider accepts and completes; the navigator closes the loop."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from heart.auth.models import Role
from heart.db import transaction, utcnow
from heart.dispatch import service as dispatch
from heart.navigation.followups.models import FollowUp, FollowUpStatus, Referral, ReferralStatus
from heart.neighbors.models import NeighborRead
from tests.conftest import PASSWORD, Account, LiveServer
from tests.e2e.test_responder import PHONE
from tests.navigation.followups.care import a_service, care_world

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]
LAPTOP = {"viewport": {"width": 1280, "height": 900}}


def _signed_in(browser: Browser, server: LiveServer, account: Account, path: str, device: dict[str, object]) -> Page:
    context = browser.new_context(**device)  # type: ignore[arg-type]
    context.route("**/*", lambda route: route.continue_() if route.request.url.startswith(server.url)
                  else route.abort())
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(f"{server.url}/login?next={path}")
    page.get_by_label("Username").fill(account.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: url.startswith(f"{server.url}{path}"), wait_until="load")
    return page


def test_a_navigator_works_the_queue_from_a_responders_handoff_to_a_completed_referral(
    live_server: LiveServer, browser: Browser, make_user: Callable[..., Account], sessions: sessionmaker[Session],
) -> None:
    care = care_world(sessions, now=utcnow() - timedelta(minutes=30))
    call_id = care.w.add_call(when=utcnow() - timedelta(minutes=20), address="300 W Main St")
    with transaction(sessions) as session:
        response = dispatch.assign_unit(session=session, call_id=call_id, unit_id=care.w.units["CRT-1"],
                                        at=utcnow() - timedelta(minutes=15), now=utcnow(), by=care.w.dispatcher)
        dispatch.mark_on_scene(session=session, response_id=response.id, at=utcnow() - timedelta(minutes=5),
                               now=utcnow(), by=care.w.dispatcher)
    shelter = a_service(sessions, "shelter")

    phone = _signed_in(browser, live_server, make_user(Role.RESPONDER, unit_id=care.w.units["CRT-1"]), "/responder",
                       PHONE)
    try:
        outcome = phone.locator("#outcome")
        outcome.get_by_label("Disposition").select_option("referred to services")
        outcome.get_by_label("housing").check()
        outcome.get_by_role("group", name="Did the team feel safe?").get_by_label("yes").check()
        outcome.get_by_role("group", name="Consent to follow-up").get_by_label("yes").check()
        handoff = outcome.get_by_role("group", name="Warm handoff to Care Navigation")
        handoff.get_by_label("First name").fill("Marisol")
        handoff.get_by_label("Last name").fill("Okafor-Reyes")
        handoff.get_by_label("Phone").fill("919-555-0177")
        handoff.get_by_label("Best way to reach").select_option("phone")
        handoff.get_by_label("Best time to reach").fill("after 3 pm")
        handoff.get_by_label("For the navigator").fill("Needs a bed tonight; has a small dog.")
        assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        outcome.get_by_role("button", name="Clear").tap()
        expect(phone.get_by_role("heading", name="CRT-1 · no current call")).to_be_visible()
    finally:
        phone.context.close()

    navigator = make_user(Role.NAVIGATOR)
    laptop = _signed_in(browser, live_server, navigator, "/", LAPTOP)
    try:
        laptop.get_by_role("link", name="Follow-ups").first.click()
        awaiting = laptop.locator("#awaiting")
        expect(awaiting).to_contain_text("Marisol Okafor-Reyes")
        expect(awaiting).to_contain_text("Due in 1 d 23 h")
        awaiting.get_by_role("link", name="Marisol Okafor-Reyes").click()
        expect(laptop.locator("#follow-up-status")).to_have_text("Awaiting first contact")
        expect(laptop.locator("#notes")).to_contain_text("Needs a bed tonight; has a small dog.")

        attempts = laptop.get_by_role("form", name="Record a contact attempt")
        attempts.get_by_label("Result").select_option("no_answer")
        attempts.get_by_role("button", name="Record attempt").click()
        expect(laptop.locator("#attempts")).to_contain_text("No answer")
        attempts = laptop.get_by_role("form", name="Record a contact attempt")
        attempts.get_by_label("Result").select_option("reached")
        attempts.get_by_role("button", name="Record attempt").click()
        expect(laptop.locator("#follow-up-status")).to_have_text("In contact")

        referral = laptop.get_by_role("form", name="Make a referral")
        referral.get_by_label("Refer to a service").select_option(f"housing::{shelter.id}")
        referral.get_by_label("The neighbor agrees that we share their details").check()
        referral.get_by_role("button", name="Make referral").click()
        made = laptop.locator("#referrals li").first
        expect(made).to_contain_text(shelter.name)
        expect(made).to_contain_text("made")
        made.get_by_role("button", name="Accepted").click()
        expect(laptop.locator("#referrals li").first).to_contain_text("accepted")
        laptop.locator("#referrals li").first.get_by_role("button", name="Completed").click()
        expect(laptop.locator("#referrals li").first.locator(".status-pill")).to_have_text("completed")

        closing = laptop.get_by_role("form", name="Close the follow-up")
        closing.get_by_label("Close with").select_option("connected")
        closing.get_by_role("button", name="Close follow-up").click()
        expect(laptop.locator("#follow-up-status")).to_have_text("Closed: Connected to services")
        laptop.get_by_role("link", name="neighbor's record").click()
        expect(laptop.locator("#timeline")).to_contain_text(f"Referral to {shelter.name}: completed")
    finally:
        laptop.context.close()

    with sessions() as session:
        follow_up = session.scalars(select(FollowUp)).one()
        assert follow_up.status == FollowUpStatus.CLOSED and follow_up.outcome == "connected"
        referral_row = session.scalars(select(Referral)).one()
        assert referral_row.status == ReferralStatus.COMPLETED and referral_row.service_id == shelter.id
        assert referral_row.made_at <= referral_row.accepted_at <= referral_row.completed_at  # type: ignore[operator]
        purposes = set(session.scalars(select(NeighborRead.purpose).where(NeighborRead.reader_id ==
                                                                          navigator.user_id)))
        assert purposes == {"follow-up queue", "follow-up page", "neighbor page"}
