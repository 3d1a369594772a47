"""`heart export public-figures` gives what the public page gives: the metrics' groups and those other domains add —
Care Navigation's follow-ups in time and the familiar neighbors' shares — with the same suppression."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from heart.calls.models import Call
from heart.cli import app
from heart.config import get_settings
from heart.db import make_engine, make_sessionmaker, transaction
from heart.encounters.models import Encounter
from heart.navigation.followups.models import ContactAttempt, FollowUp, FollowUpStatus
from heart.neighbors.models import Neighbor, NeighborLink
from tests.metrics.public_history import plant

FAMILIAR, OTHERS, CALLS_EACH = 7, 200, 6
"""Seven neighbors named on six calls each (five make a familiar neighbor in Durham), two hundred on one."""
IN_TIME, LATE = 36, 4
"""Consented encounters whose first attempt came before its due time, and after."""
JAN_1, JAN_2, DEC_31 = (datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 1, 2, tzinfo=UTC),
                        datetime(2024, 12, 31, tzinfo=UTC))


@pytest.fixture
def planted_url(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    engine = make_engine(sqlite_url)
    plant(engine)
    with transaction(make_sessionmaker(engine)) as session:
        calls = list(session.scalars(select(Call.id).where(Call.received_at >= JAN_2,
                                                           Call.received_at < DEC_31)
                                     .order_by(Call.id)))
        people = [Neighbor(created_at=JAN_1) for _ in range(FAMILIAR + OTHERS)]
        session.add_all(people)
        session.flush()
        named = iter(calls)
        for index, person in enumerate(people):
            for _ in range(CALLS_EACH if index < FAMILIAR else 1):
                session.add(NeighborLink(neighbor_id=person.id, call_id=next(named), linked_at=JAN_1))
        encounters = list(session.scalars(select(Encounter).join(Call, Call.id == Encounter.call_id)
                                          .where(Call.received_at >= JAN_2).order_by(Encounter.id)
                                          .limit(IN_TIME + LATE)))
        for index, encounter in enumerate(encounters):
            encounter.consent_to_follow_up = True
            follow_up = FollowUp(neighbor_id=people[index].id, encounter_id=encounter.id,
                                 status=FollowUpStatus.IN_CONTACT, opened_at=encounter.created_at,
                                 due_at=encounter.created_at + timedelta(hours=48))
            session.add(follow_up)
            session.flush()
            attempt = encounter.created_at + timedelta(hours=5 if index < IN_TIME else 60)
            session.add(ContactAttempt(follow_up_id=follow_up.id, at=attempt, method="phone", result="reached",
                                       reached=True, recorded_at=attempt, client_token=f"attempt-{index}"))
    engine.dispose()
    monkeypatch.setenv("HEART_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("HEART_ENV", "test")
    get_settings.cache_clear()
    yield sqlite_url
    get_settings.cache_clear()


def test_the_exported_figures_hold_care_navigation_and_familiar_neighbors_with_small_counts_hidden(
    planted_url: str,
) -> None:
    exported = CliRunner().invoke(app, ["export", "public-figures", "--year", "2024"])
    assert exported.exit_code == 0, exported.output
    care_program = json.loads(exported.stdout)["programs"]["CN"]["groups"]  # Durham's Care Navigation
    care = care_program["care"]["figures"]
    assert care["consented_encounters"]["text"] == "40"
    assert care["followed_up_in_time"]["text"] == "fewer than 11"  # 36 of 40: its rest, 4 late, would show
    assert care["pct_followed_up_in_time"]["suppressed"] is True
    familiar = care_program["familiar"]["figures"]
    assert familiar["neighbors_served"]["text"] == "207"
    assert familiar["familiar_neighbors"]["text"] == "fewer than 11"  # 7
    assert familiar["pct_familiar_of_neighbors"]["suppressed"] is True and familiar["pct_familiar_of_neighbors"][
        "value"] is None
    responses = care_program["familiar_responses"]["figures"]
    assert responses["responses_to_neighbors"]["text"] == "242" and responses["responses_to_familiar"]["text"] == "42"
    assert responses["pct_familiar_of_responses"]["text"] == "17.36%"
    assert "reach" in json.loads(exported.stdout)["programs"]["CRT"]["groups"]  # the metrics' own groups still there


def test_a_history_folder_holds_neither_so_they_are_left_out(planted_url: str, tmp_path: object) -> None:
    runner = CliRunner()
    folder = f"{tmp_path}/history"
    assert runner.invoke(app, ["export", "history", "--out", folder]).exit_code == 0
    exported = runner.invoke(app, ["export", "public-figures", "--year", "2024", "--history", folder])
    assert exported.exit_code == 0, exported.output
    programs = json.loads(exported.stdout)["programs"]
    assert "CN" not in programs and programs["CRT"]["groups"]["reach"]["figures"]["eligible_calls"]["text"] == "329"
