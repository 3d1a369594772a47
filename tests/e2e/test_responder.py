"""A responder works a call from a phone-sized screen: en route → on scene → transporting → clear with
outcomes; a double tap writes once; a backup request reaches the dispatcher's board until acknowledged."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from heart.auth.models import Role
from heart.config import Settings
from heart.db import transaction
from heart.dispatch import service
from heart.dispatch.models import Response
from heart.encounters.models import Encounter
from heart.events import Event
from tests.conftest import PASSWORD, Account, LiveServer
from tests.dispatch.scenario import World, world
from tests.e2e.test_board import open_board

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 3}


@pytest.fixture
def app_settings(database_url: str) -> Settings:
    return Settings(env="test", database_url=database_url, cookie_secure=False, map_tiles_url="")


def _events(sessions: sessionmaker[Session], kind: str) -> int:
    with sessions() as session:
        return int(session.scalar(select(func.count()).select_from(Event).where(Event.kind == kind)) or 0)


def _phone(browser: Browser, server: LiveServer, account: Account) -> Page:
    context = browser.new_context(**PHONE)  # type: ignore[arg-type]
    context.route("**/*", lambda route: route.continue_() if route.request.url.startswith(server.url)
                  else route.abort())
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(f"{server.url}/login?next=/responder")
    page.get_by_label("Username").fill(account.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").tap()
    # Until the page's deferred scripts ran, htmx has not taken over its forms: a tap would submit them plainly.
    page.wait_for_url(lambda url: url.startswith(f"{server.url}/responder"), wait_until="load")
    return page


def _scene(sessions: sessionmaker[Session]) -> tuple[World, int, int]:
    w = world(sessions, "CRT")
    w.add_unit("CRT", "CRT-1")
    call_id = w.add_call(address="101 City Hall Plaza", summary="Neighbor in distress outside the library")
    with transaction(sessions) as session:
        response = service.assign_unit(session=session, call_id=call_id, unit_id=w.units["CRT-1"], at=w.now,
                                       now=w.now, by=w.dispatcher)
    return w, call_id, response.id


def test_a_responder_works_a_call_from_en_route_to_clear_on_a_phone(
    live_server: LiveServer, browser: Browser, make_user: Callable[..., Account], sessions: sessionmaker[Session],
) -> None:
    w, call_id, response_id = _scene(sessions)
    phone = _phone(browser, live_server, make_user(Role.RESPONDER, unit_id=w.units["CRT-1"]))
    try:
        expect(phone.get_by_role("heading", name="CRT-1 · dispatched")).to_be_visible()
        expect(phone.get_by_text("101 City Hall Plaza")).to_be_visible()
        safety = phone.get_by_role("region", name="Safety notes")
        expect(safety).to_contain_text("approach with care")  # violent history was never asked
        expect(safety.get_by_role("definition").last).to_have_text("not asked")
        assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")  # no sideways scroll

        phone.get_by_role("button", name="En route").dblclick()  # a double tap
        expect(phone.locator("#response-status")).to_have_text("en route")
        token = phone.locator("form[hx-post$='/on-scene'] input[name=token]").get_attribute("value")
        phone.get_by_role("button", name="On scene").tap()
        expect(phone.locator("#response-status")).to_have_text("on scene")
        # The same tap arriving again over a flaky network (same token) changes nothing.
        retried = phone.request.post(f"{live_server.url}/responder/responses/{response_id}/on-scene",
                                     form={"token": token or ""},
                                     headers={"X-CSRF-Token": _csrf(phone)})
        assert retried.ok
        phone.get_by_role("button", name="Transporting").tap()
        expect(phone.locator("#response-status")).to_have_text("transporting")
        assert _events(sessions, "response.en_route") == 1 and _events(sessions, "response.on_scene") == 1

        outcome = phone.locator("#outcome")
        expect(outcome.get_by_label("Neighbor transported")).to_be_checked()
        outcome.get_by_label("Destination").fill("Durham Recovery Response Center")
        outcome.get_by_label("Disposition").select_option("transported to care")
        outcome.get_by_label("mental health").check()
        outcome.get_by_role("group", name="Consent to follow-up").get_by_label("yes").check()
        outcome.get_by_role("group", name="Did the team feel safe?").get_by_label("yes").check()
        outcome.get_by_label("Narrative").fill("Neighbor agreed to go to the recovery center.")
        outcome.get_by_role("button", name="Clear").tap()
        expect(phone.get_by_role("heading", name="CRT-1 · no current call")).to_be_visible()
        expect(phone.get_by_text("Neighbor agreed to go to the recovery center.")).to_be_visible()
        assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    finally:
        phone.context.close()
    with sessions() as session:
        response = session.get_one(Response, response_id)
        assert response.status == "cleared" and response.transported is True
        assert response.transport_destination == "Durham Recovery Response Center"
        assert response.disposition == "transported to care" and response.pd_backup_for_safety is False
        assert response.team_felt_safe is True
        encounter = session.scalars(select(Encounter).where(Encounter.call_id == call_id)).one()
        assert encounter.needs == ["mental health"] and encounter.consent_to_follow_up is True


def _csrf(page: Page) -> str:
    headers = page.locator("body").get_attribute("hx-headers") or "{}"
    import json

    return str(json.loads(headers)["X-CSRF-Token"])


def test_a_backup_request_alerts_the_board_until_acknowledged_and_a_new_call_reaches_the_phone(
    live_server: LiveServer, browser: Browser, make_user: Callable[..., Account], sessions: sessionmaker[Session],
) -> None:
    w, _, response_id = _scene(sessions)
    phone = _phone(browser, live_server, make_user(Role.RESPONDER, unit_id=w.units["CRT-1"]))
    context, board = open_board(browser, live_server.url, make_user(Role.DISPATCHER))
    try:
        expect(phone.locator("#panel")).to_be_visible()
        started = time.monotonic()
        phone.get_by_role("button", name="Request PD backup").tap()
        expect(board.locator("#alerts")).to_contain_text("CRT-1 asks for PD backup for team safety", timeout=5_000)
        assert time.monotonic() - started < 1.0
        expect(phone.get_by_role("button", name="PD backup requested")).to_be_disabled()
        board.locator("#alerts").get_by_role("button", name="Acknowledge").click()
        expect(board.locator("#alerts")).to_be_empty()
        assert _events(sessions, "alert.acknowledged") == 1

        # The dispatcher calls the unit off and sends it elsewhere: the phone redraws by itself.
        with transaction(sessions) as session:
            from heart.dispatch.schemas import CancelResponse

            service.cancel_response(session=session, response_id=response_id, by=w.dispatcher,
                                    data=CancelResponse(reason="handled by PD"), at=w.now, now=w.now)
        expect(phone.get_by_role("heading", name="CRT-1 · no current call")).to_be_visible()
    finally:
        phone.context.close()
        context.close()
