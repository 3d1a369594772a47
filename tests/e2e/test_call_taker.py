"""In a real browser: the call-taker's screen, with the keyboard alone, and the weapon answer that changes the team.

The screens decide with the real clock, so these tests run the Durham policy with every HEART program open
around the clock (``write_all_day_policy``, through HEART_POLICIES_DIR and HEART_PROGRAMS_FILE, which the
in-process server reads on each request); the hours themselves are tested with fixed times in tests/triage.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect
from sqlalchemy.orm import Session, sessionmaker

from heart.auth.models import Role
from heart.db import transaction, utcnow
from tests import factories
from tests.conftest import PASSWORD, Account, LiveServer, sign_in_page
from tests.factories import all_day_env, write_all_day_policy

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]


@pytest.fixture(autouse=True)
def all_day(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in all_day_env(write_all_day_policy(tmp_path / "policies")).items():
        monkeypatch.setenv(name, value)


def tab_to(page: Page, target: Locator, *, limit: int = 40) -> None:
    """Press Tab until ``target`` has the focus: it must be reachable in the page's focus order."""
    for _ in range(limit):
        if target.evaluate("element => element === document.activeElement"):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"{target} was not reached with {limit} presses of Tab")


def answer(page: Page, question: str, choice: str) -> None:
    """Tab to a question's radio group and pick an answer with the arrow keys."""
    group = page.get_by_role("group", name=question)
    tab_to(page, group.locator("input:checked"))
    for _ in range(3):
        if group.get_by_label(choice, exact=True).is_checked():
            return
        page.keyboard.press("ArrowLeft")
    expect(group.get_by_label(choice, exact=True)).to_be_checked()


def test_a_call_goes_from_entry_to_dispatch_with_the_keyboard_alone(
    page: Page, live_server: LiveServer, make_user: Callable[..., Account], sessions: sessionmaker[Session]
) -> None:
    now = utcnow()
    with transaction(sessions) as session:
        crt = factories.program(session, "CRT", now=now)
        factories.unit(session, crt, "CRT-1", now=now)
    account = make_user(Role.CALL_TAKER)
    page.goto(live_server.url + "/calls/new")
    expect(page.get_by_label("Username")).to_be_focused()
    page.keyboard.type(account.username)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", name="New call")).to_be_visible()
    expect(page.get_by_label("Call type")).to_be_focused()
    page.keyboard.type("CHECK WELFARE")
    tab_to(page, page.get_by_label("Priority"))
    page.keyboard.press("3")
    tab_to(page, page.get_by_label("Location"))
    page.keyboard.type("101 City Hall Plaza")
    for question in ("weapon", "medical intervention", "imminent risk to others"):
        answer(page, question, "no")
    expect(page.locator("#recommended-pathway")).to_have_text("CRT")
    answer(page, "phone ok", "no")
    expect(page.locator("#recommendation")).not_to_contain_text("Answering these could change it")
    tab_to(page, page.get_by_role("button", name="Save and triage"))
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", name="Triage · call")).to_be_visible()
    expect(page.locator("#pathway")).to_have_text("CRT")
    hand_off = page.get_by_role("button", name="Hand to dispatch: CRT")
    expect(hand_off).to_be_focused()  # the next step is where the keyboard already is
    page.keyboard.press("Enter")

    expect(page.locator("#call-status")).to_have_text("triaged")
    expect(page.get_by_text("Handed to dispatch · → CRT")).to_be_visible()
    expect(page.get_by_text("101 City Hall Plaza")).to_be_visible()


def test_a_weapon_moves_a_suicide_threat_from_crt_to_co_response(
    page: Page, live_server: LiveServer, make_user: Callable[..., Account]
) -> None:
    account = make_user(Role.CALL_TAKER)
    sign_in_page(page, live_server.url, account, "/calls/new")

    page.get_by_label("Call type").fill("SUICIDE THREAT")
    page.get_by_label("Priority").select_option("2")
    for question in ("weapon", "medical intervention", "imminent risk to others"):
        page.get_by_role("group", name=question).get_by_label("no", exact=True).check()
    recommendation = page.locator("#recommended-pathway")
    expect(recommendation).to_have_text("CRT")
    expect(page.locator("#recommended-reasons")).to_contain_text("Community Response Team serves this kind of call")

    page.get_by_role("group", name="weapon").get_by_label("yes", exact=True).check()
    expect(recommendation).to_have_text("COR")
    expect(page.locator("#recommended-reasons")).to_contain_text("goes to Co-Response")

    page.get_by_role("button", name="Save and triage").click()
    expect(page.locator("#pathway")).to_have_text("COR")
    expect(page.get_by_role("button", name="Hand to dispatch: COR")).to_be_visible()
