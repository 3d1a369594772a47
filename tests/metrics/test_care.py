"""Care navigation's figures, worked out by hand, the same on SQLite and PostgreSQL: % of consented encounters
followed up by their due time, median hours to first contact, referrals by need and how their loops closed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from heart.auth.models import Role
from heart.config import Settings
from heart.db import transaction
from heart.main import create_app
from heart.metrics.backends import open_database
from heart.metrics.definitions import Period
from heart.metrics.service import compute_metrics
from heart.navigation.followups import service
from heart.navigation.followups.models import ReferralStatus
from tests.conftest import Account, login
from tests.navigation.followups.care import Care, a_service, care_world

NOW = datetime(2025, 3, 3, 15, 0, tzinfo=UTC)  # 10:00 in Durham (EST until March 9)


def build(sessions: sessionmaker[Session]) -> Care:
    """Four consented encounters (A, B, C, D) and one without consent; attempts and referrals at known hours."""
    care = care_world(sessions, now=NOW)
    shelter, pantry = a_service(sessions, "shelter"), a_service(sessions, "pantry")
    opened = {name: NOW - timedelta(hours=hours) for name, hours in (("A", 72), ("B", 60), ("C", 50), ("D", 10))}
    made = {name: care.clear_with(at=at) for name, at in opened.items()}
    care.clear_with(consent=False, handoff=None, at=NOW - timedelta(hours=5))
    tokens = iter(range(1000, 2000))

    def attempt(name: str, hours: float, result: str) -> None:
        at = opened[name] + timedelta(hours=hours)
        with transaction(sessions) as session:
            service.record_attempt(session=session, follow_up_id=made[name].id, method="phone",  # type: ignore[union-attr]
                                   result=result, at=at, now=at, by=care.navigator,
                                   client_token=f"attempt-{next(tokens)}", rules=care.rules)

    def refer(name: str, hours: float, need: str, service_id: str, *steps: tuple[ReferralStatus, float]) -> None:
        at = opened[name] + timedelta(hours=hours)
        with transaction(sessions) as session:
            referral = service.make_referral(session=session, follow_up_id=made[name].id,  # type: ignore[union-attr]
                                             need=need, service_id=service_id, at=at, now=at, by=care.navigator,
                                             client_token=f"referral-{next(tokens)}", rules=care.rules,
                                             consent_to_share=True)
            for status, later in steps:
                when = opened[name] + timedelta(hours=later)
                service.move_referral(session=session, referral_id=referral.id, status=status, at=when, now=when,
                                      by=care.navigator)

    attempt("A", 10, "no_answer")  # A: first attempt at 10 h (in time), reached at 30 h
    attempt("A", 30, "reached")
    attempt("B", 50, "reached")  # B: first attempt at 50 h, after its 48 h due time; reached at 50 h
    attempt("D", 2, "reached")  # D: reached at 2 h.  C: never tried.
    refer("A", 31, "housing", shelter.id, (ReferralStatus.ACCEPTED, 35), (ReferralStatus.COMPLETED, 60))
    refer("B", 51, "housing", shelter.id)
    refer("D", 3, "food", pantry.id, (ReferralStatus.DECLINED, 5))
    return care


def figures(database_url: str, period: Period = Period()) -> dict[str, object]:
    with open_database(database_url) as source:
        report = compute_metrics(source=source, period=period)
    assert report.care is not None
    return report.care.model_dump()


def test_the_care_figures_match_the_hand_count(database_url: str, sessions: sessionmaker[Session]) -> None:
    build(sessions)
    care = figures(database_url)
    expected_all = {"consented_encounters": 4, "followed_up_in_time": 2, "pct_followed_up_in_time": 50.0,
                    "reached": 3, "median_hours_to_first_contact": 30.0}  # contacts at 2, 30 and 50 h
    assert care["all"] == expected_all
    assert care["by_program"] == {"CRT": expected_all}
    assert care["referrals_by_need"] == {
        "housing": {"made": 2, "accepted": 1, "completed": 1, "declined": 0, "no_response": 0},
        "food": {"made": 1, "accepted": 0, "completed": 0, "declined": 1, "no_response": 0},
    }


def test_the_period_is_the_encounters_local_date(database_url: str, sessions: sessionmaker[Session]) -> None:
    build(sessions)
    # D's encounter is at 05:00 UTC on March 3: midnight in Durham, so March 3 there.
    march_3 = figures(database_url, Period(since=date(2025, 3, 3), until=date(2025, 3, 3)))
    assert march_3["all"] == {"consented_encounters": 1, "followed_up_in_time": 1, "pct_followed_up_in_time": 100.0,
                              "reached": 1, "median_hours_to_first_contact": 2.0}
    # Referrals count by when they were made: B's (an encounter of February 28) was made at 01:00 on March 3.
    assert march_3["referrals_by_need"] == {
        "food": {"made": 1, "accepted": 0, "completed": 0, "declined": 1, "no_response": 0},
        "housing": {"made": 1, "accepted": 0, "completed": 0, "declined": 0, "no_response": 0}}
    # B's encounter is at 03:00 UTC on March 1: still February 28 in Durham.
    february = figures(database_url, Period(until=date(2025, 2, 28)))
    assert february["all"]["consented_encounters"] == 2  # type: ignore[index]
    assert february["all"]["median_hours_to_first_contact"] == 40.0  # type: ignore[index]  # 30 and 50 h


def test_the_dashboard_shows_the_care_figures(
    app_settings: Settings, sessions: sessionmaker[Session], make_user: Callable[..., Account],
) -> None:
    # The world is built at a fixed hour of 2025 before the app starts: a running app's shift schedule, at
    # today's time, would take CRT-1 off duty (its shift is in 2025) in the middle of building it on a slow machine.
    build(sessions)
    app = create_app(app_settings)
    with TestClient(app) as client:
        page = login(client, make_user(Role.ANALYST).username).get("/metrics")
    app.state.engine.dispose()
    app.state.read_engine.dispose()
    assert page.status_code == 200
    text = page.text
    assert "Care navigation" in text and "followed up within 48 h" in text
    assert 'data-care="pct_followed_up_in_time">50.00%' in text
    assert 'data-care="median_hours_to_first_contact">30.00' in text
    assert 'data-need="housing" data-loop="completed">1<' in text
