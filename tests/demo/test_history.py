"""The demo's simulated history: calibrated to Durham's dashboard, deterministic, and a consistent story."""

from __future__ import annotations

import itertools
import json
import random
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from statistics import mean
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from heart.calls.models import Call
from heart.cli import app
from heart.config import get_settings
from heart.db import make_engine, make_sessionmaker, transaction, utcnow
from heart.demo.calibration import calibration
from heart.demo.history import build_history
from heart.demo.setup import load_demo_configuration
from heart.demo.simulate import Simulation, SimUnit
from heart.dispatch.models import Response
from heart.encounters.models import Encounter
from heart.events import Event
from heart.metrics.backends import open_database
from heart.metrics.definitions import Period
from heart.metrics.service import compute_metrics
from heart.programs.models import Program
from heart.programs.service import read_programs_file
from heart.triage.models import TriageDecision
from heart.triage.policy import load_policy_by_name
from heart.triage.safety import call_blockers
from tests.conftest import shared_data

END = date(2025, 6, 2)


def published() -> dict[str, dict[str, float]]:
    document = json.loads((shared_data() / "reference" / "durham_published.json").read_text())
    return {code: document["dashboard"][code] for code in ("CRT", "COR")}


def simulate_year(end: date, seed: int = 2024) -> dict[str, dict[str, float]]:
    """A year of the default demo, without a database; the seven figures computed as ARCHITECTURE §5 says."""
    config = read_programs_file()
    units = [SimUnit(id=n, call_sign=u.call_sign, program=u.program, home=u.home, position=u.home)  # type: ignore[arg-type]
             for n, u in enumerate(config.units, 1)]
    history = Simulation(seed=seed, start=date.fromordinal(end.toordinal() - 365), days=365,
                         zone=ZoneInfo("America/New_York"), units=units,
                         max_wait_minutes={p.code: p.max_wait_minutes for p in config.programs},
                         policy=load_policy_by_name("durham"), cal=calibration()).run()
    figures = {}
    for code in ("CRT", "COR"):
        done = [r for c in history.calls for r in c.responses if r.program == code and r.cleared is not None]
        to_scene = [(r.on_scene - r.dispatched) / 60 for r in done]  # type: ignore[operator]
        on_scene = [(r.cleared - r.on_scene) / 60 for r in done]  # type: ignore[operator]
        figures[code] = {
            "responses": len(done), "avg_minutes_to_scene": mean(to_scene), "avg_minutes_on_scene": mean(on_scene),
            "avg_total_minutes": mean(to_scene) + mean(on_scene),
            "pct_needed_transport": 100 * sum(bool(r.transported) for r in done) / len(done),
            "pct_needed_pd_backup_for_team_safety": 100 * sum(bool(r.pd_backup_for_safety) for r in done) / len(done),
            "pct_needed_ems_support": 100 * sum(bool(r.ems_support) for r in done) / len(done)}
    return figures


@pytest.mark.parametrize("end", [END, datetime.now(ZoneInfo("America/New_York")).date()], ids=["fixed", "today"])
def test_a_default_year_lands_on_the_published_dashboard(end: date) -> None:
    simulated = simulate_year(end)
    for code, target in published().items():
        for name, value in target.items():
            got = simulated[code][name]
            if name.startswith("pct_"):
                assert abs(got - value) <= 0.3, f"{code} {name}: {got:.2f} vs published {value}"
            else:
                assert abs(got - value) <= 0.02 * value, f"{code} {name}: {got:.2f} vs published {value}"


def _build(url: str, seed: int, years: float) -> None:
    with transaction(make_sessionmaker(make_engine(url))) as session:
        load_demo_configuration(session=session, now=utcnow(), rng=random.Random(seed))
        build_history(session=session, seed=seed, years=years, end=END)


def _story(url: str) -> tuple[Any, ...]:
    engine = make_engine(url)
    with Session(engine) as session:
        calls = session.execute(select(Call.received_at, Call.incident_type, Call.pathway, Call.screening, Call.beat)
                                .order_by(Call.id)).all()
        responses = session.execute(select(Response.unit_id, Response.dispatched_at, Response.cleared_at,
                                           Response.transported).order_by(Response.id)).all()
        events = session.scalar(select(func.count()).select_from(Event))
    engine.dispose()
    with open_database(url) as source:
        figures = compute_metrics(source=source, period=Period()).model_dump()
    return tuple(calls), tuple(responses), events, figures


