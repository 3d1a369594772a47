"""Signing out ends everything in the browser too: Back shows nothing of the call (pages are never stored), and a
board left open elsewhere leaves for the sign-in page as soon as its sign-in ends."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy.orm import Session, sessionmaker

from heart.auth.models import Role
from heart.config import Settings
from heart.db import transaction
from heart.dispatch import service
from heart.realtime import lease
from tests.conftest import PASSWORD, Account, LiveServer
from tests.dispatch.scenario import world

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]
ADDRESS = "101 City Hall Plaza"
SUMMARY = "Neighbor in distress outside the library"


@pytest.fixture
def app_settings(database_url: str) -> Settings:
    return Settings(env="test", database_url=database_url, cookie_secure=False, map_tiles_url="")


def _call_for_crt_1(sessions: sessionmaker[Session]) -> int:
    w = world(sessions, "CRT")
    unit_id = w.add_unit("CRT", "CRT-1")
    call_id = w.add_call(address=ADDRESS, summary=SUMMARY)
    with transaction(sessions) as session:
        service.assign_unit(session=session, call_id=call_id, unit_id=unit_id, at=w.now, now=w.now, by=w.dispatcher)
    return unit_id


def test_after_signing_out_back_does_not_show_the_responders_call(
    browser: Browser, live_server: LiveServer, make_user: Callable[..., Account], sessions: sessionmaker[Session],
) -> None:
    crew = make_user(Role.RESPONDER, unit_id=_call_for_crt_1(sessions))
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        page.goto(f"{live_server.url}/login?next=/responder")
        page.get_by_label("Username").fill(crew.username)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_text(ADDRESS)).to_be_visible()
        expect(page.get_by_text(SUMMARY)).to_be_visible()

        page.get_by_role("button", name="Sign out").click()
        expect(page.get_by_role("heading", name="Sign in to HEART")).to_be_visible()
        page.go_back()
        page.wait_for_load_state("load")
        expect(page.get_by_role("heading", name="Sign in to HEART")).to_be_visible()
        assert ADDRESS not in page.content() and SUMMARY not in page.content()
        page.go_back()  # the sign-in page before it: still nothing of the call
        page.wait_for_load_state("load")
        assert ADDRESS not in page.content() and SUMMARY not in page.content()
    finally:
        context.close()


def test_an_open_board_leaves_for_the_sign_in_page_when_its_user_signs_out_elsewhere(
    browser: Browser, live_server: LiveServer, make_user: Callable[..., Account], sessions: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(lease, "CHECK_SECONDS", 1.0)
    _call_for_crt_1(sessions)
    dispatcher = make_user(Role.DISPATCHER)
    context = browser.new_context()
    board, other_tab = context.new_page(), context.new_page()
    board.set_default_timeout(10_000)
    try:
        board.goto(f"{live_server.url}/login?next=/dispatch")
        board.get_by_label("Username").fill(dispatcher.username)
        board.get_by_label("Password").fill(PASSWORD)
        board.get_by_role("button", name="Sign in").click()
        expect(board.locator("#live")).to_have_attribute("data-state", "live")
        expect(board.locator("#units")).to_contain_text("CRT-1")

        other_tab.goto(f"{live_server.url}/")
        other_tab.get_by_role("button", name="Sign out").click()
        board.wait_for_url(f"{live_server.url}/login?next=%2Fdispatch", timeout=5_000)
        expect(board.get_by_role("heading", name="Sign in to HEART")).to_be_visible()
        assert "CRT-1" not in board.content()
    finally:
        context.close()
