"""Riverton end to end in a real browser, unchanged code: a call-taker enters a call in Riverton's words and the
policy recommends its around-the-clock Mobile Crisis Team; a dispatcher assigns MOBILE-1 on the board; the crew
taps through on a phone and clears; the supervisor's dashboard shows MOBILE's response."""

from __future__ import annotations

import random
import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from heart.auth.models import Role
from heart.config import Settings
from heart.db import transaction, utcnow
from heart.demo.setup import load_demo_configuration, start_open_shifts
from heart.programs.models import Unit
from tests.conftest import PASSWORD, Account, LiveServer, sign_in_page
from tests.e2e.test_board import open_board

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 3}


@pytest.fixture
def riverton(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEART_CITY", "riverton")


@pytest.fixture
def app_settings(database_url: str, riverton: None) -> Settings:
    return Settings(env="test", database_url=database_url, cookie_secure=False, map_tiles_url="")


def _phone(browser: Browser, server: LiveServer, account: Account) -> Page:
    context = browser.new_context(**PHONE)  # type: ignore[arg-type]
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(f"{server.url}/login?next=/responder")
    page.get_by_label("Username").fill(account.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").tap()
    page.wait_for_url(lambda url: url.startswith(f"{server.url}/responder"), wait_until="load")
    return page


def test_a_riverton_call_goes_from_the_call_taker_to_mobile_and_onto_the_dashboard(
    page: Page, browser: Browser, live_server: LiveServer, make_user: Callable[..., Account],
    sessions: sessionmaker[Session],
) -> None:
    assert live_server.settings.timezone == "America/Denver"
    with transaction(sessions) as session:  # Riverton's programs, units and crews; MOBILE works around the clock
        load_demo_configuration(session=session, now=utcnow(), rng=random.Random(3))
        start_open_shifts(session=session, now=utcnow())
        mobile_1 = session.scalars(select(Unit.id).where(Unit.call_sign == "MOBILE-1")).one()

    sign_in_page(page, live_server.url, make_user(Role.CALL_TAKER), "/calls/new")
    page.get_by_label("Call type").fill("PERSON IN CRISIS")
    page.get_by_label("Priority").select_option("3")
    page.get_by_label("Location").fill("200 River Rd")
    for question in ("weapon", "medical emergency", "danger to others", "threatened violence", "line ok"):
        page.get_by_role("group", name=question).get_by_label("no", exact=True).check()
    expect(page.locator("#recommended-pathway")).to_have_text("MOBILE")
    expect(page.locator("#recommended-reasons")).to_contain_text("Mobile Crisis Team")
    page.get_by_role("group", name="weapon").get_by_label("yes", exact=True).check()
    expect(page.locator("#recommended-pathway")).to_have_text("RPD")  # Riverton has no co-response team
    page.get_by_role("group", name="weapon").get_by_label("no", exact=True).check()
    expect(page.locator("#recommended-pathway")).to_have_text("MOBILE")
    page.get_by_role("button", name="Save and triage").click()
    expect(page.locator("#pathway")).to_have_text("MOBILE")
    call_id = int(re.search(r"/calls/(\d+)", page.url).group(1))  # type: ignore[union-attr]
    page.get_by_role("button", name="Hand to dispatch: MOBILE").click()
    expect(page.locator("#call-status")).to_have_text("triaged")

    board_context, board = open_board(browser, live_server.url, make_user(Role.DISPATCHER))
    phone = _phone(browser, live_server, make_user(Role.RESPONDER, unit_id=mobile_1))
    try:
        queued = board.locator(f"#queue-call-{call_id}")
        expect(queued).to_contain_text("PERSON IN CRISIS")
        queued.get_by_role("button", name=re.compile(r"^Assign MOBILE-1")).click()
        expect(board.locator(f"#queue-call-{call_id}")).to_have_count(0)

        expect(phone.get_by_role("heading", name="MOBILE-1 · dispatched")).to_be_visible()
        safety = phone.get_by_role("region", name="Safety notes")
        expect(safety).to_contain_text("Every safety question was answered no")
        phone.get_by_role("button", name="En route").tap()
        expect(phone.locator("#response-status")).to_have_text("en route")
        phone.get_by_role("button", name="On scene").tap()
        expect(phone.locator("#response-status")).to_have_text("on scene")
        outcome = phone.locator("#outcome")
        outcome.get_by_label("Disposition").select_option("transported to crisis center")  # Riverton's words
        outcome.get_by_label("medical check").check()
        outcome.get_by_role("group", name="Did the team feel safe?").get_by_label("yes").check()
        outcome.get_by_role("button", name="Clear").tap()
        expect(phone.get_by_role("heading", name="MOBILE-1 · no current call")).to_be_visible()
    finally:
        phone.context.close()
        board_context.close()

    page.context.clear_cookies()
    sign_in_page(page, live_server.url, make_user(Role.SUPERVISOR), "/metrics")
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    expect(page.locator('[data-program="MOBILE"][data-figure="responses"]')).to_have_text("1")
