"""The public site's tests: the app with the forms' minimum fill time off (tests that check it set it) and nothing
kept between two pages (each test changes the data)."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from heart.config import Settings

ORIGIN = {"origin": "http://testserver"}


@pytest.fixture
def app_settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(env="test", database_url=database_url, cookie_secure=False, public_form_min_seconds=0,
                    public_cache_minutes=0, public_cache_dir=tmp_path / "public-cache")


def form_token(page: httpx.Response) -> str:
    found = re.search(r'name="form_token" value="([^"]+)"', page.text)
    assert found, "the form carries its time token"
    return found.group(1)


def send(client: TestClient, path: str, data: dict[str, object], **headers: str) -> httpx.Response:
    """Load the form as a browser does (its token and cookie), then post it with ``data``."""
    token = form_token(client.get(path))
    return client.post(path, data={"form_token": token, **data}, headers={**ORIGIN, **headers},
                       follow_redirects=False)