def test_the_same_seed_builds_the_same_history(tmp_path: Path, sqlite_template: Path) -> None:
    urls = []
    for name in ("one", "two", "other"):
        path = tmp_path / f"{name}.db"
        path.write_bytes(sqlite_template.read_bytes())
        urls.append(f"sqlite:///{path}")
    _build(urls[0], 11, 0.05)
    _build(urls[1], 11, 0.05)
    _build(urls[2], 12, 0.05)
    first, second, other = (_story(url) for url in urls)
    assert first == second
    assert first[0] != other[0]
    assert first[3]["programs"]["CRT"]["responses"] > 0


def test_the_history_tells_a_consistent_story(database_url: str) -> None:
    _build(database_url, 5, 0.03)
    engine = make_engine(database_url)
    with transaction(make_sessionmaker(engine)) as session:
        policy = load_policy_by_name("durham")
        crt = session.scalar(select(Program.id).where(Program.code == "CRT"))
        by_unit: dict[int, list[tuple[datetime, datetime]]] = defaultdict(list)
        responses = list(session.scalars(select(Response)))
        assert responses
        calls = {c.id: c for c in session.scalars(select(Call))}
        for response in responses:
            call = calls[response.call_id]
            end = response.cleared_at or response.cancelled_at
            assert end is not None and response.dispatched_at >= call.received_at
            steps = [response.dispatched_at, response.en_route_at, response.on_scene_at,
                     response.transport_started_at, response.cleared_at]
            present = [step for step in steps if step is not None]
            assert present == sorted(present)
            by_unit[response.unit_id].append((response.dispatched_at, end))
            if response.program_id == crt:  # the safety invariant, by the one check dispatch makes
                assert call_blockers(policy, call) == [], (call.id, call.nature_code, call.screening)
        for spans in by_unit.values():
            spans.sort()
            assert all(later[0] >= earlier[1] for earlier, later in itertools.pairwise(spans))
        cleared = sum(1 for r in responses if r.cleared_at is not None)
        felt_safe = [r.team_felt_safe for r in responses if r.cleared_at is not None]  # asked at every clear
        assert None not in felt_safe and 0.97 * cleared <= sum(felt_safe) < cleared + 1  # about 99 %
        assert all(r.team_felt_safe is None for r in responses if r.cleared_at is None)
        assert session.scalar(select(func.count()).select_from(Encounter).where(
            Encounter.response_id.is_not(None))) == cleared
        assert session.scalar(select(func.count()).select_from(Event).where(
            Event.kind == "response.dispatched")) == len(responses)
        assert (session.scalar(select(func.count()).select_from(TriageDecision)) or 0) >= len(calls)
        # the ids written in bulk leave the sequences ready for the live program
        added = Call(source="911", received_at=datetime.now(UTC), screening={})
        session.add(added)
        session.flush()
        assert added.id > max(calls)
        # calls of CRT's types that screening kept from it: recorded as facts of the call as it stood
        kept = session.execute(select(TriageDecision.call_id, TriageDecision.exclusions)
                               .where(TriageDecision.excluded_pathway == "CRT")).all()
        assert kept
        for call_id, held in kept:
            holding = [b.exclusion.id for b in call_blockers(policy, calls[call_id]) if b.holds]
            assert held and set(held) == set(holding), (call_id, held, holding)
    engine.dispose()
    with open_database(database_url) as source:
        reach = compute_metrics(source=source, period=Period()).programs["CRT"].reach
    assert reach is not None and reach.reached_calls + sum(reach.missed.values()) == reach.eligible_calls
    assert 0.05 * reach.eligible_calls <= reach.missed["exclusion"] <= 0.25 * reach.eligible_calls  # 13 % in a
    # tenth of a year (seed 5): CRT's types with a weapon, a risk to others, medical care or Priority P


@pytest.fixture
def demo_database(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("HEART_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("HEART_ENV", "test")
    get_settings.cache_clear()
    yield sqlite_url
    get_settings.cache_clear()


def test_heart_demo_builds_the_history_and_keeps_its_logins(demo_database: str, tmp_path: Path) -> None:
    logins = tmp_path / "logins"
    runner = CliRunner()
    built = runner.invoke(app, ["demo", "--seed", "3", "--years", "0.02", "--logins-file", str(logins)])
    assert built.exit_code == 0, built.output
    assert "calls; responses" in built.output and "supervisor" in built.output
    assert "care navigation:" in built.output and "follow-ups" in built.output
    again = runner.invoke(app, ["demo", "--if-empty", "--logins-file", str(logins)])
    assert again.exit_code == 0 and "supervisor" in again.output and "history" not in again.output
    refused = runner.invoke(app, ["demo", "--logins-file", str(logins)])
    assert refused.exit_code == 1 and "already holds data" in refused.output
