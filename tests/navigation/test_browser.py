"""In a real browser: a navigator finds a Spanish-speaking food service near where they stand and opens it."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Browser, expect

from heart.auth.models import Role
from heart.navigation.resources.importer import ImportSummary
from tests.conftest import PASSWORD, Account, LiveServer
from tests.navigation.conftest import DEMO, HAYTI

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]


def test_a_navigator_searches_near_their_position_and_reads_what_to_bring(
    browser: Browser, live_server: LiveServer, make_user: Callable[..., Account],
    run_import: Callable[..., ImportSummary],
) -> None:
    run_import(DEMO)
    navigator = make_user(Role.NAVIGATOR)
    context = browser.new_context(geolocation={"latitude": HAYTI[0], "longitude": HAYTI[1]},
                                  permissions=["geolocation"])
    page = context.new_page()
    page.set_default_timeout(10_000)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        page.goto(live_server.url + "/resources")
        page.get_by_label("Username").fill(navigator.username)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", name="Resource directory")).to_be_visible()

        page.get_by_label("Need").select_option(label="Food")
        page.get_by_label("Language").select_option(label="Spanish")
        page.get_by_role("button", name="Use my location").click()  # resources.js, from the page's own origin
        expect(page.get_by_label("Latitude")).to_have_value(f"{HAYTI[0]:.5f}")
        page.get_by_label("Within").select_option(label="1 km")
        page.get_by_role("button", name="Find services").click()

        expect(page.get_by_role("heading", name="2 services for food")).to_be_visible()
        rows = page.locator("tbody tr")
        expect(rows.first).to_contain_text("Community food pantry")
        expect(rows.first).to_contain_text("0.0 km")
        page.get_by_role("link", name="SNAP and Medicaid application help").click()
        expect(page.get_by_role("heading", name="SNAP and Medicaid application help")).to_be_visible()
        expect(page.get_by_role("heading", name="What to bring")).to_be_visible()
        expect(page.get_by_text("Proof of address")).to_be_visible()
        expect(page.get_by_text("0.8 km away")).to_be_visible()
        assert errors == []
    finally:
        context.close()
