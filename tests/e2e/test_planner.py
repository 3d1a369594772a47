"""In a real browser: a supervisor opens the capacity planner, opens CRT around the clock with a night team,
runs it, watches the progress, and reads reach by hour beside the baseline in a chart and a table."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from heart.auth.models import Role
from tests.conftest import PASSWORD, Account, LiveServer
from tests.simulation.tiny import install_tiny_scenario

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]


def test_a_supervisor_plans_24_hour_crt(page: Page, live_server: LiveServer, make_user: Callable[..., Account],
                                        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    install_tiny_scenario(tmp_path / "cities", monkeypatch)
    supervisor = make_user(Role.SUPERVISOR)
    external: list[str] = []
    problems: list[str] = []
    page.on("request", lambda request: external.append(request.url)
            if not request.url.startswith(live_server.url) else None)
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)

    page.goto(live_server.url + "/simulation")
    page.get_by_label("Username").fill(supervisor.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Capacity planner")).to_be_visible()
    expect(page.get_by_label("CRT hours open")).to_have_value("10:00-22:00")

    page.get_by_label("CRT hours open").fill("00:00-24:00")
    page.get_by_label("CRT shift 3 starts").fill("22:00")
    page.get_by_label("CRT shift 3 ends").fill("10:00")
    page.get_by_label("CRT shift 3 teams").fill("1")
    page.get_by_label("Replications").fill("2")
    page.get_by_role("button", name="Run").click()

    expect(page.get_by_role("heading", name="Simulation run")).to_be_visible()
    progress = page.locator("#run-progress-text")
    if progress.count():  # the run is still going (it almost always is when the page first shows)
        expect(progress).to_contain_text("of 4 replications done")  # 2 for the baseline, 2 for the change
    figures = page.locator("#figures-CRT")
    expect(figures).to_be_visible(timeout=120_000)  # the progress page turns into the results when done
    # plotly.js from the package (3.5 MB to parse: give a loaded machine time)
    expect(page.locator("#chart-CRT-reach_pct .main-svg").first).to_be_visible(timeout=30_000)
    night = page.locator("#table-CRT-reach_pct tbody tr").nth(2)  # 02:00
    expect(night.locator("td").nth(0)).to_have_text("02:00")
    assert night.locator("td").nth(1).inner_text() == "0.0"  # the baseline has nobody at night
    assert float(night.locator("td").nth(2).inner_text()) > 50  # the night team answers most calls
    expect(page.locator("#h-CRT")).to_contain_text("open 00:00-24:00")
    assert external == [] and problems == []
