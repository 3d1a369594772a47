"""No script from data, ever: script payloads planted in every free-text field a user or a feed can fill (calls,
EIDO incidents, reasons, narrative, unit call signs, staff and user names, a resource directory, the warm handoff, a
navigator's notes, approach notes, survivor-care and petition cases, a community plan) are opened on every screen that
shows them, in a real browser. Nothing may run (no dialog), no markup may be made from them (no element
built from a payload), and the browser may report no Content-Security-Policy violation."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from heart.auth.models import Role
from heart.config import Settings
from heart.db import transaction, utcnow
from heart.encounters.models import Encounter
from heart.navigation.resources.importer import import_directory
from heart.programs.models import Program
from tests import factories
from tests.conftest import PASSWORD, Account, LiveServer
from tests.e2e.planted import Planted, Plants, plant_everything

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]

WATCH = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__violations.push([e.violatedDirective, e.sourceFile, e.lineNumber, e.sample].join(" "));
});
"""
# Elements that only a payload could have made: inline handlers, scripts not served by HEART, frames, javascript: links.
INJECTED = """() => Array.from(document.querySelectorAll("*")).filter(function (el) {
  var tag = el.tagName.toLowerCase();
  if (Array.from(el.attributes).some(function (a) { return a.name.indexOf("on") === 0; })) { return true; }
  if (tag === "script") { return el.type !== "application/json" && !(el.src && el.src.indexOf(location.origin) === 0); }
  if (tag === "iframe" || tag === "object" || tag === "embed") { return true; }
  if (tag === "img") { return el.getAttribute("src") === "x"; }
  var href = el.getAttribute("href") || "";
  return /^\\s*javascript:/i.test(href);
}).map(function (el) { return el.outerHTML.slice(0, 160); })"""
SHOWN_TEXT = """() => [document.body.innerText].concat(
  Array.from(document.querySelectorAll("input, textarea")).map(function (el) { return el.value; })).join("\\n")"""


@pytest.fixture
def app_settings(database_url: str, all_day_policy: Path) -> Settings:
    return Settings(env="test", database_url=database_url, cookie_secure=False, map_tiles_url="")


@dataclass
class Watch:
    """What the browser did on every screen opened: dialogs, CSP reports, script errors, markup from data."""

    plants: Plants
    base_url: str
    dialogs: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    injected: list[str] = field(default_factory=list)
    shown: set[int] = field(default_factory=set)
    screens: list[str] = field(default_factory=list)

    def attach(self, page: Page) -> None:
        page.on("dialog", lambda dialog: (self.dialogs.append(dialog.message), dialog.dismiss()))
        page.on("console", lambda message: self.console.append(message.text)
                if "Content Security Policy" in message.text or "Refused to" in message.text else None)
        page.on("pageerror", lambda error: self.console.append(f"page error: {error}"))

    def open(self, page: Page, path: str, ready: Callable[[Page], None] | None = None) -> None:
        answer = page.goto(self.base_url + path)
        assert answer is not None and answer.status == 200, f"{path}: {answer.status if answer else None}"
        policy = answer.headers.get("content-security-policy", "")
        assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy, path
        if ready:
            ready(page)
        page.wait_for_timeout(300)  # let deferred scripts, htmx and the stream run
        self.take(page, path)

    def take(self, page: Page, path: str) -> None:
        self.screens.append(path)
        self.shown |= self.plants.numbers_in(page.evaluate(SHOWN_TEXT))
        self.injected += [f"{path}: {html}" for html in page.evaluate(INJECTED)]
        self.violations += [f"{path}: {text}" for text in page.evaluate("window.__violations")]
        page.evaluate("window.__violations = []")

    def executed(self) -> set[int]:
        return {int(message) for message in self.dialogs if message.isdigit()}


def _browser_for(browser: Browser, server: LiveServer, username: str, watch: Watch, path: str = "/") -> tuple[
        BrowserContext, Page]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.route("**/*", lambda route: route.continue_() if route.request.url.startswith(server.url)
                  else route.abort())
    context.add_init_script(WATCH)
    page = context.new_page()
    page.set_default_timeout(10_000)
    watch.attach(page)
    page.goto(f"{server.url}/login?next={path}")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: url.startswith(f"{server.url}{path}"), wait_until="load")
    return context, page


@pytest.fixture
def planted(live_server: LiveServer, make_user: Callable[..., Account], sessions: sessionmaker[Session],
            tmp_path: Path) -> Planted:
    with transaction(sessions) as session:
        for code in ("CRT", "CCD"):
            factories.program(session, code, now=utcnow())
        crew_roles = list(session.scalars(select(Program.crew_roles).where(Program.code == "CRT")).one())
    admin = make_user(Role.ADMIN)

    def encounter_of(response_id: int) -> int:
        with sessions() as session:
            return int(session.scalars(select(Encounter.id).where(Encounter.response_id == response_id)).one())

    def import_resources(folder: Path) -> None:
        with transaction(sessions) as session:
            summary = import_directory(session=session, paths=[folder], now=utcnow())
            assert not summary.rejects, summary.rejects

    return plant_everything(live_server.url, admin.username, PASSWORD, crew_roles, encounter_of, import_resources,
                            tmp_path / "directory")


def _board_ready(page: Page) -> None:
    expect(page.locator("#live")).to_have_attribute("data-state", "live")
    expect(page.locator("#map .leaflet-interactive")).not_to_have_count(0)


def _tooltips(page: Page, watch: Watch) -> int:
    """Point at every marker on the board's map, reading the tooltip each opens."""
    markers = page.locator("#map path.leaflet-interactive")
    for index in range(markers.count()):
        markers.nth(index).dispatch_event("mouseover")
        expect(page.locator(".leaflet-tooltip")).not_to_have_count(0)
        watch.take(page, f"/dispatch (map marker {index + 1})")
        markers.nth(index).dispatch_event("mouseout")
    return markers.count()


