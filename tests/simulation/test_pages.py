"""The capacity planner page: the form shows the scenario's hours and shifts, a change runs beside the
baseline without blocking the server, and a wrong value comes back with what is wrong."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from heart.auth.models import Role
from tests.simulation.tiny import install_tiny_scenario

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def tiny(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    return install_tiny_scenario(tmp_path / "cities", monkeypatch)


def _form(**changes: str) -> dict[str, str]:
    form = {"scenario": "tiny", "replications": "2", "hours_CRT": "10:00-22:00",
            "shift_CRT_0_start": "10:00", "shift_CRT_0_end": "22:00", "shift_CRT_0_teams": "1",
            "shift_CRT_1_start": "11:00", "shift_CRT_1_end": "21:00", "shift_CRT_1_teams": "1",
            "hours_COR": "06:00-21:00", "shift_COR_0_start": "06:00", "shift_COR_0_end": "21:00",
            "shift_COR_0_teams": "1", "hours_CCD": "07:00-22:00", "shift_CCD_0_start": "07:00",
            "shift_CCD_0_end": "22:00", "shift_CCD_0_teams": "1"}
    form.update(changes)
    return form


def _finished(client: TestClient, location: str) -> dict[str, object]:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        state = client.get(location + "/status").json()
        if state["state"] in ("finished", "failed"):
            return state  # type: ignore[no-any-return]
        time.sleep(0.2)
    raise AssertionError("the run did not finish")


def test_an_analyst_runs_24_hour_crt_beside_the_baseline(signed_in: Callable[..., TestClient], tiny: str) -> None:
    client = signed_in(Role.ANALYST)
    page = client.get("/simulation")
    assert page.status_code == 200
    assert 'name="hours_CRT" value="10:00-22:00"' in page.text
    assert 'name="shift_CRT_1_start" value="11:00"' in page.text and 'name="shift_CRT_2_start" value=""' in page.text

    started = client.post("/simulation/runs", data=_form(hours_CRT="00:00-24:00", shift_CRT_2_start="22:00",
                                                         shift_CRT_2_end="10:00", shift_CRT_2_teams="1"),
                          follow_redirects=False)
    assert started.status_code == 303, started.text
    location = started.headers["location"]
    assert _finished(client, location)["state"] == "finished"
    result = client.get(location)
    assert result.status_code == 200
    text = result.text
    assert 'id="figures-CRT"' in text and 'id="chart-CRT-reach_pct"' in text and 'id="table-CRT-reach_pct"' in text
    assert "Changed" in text and "Difference" in text and "00:00-24:00" in text
    assert 'id="chart-specs"' in text and "<script>" not in text  # no inline script (strict CSP)


def test_a_run_without_changes_is_the_baseline(signed_in: Callable[..., TestClient], tiny: str) -> None:
    client = signed_in(Role.SUPERVISOR)
    started = client.post("/simulation/runs", data=_form(), follow_redirects=False)
    assert started.status_code == 303
    assert _finished(client, started.headers["location"])["state"] == "finished"
    assert "no changes were made" in client.get(started.headers["location"]).text


@pytest.mark.parametrize(("change", "words"), [
    ({"hours_CRT": "10:00-25:00"}, "CRT hours"),
    ({"shift_CRT_0_teams": ""}, "CRT shift 1: give its start, its end and its number of teams"),
    ({"shift_COR_0_start": "6 am"}, "COR shift 1"),
    ({"replications": "5000"}, "replications must be between 2 and 200"),
    ({"scenario": "nowhere"}, "pick a scenario from the list"),
])
def test_a_wrong_value_comes_back_with_what_is_wrong(signed_in: Callable[..., TestClient], tiny: str,
                                                     change: dict[str, str], words: str) -> None:
    client = signed_in(Role.ANALYST)
    answer = client.post("/simulation/runs", data=_form(**change), follow_redirects=False)
    assert answer.status_code == 422
    assert words in answer.text


def test_only_planners_open_it_and_unknown_runs_are_404(signed_in: Callable[..., TestClient], tiny: str) -> None:
    client = signed_in(Role.DISPATCHER)
    assert client.get("/simulation").status_code == 403
    client = signed_in(Role.SUPERVISOR)
    assert client.get("/simulation/runs/nope", headers={"accept": "text/html"}).status_code == 404
    assert client.get("/simulation/runs/nope/status").status_code == 404
    assert client.get("/simulation/runs/..%2F..%2Fetc/status").status_code == 404


def test_a_busy_simulator_says_so_and_keeps_the_form(signed_in: Callable[..., TestClient], tiny: str,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from heart.simulation import jobs

    monkeypatch.setattr(jobs, "_waiting", jobs.MAX_WAITING + 1)
    client = signed_in(Role.ANALYST)
    answer = client.post("/simulation/runs", data=_form(hours_CRT="00:00-24:00"), follow_redirects=False)
    assert answer.status_code == 503
    assert "busy" in answer.text and 'value="00:00-24:00"' in answer.text  # nothing typed is lost
