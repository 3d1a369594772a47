"""Reach: calls eligible for a field program that got its response, every missed one under its one true reason.

The calls are made through the real services — intake, triage, hand-off, dispatch, the four fallbacks, an
exclusion found by screening, an override, a cancellation — so each reason counted is the one recorded when it
happened; the same numbers come out of SQLite, PostgreSQL and DuckDB over a Parquet export.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from heart.auth.models import Role
from heart.cli import app
from heart.config import get_settings
from heart.db import transaction
from heart.dispatch import flows, service
from heart.dispatch.schemas import CancelResponse, ClearResponse
from heart.metrics import definitions as d
from heart.metrics.backends import open_database, open_parquet
from heart.metrics.backends.duckdb import export_history, export_reach
from heart.metrics.schemas import MetricsReport
from heart.metrics.service import compute_metrics
from heart.programs.models import Program
from heart.triage.engine import NOT_DISPATCHED_IN_TIME
from heart.triage.service import override_decision, send_to_agency
from tests.dispatch.scenario import NORTH, World, always_open, world

CLEAR = ClearResponse(pd_backup_for_safety=False, ems_support=False, disposition="resolved on scene")
EXPECTED_CRT = {"eligible_calls": 8, "reached_calls": 1, "pct_reached": 12.5, "in_progress": 3, "missed": {
    "program_closed": 1, "no_unit_available": 1, "no_unit_in_time": 1, "not_dispatched_in_time": 1,
    "exclusion": 1, "sent_elsewhere": 1, "called_off": 1, "other": 0}}


def _send(w: World, call_id: int, unit: str) -> int:
    with transaction(w.sessions) as session:
        return service.assign_unit(session=session, call_id=call_id, unit_id=w.units[unit], at=w.now, now=w.now,
                                   by=w.dispatcher).id


def _fall_back(w: World, call_id: int, **options: object) -> None:
    with transaction(w.sessions) as session:
        flows.fall_back(session=session, call_id=call_id, now=w.now, by=w.dispatcher,
                        **{"policy": always_open(), **options})  # type: ignore[arg-type]


def build_history(sessions: sessionmaker[Session]) -> World:
    """Eleven calls of CRT's types, each ending a different way (see EXPECTED_CRT): two of them kept from CRT by an
    exclusion — a welfare check with a weapon, sent to the police, and a crisis with a weapon, Co-Response's and still
    open."""
    w = world(sessions, "CRT", "COR")
    w.add_unit("CRT", "CRT-1", home=NORTH)
    w.add_unit("CRT", "CRT-2", home=NORTH)
    with transaction(sessions) as session:
        session.get_one(Program, w.programs["CRT"]).max_wait_minutes = 15
    reached = w.add_call()
    response = _send(w, reached, "CRT-1")
    with transaction(sessions) as session:
        service.mark_on_scene(session=session, response_id=response, at=w.now, now=w.now, by=w.dispatcher)
        service.clear_response(session=session, response_id=response, outcome=CLEAR, at=w.now, now=w.now,
                               by=w.dispatcher)
    called_off = w.add_call()
    response = _send(w, called_off, "CRT-1")
    with transaction(sessions) as session:
        service.cancel_response(session=session, response_id=response, at=w.now, now=w.now, by=w.dispatcher,
                                data=CancelResponse(reason="caller withdrew", call_still_needs_response=False))
    still_out = w.add_call()  # in progress: a unit on the way
    _send(w, still_out, "CRT-1")
    back_in_queue = w.add_call()
    second = _send(w, back_in_queue, "CRT-2")
    no_unit = w.add_call()
    _fall_back(w, no_unit)  # both units busy: no unit on duty and free
    with transaction(sessions) as session:  # in progress again: waiting in the queue
        service.cancel_response(session=session, response_id=second, data=CancelResponse(reason="flat tyre"),
                                at=w.now, now=w.now, by=w.dispatcher)
    late = w.add_call(when=w.now - timedelta(minutes=20))
    _fall_back(w, late, confirm=NOT_DISPATCHED_IN_TIME)  # CRT-2 free all along
    far = w.add_call(at=(36.60, -79.50), when=w.now - timedelta(minutes=1))
    _fall_back(w, far)  # CRT-2 free, but more than an hour away
    closed = w.add_call(when=w.now - timedelta(minutes=1))
    policy = always_open()
    _fall_back(w, closed, policy=dataclasses.replace(policy, programs={
        **policy.programs, "CRT": dataclasses.replace(policy.programs["CRT"], hours=())}))
    elsewhere = w.add_call(hand_off=False)
    with transaction(sessions) as session:
        override_decision(session=session, call_id=elsewhere, pathway="PD", reason="caller asked for police",
                          now=w.now, actor_id=w.dispatcher.id, policy=policy)
        send_to_agency(session=session, call_id=elsewhere, now=w.now, actor_id=w.dispatcher.id, policy=policy)
    weapon = w.add_call(screening={"weapon": "yes", "medical_intervention": "no", "imminent_risk_to_others": "no"})
    with transaction(sessions) as session:  # the police went: closed on HEART's side
        send_to_agency(session=session, call_id=weapon, now=w.now, actor_id=w.dispatcher.id, policy=policy)
    w.add_call(nature_code="MENTAL HEALTH CASE", screening={"weapon": "yes", "medical_intervention": "no",
                                                           "imminent_risk_to_others": "no"})  # COR's, open
    return w


@pytest.fixture
def reach_url(database_url: str, sessions: sessionmaker[Session], all_day_policy: Path) -> str:
    build_history(sessions)
    return database_url


def report(url: str, period: d.Period | None = None) -> MetricsReport:
    with open_database(url) as source:
        return compute_metrics(source=source, period=period or d.Period())


def test_every_missed_eligible_call_counts_under_its_one_recorded_reason(reach_url: str) -> None:
    programs = report(reach_url).programs
    crt, cor = programs["CRT"].reach, programs["COR"].reach
    assert crt is not None and crt.model_dump() == EXPECTED_CRT
    assert cor is not None and (cor.eligible_calls, cor.in_progress, cor.pct_reached) == (0, 1, None)
    assert programs["CRT"].responses == 1  # the published figures are unchanged by reach
    tomorrow = date.today() + timedelta(days=2)
    later = report(reach_url, d.Period(since=tomorrow)).programs["CRT"].reach
    assert later is not None and later.eligible_calls == later.in_progress == 0  # by the day each call came in


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_duckdb_over_a_parquet_export_counts_reach_the_same(reach_url: str, tmp_path: Path) -> None:
    with open_database(reach_url) as source:
        export_history(source, tmp_path / "history.parquet")
        assert export_reach(source, tmp_path / "reach.parquet") == 12  # the open crisis is CRT's and COR's
    with open_parquet(str(tmp_path / "history.parquet"), reach=str(tmp_path / "reach.parquet")) as source:
        duck = compute_metrics(source=source, period=d.Period())
    assert duck.model_dump() == report(reach_url).model_dump()
    import pyarrow.parquet as pq

    older = pq.read_table(tmp_path / "reach.parquet").drop_columns(["excluded"])  # exported before it was kept
    pq.write_table(older, tmp_path / "older.parquet")
    with open_parquet(str(tmp_path / "history.parquet"), reach=str(tmp_path / "older.parquet")) as source:
        reach = compute_metrics(source=source, period=d.Period()).programs["CRT"].reach
    assert reach is not None and (reach.missed["exclusion"], reach.missed["other"]) == (0, 1)  # read as not known


@pytest.fixture
def cli_database(reach_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("HEART_DATABASE_URL", reach_url)
    monkeypatch.setenv("HEART_ENV", "test")
    get_settings.cache_clear()
    yield reach_url
    get_settings.cache_clear()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_heart_metrics_and_the_dashboard_show_reach_by_reason(
    cli_database: str, signed_in: Callable[..., TestClient]
) -> None:
    runner = CliRunner()
    document = json.loads(runner.invoke(app, ["metrics", "--format", "json"]).stdout)
    assert document["programs"]["CRT"]["reach"] == EXPECTED_CRT
    table = runner.invoke(app, ["metrics", "--program", "CRT"]).stdout
    assert "Reach" in table and "12.50%" in table and "not dispatched in time while units were free" in table
    page = signed_in(Role.SUPERVISOR).get("/metrics", headers={"accept": "text/html"}).text
    assert 'data-program="CRT" data-figure="pct_reached">12.50%<' in page
    assert 'data-figure="missed:not_dispatched_in_time">1<' in page
    assert 'data-figure="missed:no_unit_available">1<' in page
    assert 'data-figure="missed:exclusion">1<' in page
    assert "an exclusion: the call had a weapon" in table  # (the table wraps the rest of the words)
