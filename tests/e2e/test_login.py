"""In a real browser: a dispatcher signs in, sees their screens and a call's story, and signs out."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy.orm import Session, sessionmaker

from heart.auth.models import Role
from heart.db import transaction, utcnow
from heart.triage.service import triage_call
from tests import factories
from tests.conftest import PASSWORD, Account, LiveServer

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
              pytest.mark.usefixtures("all_day_policy")]


def sign_in(page: Page, server: LiveServer, account: Account, path: str = "/") -> None:
    page.goto(server.url + path)
    expect(page.get_by_role("heading", name="Sign in to HEART")).to_be_visible()
    page.get_by_label("Username").fill(account.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_a_dispatcher_signs_in_opens_a_call_and_signs_out(
    page: Page, live_server: LiveServer, make_user: Callable[..., Account], sessions: sessionmaker[Session]
) -> None:
    now = utcnow()
    with transaction(sessions) as session:
        factories.program(session, "CRT", now=now)
        call = factories.call(session, now=now, nature_code="CHECK WELFARE", address="101 City Hall Plaza")
        triage_call(session=session, call_id=call.id, now=now, actor_id=None)
        call_id = call.id
    account = make_user(Role.DISPATCHER)

    sign_in(page, live_server, account, path=f"/calls/{call_id}")
    expect(page.locator("#pathway")).to_have_text("CRT")
    expect(page.get_by_text("every safety question was answered")).to_be_visible()
    page.get_by_role("link", name="Calls", exact=True).click()
    expect(page.get_by_role("cell", name="CHECK WELFARE")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in to HEART")).to_be_visible()
    page.goto(live_server.url + "/calls")
    expect(page.get_by_role("heading", name="Sign in to HEART")).to_be_visible()


def test_a_wrong_password_keeps_you_on_the_sign_in_page(
    page: Page, live_server: LiveServer, make_user: Callable[..., Account]
) -> None:
    account = make_user(Role.ANALYST)
    page.goto(live_server.url + "/login")
    page.get_by_label("Username").fill(account.username)
    page.get_by_label("Password").fill("not the password")
    page.keyboard.press("Enter")
    expect(page.get_by_role("alert")).to_have_text("Wrong username or password.")


def test_a_call_taker_enters_a_call_with_the_keyboard_and_sees_where_it_goes(
    page: Page, live_server: LiveServer, make_user: Callable[..., Account], sessions: sessionmaker[Session]
) -> None:
    with transaction(sessions) as session:
        factories.program(session, "CRT", now=utcnow())
    sign_in(page, live_server, make_user(Role.CALL_TAKER), path="/calls/new")
    page.get_by_label("Call type").fill("SUICIDAL SUBJECT")
    page.get_by_label("Priority").select_option("2")
    weapon = page.get_by_role("group", name="weapon")
    weapon.get_by_label("yes").check()
    page.get_by_role("button", name="Save and triage").click()
    expect(page.locator("#pathway")).not_to_have_text("CRT")
    expect(page.get_by_role("group", name="weapon").get_by_label("yes")).to_be_checked()


def test_a_form_on_another_site_cannot_sign_the_browser_in(
    page: Page, live_server: LiveServer, make_user: Callable[..., Account]
) -> None:
    attackers = make_user(Role.DISPATCHER)  # a real account: signing the victim into it is the attack
    page.goto(live_server.url + "/login")  # the victim's browser already holds HEART's sign-in form cookie
    form = (f'<form method="post" action="{live_server.url}/login">'
            f'<input name="username" value="{attackers.username}"><input name="password" value="{PASSWORD}">'
            '<input name="csrf_token" value="guessed.00000000000000000000000000000000">'
            '<button>Win a prize</button></form>')
    page.route("http://prizes.example/**", lambda route: route.fulfill(content_type="text/html", body=form))
    page.goto("http://prizes.example/")
    page.get_by_role("button", name="Win a prize").click()
    expect(page.get_by_role("alert")).to_contain_text("did not come from HEART")
    page.goto(live_server.url + "/")
    expect(page.get_by_role("heading", name="Sign in to HEART")).to_be_visible()  # not signed in as anyone
