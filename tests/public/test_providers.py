"""Care Navigation's and familiar neighbors' public groups are protected like the built-in ones: a small count
reads "fewer than 11", a share that would reveal one is hidden, and a small need among referrals cannot be worked out
from the total and the other needs."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import ibis
import pytest

from heart.metrics.backends.duckdb import duckdb_epoch_micros
from heart.metrics.backends.source import MetricsSource
from heart.metrics.care import CARE_ENCOUNTERS_SCHEMA, REFERRALS_SCHEMA
from heart.metrics.definitions import HISTORY_SCHEMA
from heart.metrics.public.groups import RawGroup, Share, year_period
from heart.metrics.public.service import protect, render_group
from heart.public.providers import care_provider

ZONE = "America/New_York"


def source(encounters: list[dict[str, object]], referrals: list[dict[str, object]]) -> MetricsSource:
    connection = ibis.duckdb.connect()
    history = connection.create_table("history", schema=HISTORY_SCHEMA)
    return MetricsSource("duckdb", connection, history, duckdb_epoch_micros, materialize=False,
                         care_encounters=ibis.memtable(encounters, schema=CARE_ENCOUNTERS_SCHEMA),
                         care_referrals=ibis.memtable(referrals, schema=REFERRALS_SCHEMA))


def encounter(day: int, *, in_time: bool) -> dict[str, object]:
    at = datetime(2024, 3, 1, 15, tzinfo=UTC) + timedelta(days=day)
    attempt = at + timedelta(hours=10 if in_time else 60)
    return {"program": "CRT", "timezone": ZONE, "encountered_at": at, "due_at": at + timedelta(hours=48),
            "first_attempt_at": attempt, "first_contact_at": attempt}


def referral(day: int, need: str, *, completed: bool) -> dict[str, object]:
    at = datetime(2024, 5, 1, 15, tzinfo=UTC) + timedelta(days=day)
    return {"program": "CRT", "timezone": ZONE, "need": need, "made_at": at, "accepted_at": at,
            "completed_at": at + timedelta(days=3) if completed else None, "declined_at": None,
            "no_response_at": None}


def test_care_figures_are_published_under_the_care_program_with_small_counts_hidden() -> None:
    encounters = [encounter(day, in_time=day >= 4) for day in range(60)]  # 56 in time, 4 late
    referrals = ([referral(day, "housing", completed=day % 2 == 0) for day in range(30)]
                 + [referral(day, "food", completed=True) for day in range(25)]
                 + [referral(day, "legal", completed=False) for day in range(3)])  # a small need
    groups = care_provider("CN")(source=source(encounters, referrals), period=year_period(2024))
    care, made = (render_group(group, protect(group)) for group in groups)
    assert {group.program for group in groups} == {"CN"}
    assert care.figures["consented_encounters"].text == "60"
    assert care.figures["followed_up_in_time"].text == "fewer than 11"  # its rest (4 late) would reveal it
    assert care.figures["pct_followed_up_in_time"].suppressed
    by_need = {row.key: row.cells["count"].text for row in made.tables["referrals_by_need"].rows}
    assert by_need["legal"] == "fewer than 11"
    hidden = [need for need, text in by_need.items() if text == "fewer than 11"]
    assert len(hidden) >= 2, "one hidden need alone is the total minus the others"
    assert made.figures["referrals_made"].text == "58" and made.figures["referrals_completed"].text == "40"
    assert made.figures["pct_referrals_completed"].text == "68.97%"


@pytest.mark.parametrize(("familiar", "shown"), [(5, False), (0, True), (12, True)])
def test_the_familiar_neighbors_share_hides_a_small_count(familiar: int, shown: bool) -> None:
    group = RawGroup(program="CN", year=2024, group="familiar", total_key="neighbors_served", total=400,
                     parts={"familiar_neighbors": familiar},
                     shares={"pct_familiar_of_neighbors": Share(familiar, 400)})
    rendered = render_group(group, protect(group))
    assert (rendered.figures["familiar_neighbors"].text != "fewer than 11") is shown
    assert rendered.figures["pct_familiar_of_neighbors"].suppressed is not shown


def test_a_year_without_care_records_publishes_nothing() -> None:
    assert care_provider("CN")(source=source([], []), period=year_period(2024)) == []
    assert date(2024, 1, 1) == year_period(2024).since
