"""In a real browser: a supervisor opens the dashboard and reads CRT's figures, charts drawn offline."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy.orm import Session, sessionmaker

from heart.auth.models import Role
from heart.db import transaction, utcnow
from heart.demo.history import build_history
from heart.demo.setup import load_demo_configuration
from heart.metrics.backends import open_database
from heart.metrics.definitions import Period
from heart.metrics.service import compute_metrics
from tests.conftest import PASSWORD, Account, LiveServer

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]


def test_a_supervisor_reads_crt_responses_and_minutes_to_scene(
    page: Page, live_server: LiveServer, make_user: Callable[..., Account], sessions: sessionmaker[Session]
) -> None:
    with transaction(sessions) as session:
        load_demo_configuration(session=session, now=utcnow(), rng=random.Random(1))
        build_history(session=session, seed=1, years=0.04, end=date(2025, 6, 2))
    with open_database(live_server.settings.database_url) as source:
        expected = compute_metrics(source=source, period=Period()).programs["CRT"]
    supervisor = make_user(Role.SUPERVISOR)
    external: list[str] = []
    page.on("request", lambda request: external.append(request.url)
            if not request.url.startswith(live_server.url) else None)

    page.goto(live_server.url + "/metrics")
    page.get_by_label("Username").fill(supervisor.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()

    responses = page.locator('[data-program="CRT"][data-figure="responses"]')
    minutes = page.locator('[data-program="CRT"][data-figure="avg_minutes_to_scene"]')
    assert int(responses.inner_text().replace(",", "")) == expected.responses > 0
    assert float(minutes.inner_text()) == expected.avg_minutes_to_scene
    expect(page.locator("#chart-by-month .main-svg").first).to_be_visible()  # plotly.js from the package
    expect(page.locator("#chart-by-hour .main-svg").first).to_be_visible()
    expect(page.locator("#data-quality")).to_contain_text("cleared without an arrival time")
    assert external == []  # nothing fetched from the internet

    page.get_by_label("From (cleared on or after)").fill("2025-05-20")
    page.get_by_label("To (cleared on or before)").fill("2025-05-21")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("#period-text")).to_contain_text("from 2025-05-20 to 2025-05-21")
    assert int(responses.inner_text().replace(",", "")) < expected.responses
