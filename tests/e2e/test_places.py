"""In a real browser, at a desk and on a phone: a call typed with a misspelt address lands on the map at the right
place with its beat, the nearest unit is offered first, a second call from the same place is flagged as a possible
duplicate (and the call-taker's decision is recorded), the place's weapon note shows beside the weapon question,
and the responder gets a navigation link to the pin. The map without tiles says so once, with no console error.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from heart.auth.models import Role, User
from heart.calls.callers import Caller
from heart.calls.models import Call
from heart.config import Settings
from heart.db import transaction, utcnow
from heart.dispatch.service import assign_unit
from heart.places.importer import import_addresses
from heart.places.models import AddressPoint, DuplicateFlag
from heart.places.rules import place_rules
from heart.places.service import add_note
from tests import factories
from tests.conftest import Account, LiveServer, sign_in_page
from tests.factories import all_day_env, write_all_day_policy

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]
DESK = {"viewport": {"width": 1400, "height": 1000}}
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}
SIZES = {"desk": DESK, "phone": PHONE}
TARGET = "1209 W Pettigrew St"
TYPED = "1209 west petigrew stret"


@pytest.fixture(autouse=True)
def all_day(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in all_day_env(write_all_day_policy(tmp_path / "policies")).items():
        monkeypatch.setenv(name, value)


@pytest.fixture(params=sorted(SIZES))
def size(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def context_for(browser: Any, size: str) -> Iterator[Callable[[], Page]]:
    contexts: list[Any] = []

    def make() -> Page:
        context = browser.new_context(**SIZES[size])
        contexts.append(context)
        page: Page = context.new_page()
        page.set_default_timeout(10_000)
        return page

    yield make
    for context in contexts:
        context.close()


HTMX_ABORT = ("htmx:sendAbort", "htmx:afterRequest")
"""htmx logs a request it abandons for a newer one (the recommendation's live preview) as an error: not a fault.
A request that failed is caught by its status instead."""


def watch_console(page: Page) -> list[str]:
    """Every console error (but htmx's abandoned requests), uncaught exception and failed request of the page."""
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text)
            if message.type == "error" and not message.text.startswith(HTMX_ABORT) else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("response", lambda answer: errors.append(f"{answer.status} {answer.url}") if answer.status >= 400
            else None)
    return errors


@pytest.fixture
def city(sessions: sessionmaker[Session], make_user: Callable[..., Account],
         app_settings: Settings) -> dict[str, Any]:
    """The demo's Durham address points, two CRT units (one near the place, one far), and a weapon note there."""
    now = utcnow()
    rules = place_rules(app_settings)
    supervisor = make_user(Role.SUPERVISOR)
    with transaction(sessions) as session:
        import_addresses(session=session, path=app_settings.addresses_file, words=rules.geocoding.words,
                         beats_file=app_settings.map_beats_file, now=now)
        point = session.scalars(select(AddressPoint).where(AddressPoint.address == TARGET)).one()
        crt = factories.program(session, "CRT", now=now)
        far = factories.unit(session, crt, "CRT-1", now=now, home=(point.lat + 0.06, point.lon + 0.05))
        near = factories.unit(session, crt, "CRT-2", now=now, home=(point.lat + 0.004, point.lon - 0.003))
        author = session.get_one(User, supervisor.user_id)
        add_note(session=session, lat=point.lat, lon=point.lon, address=TARGET, kind="weapon",
                 text="Handgun seen inside during an earlier visit.", observed_on=(now - timedelta(days=12)).date(),
                 days=None, author=author, now=now - timedelta(days=12), rules=rules)
        return {"lat": point.lat, "lon": point.lon, "beat": point.beat, "near": near.id, "far": far.id}


def type_the_call(page: Page, caller: str | None = None) -> None:
    page.get_by_label("Call type").fill("CHECK WELFARE")
    page.get_by_label("Priority").select_option("3")
    page.get_by_label("Location", exact=True).fill(TYPED)  # misspelt: "west", "petigrew", "stret"
    page.get_by_label("Location", exact=True).press("Enter")  # picks the first match; never submits the call
    if caller:
        page.get_by_label("Caller's name").fill(caller)
        page.get_by_label("Callback number").fill("919-555-0142")


def test_a_misspelt_address_lands_at_the_right_place_and_the_responder_navigates_there(
    context_for: Callable[[], Page], live_server: LiveServer, make_user: Callable[..., Account],
    sessions: sessionmaker[Session], city: dict[str, Any], size: str,
) -> None:
    page = context_for()
    errors = watch_console(page)
    sign_in_page(page, live_server.url, make_user(Role.CALL_TAKER), "/calls/new")
    type_the_call(page, caller="Jordan Caller")

    expect(page.locator("#place-picked")).to_contain_text(f"Matched: {TARGET}")
    expect(page.get_by_label("Location", exact=True)).to_have_value(TARGET)
    expect(page.locator("#place-map .leaflet-marker-icon")).to_have_count(1)  # the pin, draggable
    expect(page.get_by_label("Beat")).to_have_value(city["beat"])
    expect(page.locator("#nearest-units li").first).to_have_attribute("data-unit", "CRT-2")  # nearest first
    weapon = page.get_by_role("group", name="weapon")
    expect(weapon.locator(".place-note")).to_contain_text("Handgun seen inside")
    expect(weapon.locator(".place-note")).to_contain_text("A reason to ask again")
    expect(weapon.locator("input:checked")).to_have_value("unknown")  # a note never answers the question
    expect(page.locator("#place-history")).to_contain_text("No earlier call here")
    for question in ("weapon", "medical intervention", "imminent risk to others"):
        page.get_by_role("group", name=question).get_by_label("no", exact=True).check()
    page.get_by_role("button", name="Save and triage").click()

    expect(page.get_by_role("heading", name="Triage · call")).to_be_visible()
    with sessions() as session:
        call = session.scalars(select(Call).order_by(Call.id.desc())).first()
        assert call is not None and call.lat is not None and call.lon is not None
        assert abs(call.lat - city["lat"]) < 1e-5 and abs(call.lon - city["lon"]) < 1e-5
        assert call.beat == city["beat"]
        assert session.scalar(select(Caller.name).where(Caller.call_id == call.id)) == "Jordan Caller"
        first_id = call.id
    # the triage screen shows the note beside the weapon question too, and the caller
    expect(page.get_by_role("group", name="weapon").locator(".place-note")).to_contain_text("Handgun seen inside")
    expect(page.locator("#caller-line")).to_contain_text("919-555-0142")
    page.get_by_role("button", name="Hand to dispatch: CRT").click()
    expect(page.locator("#call-status")).to_have_text("triaged")

    # a second call from the same place is flagged; the call-taker links it to the first
    page.goto(live_server.url + "/calls/new")
    type_the_call(page)
    duplicate = page.locator(f"#duplicate-{first_id}")
    expect(duplicate).to_contain_text("received 0 min ago")
    duplicate.get_by_label("The same incident: link to it").check()
    for question in ("weapon", "medical intervention", "imminent risk to others"):
        page.get_by_role("group", name=question).get_by_label("no", exact=True).check()
    page.get_by_role("button", name="Save and triage").click()
    expect(page.get_by_role("heading", name="Triage · call")).to_be_visible()
    expect(page.locator("#call-place")).to_contain_text("Linked to")
    with sessions() as session:
        flag = session.scalars(select(DuplicateFlag)).one()
        assert (flag.other_call_id, flag.decision) == (first_id, "linked")
    assert errors == [], errors

    # the dispatcher: the nearest unit is offered first for the first call
    board = context_for()
    board_errors = watch_console(board)
    sign_in_page(board, live_server.url, make_user(Role.DISPATCHER), "/dispatch")
    row = board.locator(f"#queue-call-{first_id}")
    expect(row.locator("button[data-unit]").first).to_have_attribute("data-unit", "CRT-2")
    expect(board.locator("#map-note")).to_have_text(
        "No map tiles are configured: the map shows the city's outline, beats and markers.")
    assert board_errors == []

    # the responder of the nearest unit: navigation to the pin, the note, the callback number (Durham allows it)
    with transaction(sessions) as session:
        now = utcnow()
        dispatcher = session.scalars(select(User).where(User.role == Role.DISPATCHER)).first()
        assign_unit(session=session, call_id=first_id, unit_id=city["near"], at=now, now=now, by=dispatcher)
    phone = context_for()
    phone_errors = watch_console(phone)
    sign_in_page(phone, live_server.url, make_user(Role.RESPONDER, unit_id=city["near"]), "/responder")
    navigate = phone.locator("[data-navigate=maps]")
    expect(navigate).to_have_attribute("href", f"https://www.google.com/maps/dir/?api=1&destination="
                                               f"{city['lat']:.6f},{city['lon']:.6f}")
    expect(phone.locator("[data-navigate=geo]")).to_have_attribute("href", f"geo:{city['lat']:.6f},"
                                                                           f"{city['lon']:.6f}?q={city['lat']:.6f},"
                                                                           f"{city['lon']:.6f}")
    expect(phone.locator("#responder-place .place-note")).to_contain_text("Handgun seen inside")
    expect(phone.locator("#responder-place .callback")).to_have_text("919-555-0142")
    expect(phone.locator("#responder-place")).not_to_contain_text("Jordan Caller")  # never the name
    assert phone_errors == []
    if size == "phone":
        assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_the_call_taker_drags_the_pin_to_the_exact_place(
    context_for: Callable[[], Page], live_server: LiveServer, make_user: Callable[..., Account],
    sessions: sessionmaker[Session], city: dict[str, Any],
) -> None:
    page = context_for()
    errors = watch_console(page)
    sign_in_page(page, live_server.url, make_user(Role.CALL_TAKER), "/calls/new")
    type_the_call(page)
    expect(page.locator("#place-picked")).to_contain_text(f"Matched: {TARGET}")
    pin = page.locator("#place-map .leaflet-marker-icon")
    pin.scroll_into_view_if_needed()
    box = pin.bounding_box()
    assert box is not None
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] - 2
    page.mouse.move(x, y)
    page.mouse.down()
    for step in range(1, 11):
        page.mouse.move(x + 6 * step, y - 4 * step)
    page.mouse.up()
    expect(page.locator("#place-picked")).to_contain_text("Pin moved by hand")
    moved_lat = float(page.locator("#place-lat").input_value())
    moved_lon = float(page.locator("#place-lon").input_value())
    assert moved_lat > city["lat"] and moved_lon > city["lon"]  # up and to the right: north-east
    expect(page.locator("#place-beat")).to_contain_text(f"{moved_lat:.5f}")  # what is known there, again
    for question in ("weapon", "medical intervention", "imminent risk to others"):
        page.get_by_role("group", name=question).get_by_label("no", exact=True).check()
    page.get_by_role("button", name="Save and triage").click()
    expect(page.get_by_role("heading", name="Triage · call")).to_be_visible()
    with sessions() as session:
        call = session.scalars(select(Call).order_by(Call.id.desc())).first()
        assert call is not None and call.lat is not None and call.lon is not None
        assert (round(call.lat, 6), round(call.lon, 6)) == (moved_lat, moved_lon)
    assert errors == [], errors