def test_script_planted_in_every_free_text_field_never_runs_on_any_screen(
    browser: Browser, live_server: LiveServer, make_user: Callable[..., Account], planted: Planted,
    record_property: Callable[[str, object], None],
) -> None:
    watch = Watch(planted.plants, live_server.url)
    contexts: list[BrowserContext] = []
    try:
        context, page = _browser_for(browser, live_server, planted.supervisor, watch, "/dispatch")
        contexts.append(context)
        _board_ready(page)
        watch.take(page, "/dispatch")
        assert _tooltips(page, watch) >= 4  # the waiting and assigned calls and the two units
        for call_id in planted.calls:
            for path in (f"/calls/{call_id}", f"/calls/{call_id}/triage", f"/calls/{call_id}/why"):
                watch.open(page, path)
        for path in ("/", "/calls", "/programs", "/metrics", "/resources?q=alert",
                     *(f"/resources/services/{ident}" for ident in planted.service_ids)):
            watch.open(page, path)
        watch.open(page, "/docs", lambda docs: expect(docs.locator("#swagger-ui .info")).to_be_visible())
        for path in care_screens(planted):
            watch.open(page, path)
        typed_into_the_intake_screen(page, watch)

        context, page = _browser_for(browser, live_server, make_user(Role.ADMIN).username, watch, "/admin/units")
        contexts.append(context)
        watch.take(page, "/admin/units")

        for responder, status in zip(planted.responders, ("transporting", "on scene"), strict=True):
            context, page = _browser_for(browser, live_server, responder, watch, "/responder")
            contexts.append(context)
            expect(page.locator("#response-status")).to_have_text(status)
            if status == "transporting":  # the neighbor named on this crew's call has a reviewed flag
                expect(page.locator(".approach-notes")).to_have_count(1)
            watch.take(page, "/responder")

        control(page, watch)
    finally:
        for context in contexts:
            context.close()

    plants = planted.plants
    executed = watch.executed()
    summary = (f"payloads planted {len(plants.by_number)} in {len(set(w for _, w in plants.by_number.values()))} "
               f"fields, shown as text {len(watch.shown)}, executed {len(executed)}, elements made from data "
               f"{len(watch.injected)}, CSP violations {len(watch.violations)}, on {len(watch.screens)} screens")
    print(summary)
    record_property("planted_payloads", summary)
    assert not executed, f"payloads ran: {plants.where(executed)}"
    assert not watch.dialogs, watch.dialogs
    assert not watch.injected, watch.injected
    assert not watch.violations and not watch.console, watch.violations + watch.console
    unseen = set(plants.by_number) - watch.shown
    assert not unseen, f"planted but shown on no screen: {plants.where(unseen)}"


def care_screens(planted: Planted) -> list[str]:
    """The care screens that show what was planted: the queue and each kind of case, the neighbors' records and their
    access logs, the familiar-neighbor review, a linked pair, the report, and a case program's intake form."""
    care = planted.care
    screens = ["/follow-ups", "/follow-ups?program=OSC", "/follow-ups?program=IVC", "/familiar-neighbors",
               "/familiar-neighbors/report", "/cases/new/OSC", "/cases/new/IVC"]
    for case in (care.follow_up, care.survivor_case, care.petition):
        screens.append(f"/follow-ups/{case}")
    for neighbor in (care.neighbor, care.survivor, care.respondent):
        screens += [f"/neighbors/{neighbor}", f"/neighbors/{neighbor}/reads"]
    if care.proposal is not None:
        screens.append(f"/familiar-neighbors/links/{care.proposal}")
    return screens


def typed_into_the_intake_screen(page: Page, watch: Watch) -> None:
    """A call-taker types payloads into the new-call form: the live recommendation redraws as they type (an htmx
    swap of a server-rendered fragment), then the call is saved and its triage page opens."""
    watch.open(page, "/calls/new")
    page.get_by_label("Call type (as the caller or CAD describes it)").fill(watch.plants.text("typed call type", 128))
    expect(page.locator("#unknown-type")).to_be_visible()
    page.get_by_label("Location").fill(watch.plants.text("typed location", 256))
    page.get_by_label("Summary").fill(watch.plants.text("typed summary"))
    watch.take(page, "/calls/new (typed)")
    page.get_by_role("button", name="Save and triage").click()
    page.wait_for_url(lambda url: "/triage" in url)
    watch.take(page, "/calls/{new}/triage")


def control(page: Page, watch: Watch) -> None:
    """The watch itself can see what it looks for: markup made from data is found and refused by the CSP, and a
    dialog is seen."""
    console = len(watch.console)
    page.evaluate("document.body.insertAdjacentHTML('beforeend', '<img src=x onerror=alert(0)>')")
    page.wait_for_timeout(300)
    injected = page.evaluate(INJECTED)
    assert any('src="x"' in html for html in injected)
    expect(page.locator("img[src=x]")).to_have_count(1)
    page.wait_for_function("window.__violations.length > 0")  # the inline handler was refused
    page.evaluate("document.querySelector('img[src=x]').remove(); window.__violations = []")
    seen = len(watch.dialogs)
    page.evaluate("window.setTimeout(function () { window.alert('control'); }, 0)")
    page.wait_for_timeout(300)
    assert watch.dialogs[seen:] == ["control"]
    del watch.dialogs[seen:]
    assert any("Refused" in line or "Content Security Policy" in line for line in watch.console[console:])
    del watch.console[console:]
