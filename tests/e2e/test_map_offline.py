"""In a real browser: with a tile source that cannot be reached (no internet), the board's map and the call-taker's
map still draw the city's outline and beats, say once in the page that tiles could not load, and log no error."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect

from heart.auth.models import Role
from heart.config import Settings
from tests.conftest import Account, LiveServer, free_port, sign_in_page
from tests.e2e.test_places import SIZES, watch_console

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]
SAID = ("Map tiles could not be loaded (no connection to the tile source): the city's outline, beats and markers "
        "still show.")


@pytest.fixture
def app_settings(database_url: str) -> Settings:
    """A tile source on a port of this machine where nothing listens: every tile fails, as offline."""
    return Settings(env="test", database_url=database_url, cookie_secure=False,
                    map_tiles_url=f"http://127.0.0.1:{free_port()}/{{z}}/{{x}}/{{y}}.png")


@pytest.mark.parametrize("size", sorted(SIZES))
@pytest.mark.parametrize(("role", "path", "map_id", "note_id"), [
    (Role.DISPATCHER, "/dispatch", "#map", "#map-note"),
    (Role.CALL_TAKER, "/calls/new", "#place-map", "#place-map-note"),
])
def test_without_tiles_the_map_says_so_once_and_logs_no_error(
    browser: Any, live_server: LiveServer, make_user: Callable[..., Account], size: str, role: Role, path: str,
    map_id: str, note_id: str,
) -> None:
    context = browser.new_context(**SIZES[size])
    try:
        page = context.new_page()
        errors = watch_console(page)
        tiles: list[int] = []
        page.on("response", lambda answer: tiles.append(answer.status) if "/map/tiles/" in answer.url else None)
        sign_in_page(page, live_server.url, make_user(role), path)
        expect(page.locator(note_id)).to_have_text(SAID)
        expect(page.locator(f"{map_id} path.leaflet-interactive")).not_to_have_count(0)  # beats drawn
        expect(page.locator(f"{map_id} path")).not_to_have_count(0)
        page.wait_for_timeout(300)  # let the remaining tiles answer
        assert tiles and set(tiles) == {204}
        assert page.get_by_text("Map tiles could not be loaded").count() == 1  # said once
        assert errors == [], errors
    finally:
        context.close()
