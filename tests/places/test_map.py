"""The map's tiles come through HEART: a tile from the configured source is passed on (cacheable), a source that
cannot be reached or answers no image gives 204 (so the browser logs no network error), no source configured (the
test default) gives 204 at once; the city's outline and beats are served as GeoJSON to anyone signed in."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from fastapi.testclient import TestClient

from heart.auth.models import Role
from heart.config import Settings
from heart.main import create_app
from tests.conftest import Account, free_port, login

PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000")


class _Tiles(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path.startswith("/missing"):
            self.send_response(404)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.end_headers()
        self.wfile.write(PNG)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def tile_source() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), _Tiles)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def _client(database_url: str, tiles: str) -> TestClient:
    return TestClient(create_app(Settings(env="test", database_url=database_url, cookie_secure=False,
                                          map_tiles_url=tiles)))


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_tiles_pass_through_or_answer_204(database_url: str, make_user: Callable[..., Account],
                                          tile_source: str) -> None:
    account = make_user(Role.DISPATCHER)
    with _client(database_url, f"{tile_source}/{{z}}/{{x}}/{{y}}.png") as client:
        login(client, account.username)
        tile = client.get("/map/tiles/12/1000/1500")
        assert (tile.status_code, tile.content, tile.headers["content-type"]) == (200, PNG, "image/png")
        assert "max-age" in tile.headers["cache-control"]
        assert client.get("/map/tiles/2/9/1").status_code == 204  # not a tile of zoom 2
    with _client(database_url, f"{tile_source}/missing/{{z}}/{{x}}/{{y}}.png") as client:
        login(client, account.username)
        assert client.get("/map/tiles/12/1000/1500").status_code == 204
    with _client(database_url, f"http://127.0.0.1:{free_port()}/{{z}}/{{x}}/{{y}}.png") as client:
        login(client, account.username)
        assert client.get("/map/tiles/12/1000/1500").status_code == 204  # nothing listens there: offline
        client.cookies.clear()
        assert client.get("/map/tiles/12/1000/1500").status_code in (401, 303)  # signed in only


def test_tests_default_to_no_tiles_and_the_city_layers_are_served(
    client: TestClient, make_user: Callable[..., Account], app_settings: Settings,
) -> None:
    assert app_settings.map_tiles_url == "" and Settings(env="development").map_tiles_url.startswith("https://")
    login(client, make_user(Role.RESPONDER).username)
    assert client.get("/map/tiles/1/0/0").status_code == 204
    beats = client.get("/map/layers/beats")
    assert beats.headers["content-type"] == "application/geo+json"
    features = beats.json()["features"]
    assert len(features) == 20 and {"beat", "district"} <= set(features[0]["properties"])
    assert client.get("/map/layers/outline").json()["features"][0]["geometry"]["type"] == "Polygon"
    assert client.get("/map/layers/roads").status_code == 422
