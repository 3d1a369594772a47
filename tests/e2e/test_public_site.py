"""In a real browser: every public page passes axe-core (from npm) with no serious or critical violation at desk and
phone sizes, fits a phone's width, works from the keyboard, and a resident sends a request and sees it confirmed."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import Engine

from heart.config import Settings
from tests.conftest import REPO_ROOT, LiveServer
from tests.metrics.public_history import plant

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]
AXE = REPO_ROOT / "node_modules" / "axe-core" / "axe.min.js"
SIZES = {"desk": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
PAGES = ("/public", "/public/faq", "/public/figures?program=CRT&period=2024", "/public/figures?program=CCD&period=2024",
         "/public/open-data", "/public/request-event", "/public/volunteer", "/public/request-event/sent")


@pytest.fixture
def app_settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(env="test", database_url=database_url, cookie_secure=False, public_form_min_seconds=0,
                    public_cache_dir=tmp_path / "public-cache")


@pytest.fixture
def planted(engine: Engine) -> Engine:
    plant(engine)
    return engine


def serious_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's serious and critical findings on the page as it stands (WCAG 2.1 A/AA and best practice)."""
    page.add_script_tag(path=str(AXE))
    found = page.evaluate("""async () => {
        const result = await axe.run(document, {runOnly: {type: "tag",
            values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]}});
        return result.violations.filter(v => v.impact === "serious" || v.impact === "critical")
            .map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target.join(" ")).slice(0, 5)}));
    }""")
    return list(found)


@pytest.mark.parametrize("size", list(SIZES))
def test_every_public_page_passes_axe_and_fits_the_screen(
    browser: Any, live_server: LiveServer, planted: Engine, size: str,
) -> None:
    assert AXE.is_file(), "axe-core is a dev dependency (package.json): run make install"
    context = browser.new_context(viewport=SIZES[size], bypass_csp=True)  # axe is injected as an inline script
    page = context.new_page()
    problems = {}
    for path in PAGES:
        page.goto(live_server.url + path)
        expect(page.locator("h1")).to_be_visible()
        if violations := serious_violations(page):
            problems[path] = violations
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{path} scrolls sideways by {overflow}px at {size} size"
    # a form showing its errors is a page too
    page.goto(live_server.url + "/public/request-event")
    page.get_by_role("button", name="Send the request").click()
    expect(page.locator("#problem")).to_be_visible()
    if violations := serious_violations(page):
        problems["/public/request-event (errors)"] = violations
    context.close()
    assert problems == {}


def test_a_resident_uses_the_keyboard_and_sends_a_request(page: Page, live_server: LiveServer) -> None:
    page.goto(live_server.url + "/public/request-event")
    page.keyboard.press("Tab")
    skip = page.locator(":focus")
    expect(skip).to_have_text("Skip to content")
    page.keyboard.press("Enter")
    expect(page.locator(":focus")).to_have_attribute("id", "content")

    page.get_by_label("Date of the event").fill((date.today() + timedelta(days=20)).isoformat())
    page.get_by_label("Where it is").fill("Walltown Park Recreation Center")
    page.get_by_label("Your name").fill("Rosa Lee")
    page.get_by_label("E-mail").fill("not-an-address")
    page.get_by_role("button", name="Send the request").click()
    expect(page.locator("#problem")).to_contain_text("This does not look like an e-mail address")
    expect(page.get_by_label("Where it is")).to_have_value("Walltown Park Recreation Center")  # kept
    page.locator("#problem a").first.click()  # the summary's link takes the keyboard to the field
    expect(page.locator(":focus")).to_have_attribute("name", "email")
    page.keyboard.type("rosa@example.org")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Thank you — we received it")).to_be_visible()


def test_script_in_a_residents_request_runs_nowhere(
    page: Page, live_server: LiveServer, make_user: Any, browser: Any,
) -> None:
    from heart.auth.models import Role
    from tests.conftest import sign_in_page
    from tests.e2e.planted import KINDS

    dialogs: list[str] = []
    payload = " ".join(kind.format(n=index + 1) for index, kind in enumerate(KINDS))
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(live_server.url + "/public/request-event")
    page.get_by_label("Date of the event").fill((date.today() + timedelta(days=9)).isoformat())
    page.get_by_label("Where it is").fill(payload[:200])
    page.get_by_label("Organization or group").fill(payload[:160])
    page.get_by_label("Anything we should know").fill(payload)
    page.get_by_label("Your name").fill(payload[:120])
    page.get_by_label("E-mail").fill("planted@example.org")
    page.get_by_role("button", name="Send the request").click()
    expect(page.get_by_role("heading", name="Thank you — we received it")).to_be_visible()
    page.goto(live_server.url + "/public/volunteer")
    page.get_by_label("Translating or interpreting").check()
    page.get_by_label("Your name").fill(payload[:120])
    page.get_by_label("E-mail").fill("planted@example.org")
    page.get_by_label("Anything you would like us to know").fill(payload)
    page.get_by_role("button", name="Join the list").click()
    expect(page.get_by_role("heading", name="Thank you — we received it")).to_be_visible()

    supervisor = make_user(Role.SUPERVISOR)
    sign_in_page(page, live_server.url, supervisor, "/engagement")
    expect(page.locator("#event-queue")).to_contain_text("<script>alert(2)</script>")  # shown as text
    expect(page.locator("#volunteer-queue")).to_contain_text("onerror=alert(1)")
    page.get_by_role("button", name="Mark contacted").first.click()
    expect(page.locator("#event-queue .status").first).to_have_text("contacted")
    assert dialogs == []
