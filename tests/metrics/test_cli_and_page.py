"""`heart metrics` and the /metrics page, as an analyst and a supervisor use them."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from heart.auth.models import Role
from heart.cli import app
from heart.config import get_settings
from heart.metrics.pages import PLOTLY_JS

runner = CliRunner()
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def cli_database(history_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("HEART_DATABASE_URL", history_url)
    monkeypatch.setenv("HEART_ENV", "test")
    get_settings.cache_clear()
    yield history_url
    get_settings.cache_clear()


def test_json_has_the_published_shape(cli_database: str) -> None:
    result = runner.invoke(app, ["metrics", "--since", "2024-03-01", "--until", "2024-03-31", "--format", "json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["period"]["since"] == "2024-03-01" and document["period"]["until"] == "2024-03-31"
    crt = document["programs"]["CRT"]
    assert {key: crt[key] for key in ("responses", "avg_minutes_to_scene", "avg_minutes_on_scene",
                                      "avg_total_minutes", "pct_needed_transport",
                                      "pct_needed_pd_backup_for_team_safety", "pct_needed_ems_support")} == {
        "responses": 6, "avg_minutes_to_scene": 12.92, "avg_minutes_on_scene": 29.17, "avg_total_minutes": 42.08,
        "pct_needed_transport": 33.33, "pct_needed_pd_backup_for_team_safety": 16.67,
        "pct_needed_ems_support": 16.67}


def test_table_and_one_program(cli_database: str) -> None:
    result = runner.invoke(app, ["metrics", "--program", "cor"])
    assert result.exit_code == 0, result.output
    assert "Avg minutes to scene" in result.stdout and "13.50" in result.stdout and "CRT" not in result.stdout


@pytest.mark.parametrize(("arguments", "message"), [
    (["--since", "2024-02-30"], "--since must be a date"),
    (["--since", "2024-03-02", "--until", "2024-03-01"], "before it starts"),
    (["--program", "XYZ"], "XYZ"),
    (["--batch", "first"], "--batch goes with --by agency"),
])
def test_mistakes_are_one_line_errors(cli_database: str, arguments: list[str], message: str) -> None:
    result = runner.invoke(app, ["metrics", *arguments])
    assert result.exit_code == 1
    assert message in result.output and "Traceback" not in result.output


def test_the_cad_baseline_by_agency(cli_database: str) -> None:
    result = runner.invoke(app, ["metrics", "--by", "agency", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["agencies"] == {}


def test_the_dashboard_shows_the_figures_charts_and_data_quality(
    history_url: str, signed_in: Callable[..., TestClient]
) -> None:
    client = signed_in(Role.SUPERVISOR)
    page = client.get("/metrics?since=2024-03-01&until=2024-03-31", headers={"accept": "text/html"})
    assert page.status_code == 200
    cells = dict(re.findall(r'data-program="CRT" data-figure="(\w+)">([^<]*)<', page.text))
    assert cells["responses"] == "6" and cells["avg_minutes_to_scene"] == "12.92"
    assert cells["pct_needed_transport"] == "33.33%"
    assert 'data-program="CRT" data-exception="excluded_responses"><strong>4<' in page.text
    assert '<script src="/metrics/plotly.min.js"' in page.text and "2024-03" in page.text
    script = client.get("/metrics/plotly.min.js")
    assert script.status_code == 200 and len(script.content) == PLOTLY_JS.stat().st_size
    assert client.get("/metrics?since=March", headers={"accept": "text/html"}).status_code == 422


@pytest.mark.parametrize("role", [Role.DISPATCHER, Role.RESPONDER, Role.CALL_TAKER])
def test_only_supervisors_analysts_and_admins_see_it(
    history_url: str, signed_in: Callable[..., TestClient], role: Role
) -> None:
    client = signed_in(role)
    assert client.get("/metrics", headers={"accept": "text/html"}).status_code == 403
    assert client.get("/metrics/plotly.min.js").status_code == 403
    assert "/metrics" not in client.get("/", headers={"accept": "text/html"}).text
