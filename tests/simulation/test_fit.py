"""Fitting a model from history: the demo's simulated year is history whose model we know, so fitting it must
give that model back (arrivals by hour, call mix, response times), and a scenario can run on the fitted file."""

from __future__ import annotations

import random
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from heart.cli import app
from heart.config import get_settings
from heart.db import make_engine, make_sessionmaker, transaction, utcnow
from heart.demo.history import build_history
from heart.demo.setup import load_demo_configuration
from heart.simulation import fit
from heart.simulation.model import city_files, load_city_model, load_model
from heart.simulation.runner import replicate, summarise
from heart.simulation.scenario import compile_scenario, load_scenario
from heart.triage.policy import load_policy_by_name

ON_SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def history(database_url: str) -> str:
    engine = make_engine(database_url)
    sessions = make_sessionmaker(engine)
    with transaction(sessions) as session:
        assert isinstance(session, Session)
        load_demo_configuration(session=session, now=utcnow(), rng=random.Random(3))
        build_history(session=session, seed=3, years=0.12, end=date(2025, 6, 2))
    engine.dispose()
    return database_url


@ON_SQLITE
def test_fitting_the_demo_history_gives_its_model_back(history: str) -> None:
    base, policy = load_city_model("durham"), load_policy_by_name("durham")
    engine = make_engine(history)
    calls = fit.operational_calls(engine, None, None, policy.timezone)
    responses = fit.operational_responses(engine, None, None, policy.timezone)
    engine.dispose()
    fitted = fit.fit(base=base, policy=policy, calls=calls, responses=responses, source="test")
    model = fitted.model
    # the hour-of-week profile follows the model's (a month and a half of calls)
    assert np.corrcoef(model.arrivals.weekday_hours, base.arrivals.weekday_hours)[0, 1] > 0.97
    assert model.calls.heart_calls_per_year == pytest.approx(base.calls.heart_calls_per_year, rel=0.1)
    for kind in ("trespass_unwanted", "mental_health_crisis", "welfare_check"):
        assert model.calls.mix[kind] == pytest.approx(base.calls.mix[kind], abs=0.02)
    crt = model.responses["CRT"]
    assert crt.on_scene_minutes == pytest.approx(33.49, rel=0.05)  # the published figure the demo lands on
    assert crt.transport == pytest.approx(0.0741, abs=0.02)
    assert any("responses.CRT: fitted" in note for note in fitted.notes)


@ON_SQLITE
def test_a_scenario_runs_on_a_fitted_model(history: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEART_DATABASE_URL", history)
    monkeypatch.setenv("HEART_ENV", "test")
    get_settings.cache_clear()
    try:
        written = CliRunner().invoke(app, ["simulate", "fit", "--output", str(tmp_path / "fitted.yaml")])
    finally:
        get_settings.cache_clear()
    assert written.exit_code == 0, written.output
    assert "arrivals: fitted from" in written.stdout
    assert load_model(tmp_path / "fitted.yaml").model == "durham"
    baseline = city_files("durham").scenarios / "durham-2025.yaml"
    scenario = tmp_path / "mine.yaml"
    scenario.write_text(f"scenario: mine\nextends: {baseline}\ncity: durham\nmodel: fitted.yaml\n"
                        "call_volume_by_type: {}\nperiod: {start: 2025-06-02, days: 14, warmup_days: 1}\n")
    compiled = compile_scenario(load_scenario(str(scenario)))
    summary = summarise(replicate(compiled.simulation, replications=2, seed=1, workers=1))
    assert summary.estimate("CRT.responses").mean > 0


def test_too_little_history_is_said_plainly() -> None:
    import pandas as pd

    with pytest.raises(ValueError, match="at least 200 are needed"):
        fit.fit_arrivals(pd.Series(pd.to_datetime(["2025-01-01T12:00:00Z"] * 10)), load_policy_by_name("durham")
                         .timezone)
