"""Finding services in the demo directory: by need, language, age, open now and distance, a page at a time."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from heart.config import SOURCE_ROOT
from heart.errors import InvalidInput
from heart.navigation.resources.importer import ImportSummary
from heart.navigation.resources.needs import city_needs
from heart.navigation.resources.schedules import describe, open_state, unusable_reason
from heart.navigation.resources.service import Results, Search, search_services
from heart.navigation.resources.sites import haversine_km
from tests.navigation.conftest import DEMO, DURHAM, HAYTI, MONDAY_10AM

ImportRun = Callable[..., ImportSummary]
NEEDS = city_needs(SOURCE_ROOT / "cities" / "durham" / "resources")
FOOD = {"Community food pantry", "Mobile market", "Community meals", "Youth drop-in center",
        "SNAP and Medicaid application help"}


@pytest.fixture
def find(run_import: ImportRun, sessions: sessionmaker[Session]) -> Callable[..., Results]:
    run_import(DEMO)

    def search(at: datetime = MONDAY_10AM, **criteria: Any) -> Results:
        with sessions() as session:
            return search_services(session=session, search=Search(**criteria), needs=NEEDS, now=at, zone=DURHAM)

    return search


def names(results: Results) -> list[str]:
    return [hit.service.name for hit in results.hits]


def test_by_need_language_open_now_and_distance(find: Callable[..., Results]) -> None:
    food = find(need="food", per_page=50)
    assert set(names(food)) == FOOD  # the pantry is tagged "Food pantry", a narrower term under Food
    assert all("food" in hit.needs for hit in food.hits)
    assert find(need="Behavioral Health", per_page=50).total == find(need="mental health", per_page=50).total > 0

    assert names(find(need="food", open_now=True)) == ["SNAP and Medicaid application help"]  # Monday 10:00
    noon = MONDAY_10AM.replace(hour=12)
    assert set(names(find(at=noon, need="food", open_now=True))) == {"SNAP and Medicaid application help",
                                                                     "Community meals"}

    arabic = {"Mobile crisis line", "Walk-in counseling", "Peer support group"}  # the line, and at a site
    for asked in ("ar", "ara", "Arabic", "ARABIC"):
        assert set(names(find(language=asked, per_page=50))) == arabic, asked
    assert names(find(need="food", language="es", open_now=True, at=noon)) == ["SNAP and Medicaid application help"]

    near = find(near=HAYTI, within_km=1.0)
    assert names(near) == ["Community food pantry", "Free tax preparation", "SNAP and Medicaid application help"]
    distances = [hit.site.distance_km for hit in near.hits if hit.site]
    assert distances[0] == 0.0 and distances == sorted(distances) and distances[-1] < 1.0
    everything = find(near=HAYTI, per_page=50)
    assert everything.total == 23
    placeless = [hit.service.name for hit in everything.hits if hit.site is None]
    assert names(everything)[-len(placeless):] == placeless  # no site on the map: listed after the others
    assert "24-hour crisis and safety line" in placeless


def test_ages_and_words_narrow_the_search(find: Callable[..., Results]) -> None:
    teen = set(names(find(age=15, per_page=50)))
    assert "Youth drop-in center" in teen and "Emergency night shelter" not in teen  # adults 18+
    assert "Youth drop-in center" not in names(find(age=30, per_page=50))  # 13 to 24
    assert names(find(text="naloxone")) == ["Naloxone and harm reduction supplies"]
    assert set(names(find(text="Safe Harbor", per_page=50))) == {"24-hour crisis and safety line",
                                                                  "Safety planning and court advocacy"}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_pages_cover_every_service_once(find: Callable[..., Results]) -> None:
    pages = [find(page=number, per_page=5) for number in range(1, 6)]
    assert [len(page.hits) for page in pages] == [5, 5, 5, 5, 3]
    assert {page.total_pages for page in pages} == {5}
    seen = [name for page in pages for name in names(page)]
    assert len(seen) == len(set(seen)) == 23 and seen == sorted(seen, key=str.casefold)
    assert find(page=6, per_page=5).hits == []


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_search_a_person_got_wrong_says_why(find: Callable[..., Results]) -> None:
    with pytest.raises(InvalidInput, match="'groceries' is not a need HEART knows; the needs are: mental health"):
        find(need="groceries")
    with pytest.raises(InvalidInput, match="a distance needs a point"):
        find(within_km=3)


# --- opening hours (no database) ------------------------------------------------------------------------------

FIELDS = ("valid_from", "valid_to", "dtstart", "timezone", "until", "count", "wkst", "freq", "interval", "byday",
          "byweekno", "bymonthday", "byyearday", "opens_at", "closes_at")


def schedule(**values: Any) -> Any:
    return SimpleNamespace(**{**dict.fromkeys(FIELDS), **values})


def at(day: str, clock: str) -> datetime:
    return datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=DURHAM)


def is_open(schedules: list[Any], moment: datetime) -> bool | None:
    return open_state(schedules, moment, DURHAM).open


def test_weekday_overnight_and_around_the_clock_hours() -> None:
    weekdays = schedule(freq="WEEKLY", byday="MO,TU,WE,TH,FR", opens_at="09:00", closes_at="17:00")
    assert is_open([weekdays], at("2025-12-01", "09:00")) is True  # Monday at opening
    assert is_open([weekdays], at("2025-12-01", "17:00")) is False  # closing time is closed
    state = open_state([weekdays], at("2025-12-06", "10:00"), DURHAM)  # Saturday
    assert state.open is False and state.next_opens == at("2025-12-08", "09:00")
    assert describe(weekdays) == "Mon, Tue, Wed, Thu, Fri 09:00–17:00"

    night = schedule(freq="WEEKLY", byday="FR", opens_at="18:00", closes_at="08:00")
    assert is_open([night], at("2025-12-06", "07:59")) is True  # Saturday morning, from Friday night
    assert is_open([night], at("2025-12-06", "08:00")) is False

    always = schedule(opens_at="00:00", closes_at="00:00")
    state = open_state([always], at("2025-12-01", "23:59"), DURHAM)
    assert state.open is True and state.until is not None and state.until - at("2025-12-01", "23:59") > timedelta(
        days=5)  # one opening, not "until midnight"
    assert describe(always) == "every day around the clock"


def test_monthly_fortnightly_seasonal_and_offset_hours() -> None:
    market = schedule(freq="MONTHLY", byday="2SA,4SA", opens_at="10:00", closes_at="13:00")
    assert [is_open([market], at(day, "11:00")) for day in ("2025-12-06", "2025-12-13", "2025-12-20",
                                                           "2025-12-27")] == [False, True, False, True]
    assert open_state([market], at("2025-12-28", "11:00"), DURHAM).next_opens == at("2026-01-10", "10:00")
    assert describe(market) == "2nd Sat, 4th Sat 10:00–13:00"

    fortnightly = schedule(freq="WEEKLY", interval=2, byday="WE", dtstart=date(2005, 1, 5), opens_at="09:00",
                           closes_at="12:00")
    assert [is_open([fortnightly], at(day, "10:00")) for day in ("2025-12-03", "2025-12-10", "2025-12-17")] == [
        False, True, False]  # 1,092 weeks after 5 January 2005 is an on week

    season = schedule(freq="WEEKLY", byday="SA", opens_at="10:00", closes_at="14:00", valid_from=date(2026, 1, 24),
                      valid_to=date(2026, 4, 11))
    assert [is_open([season], at(day, "11:00")) for day in ("2026-01-17", "2026-01-24", "2026-04-11",
                                                           "2026-04-18")] == [False, True, True, False]

    eastern = schedule(opens_at="09:00-05:00", closes_at="17:00-05:00")  # written with its offset
    assert is_open([eastern], datetime.fromisoformat("2025-12-01T14:30:00+00:00")) is True
    utc_plus_three = schedule(opens_at="09:00", closes_at="10:00", timezone=3)  # HSDS's own timezone field
    assert is_open([utc_plus_three], datetime.fromisoformat("2025-12-01T06:30:00+00:00")) is True

    after_dst = schedule(freq="WEEKLY", byday="MO", opens_at="09:00", closes_at="10:00")  # clocks went forward
    assert is_open([after_dst], datetime.fromisoformat("2026-03-09T13:30:00+00:00")) is True  # 09:30 EDT


def test_hours_heart_cannot_read_are_unknown_never_open() -> None:
    assert is_open([], MONDAY_10AM) is None
    no_times = schedule(freq="WEEKLY", byday="MO")
    assert is_open([no_times], MONDAY_10AM) is None and unusable_reason(no_times) == (
        "no opening hours (opens_at and closes_at)")
    no_start = schedule(freq="WEEKLY", interval=2, byday="MO", opens_at="09:00", closes_at="17:00")
    assert is_open([no_start], MONDAY_10AM) is None
    assert "gives no dtstart or valid_from" in (unusable_reason(no_start) or "")


def test_haversine_distance() -> None:
    assert haversine_km((0.0, 0.0), (0.0, 1.0)) == pytest.approx(111.195, abs=0.001)
    assert haversine_km(HAYTI, HAYTI) == 0.0
    durham, raleigh = (35.9940, -78.8986), (35.7796, -78.6382)
    assert haversine_km(durham, raleigh) == pytest.approx(33.4, abs=0.3)
