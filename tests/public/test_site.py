"""The public site over a planted history (tests/metrics/public_history.py): pages render with the live numbers,
small counts read "fewer than 11", the reasons an eligible call got no team add up to the eligible calls, and no
personal data reaches a page or a download — on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from heart.metrics.backends import open_database
from heart.metrics.definitions import MISSED_REASONS
from heart.metrics.public.service import public_figures
from heart.public.figures import missed_reasons
from tests.metrics.public_history import MARKERS, plant

TODAY = date(2026, 12, 6)


@pytest.fixture
def planted(engine: Engine) -> Engine:
    plant(engine)
    return engine


def text_of(html: str) -> str:
    """What a reader sees: the page's text, without its markup."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def cell(html: str, attribute: str) -> str:
    found = re.search(rf'{re.escape(attribute)}[^>]*>([^<]*)<', html)
    assert found, attribute
    return found.group(1).strip()


def test_the_home_page_shows_programs_with_hours_and_crews_from_the_configuration(
    client: TestClient, planted: Engine, database_url: str,
) -> None:
    from heart.db import make_sessionmaker, transaction
    from heart.programs.models import Program

    with transaction(make_sessionmaker(planted)) as session:
        crt = session.query(Program).filter_by(code="CRT").one()
        crt.hours = {day: [["10:00", "22:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
        crt.crew_roles = ["licensed clinician", "peer support specialist", "EMT"]
    page = client.get("/public")
    assert page.status_code == 200
    assert "Every day, 10:00–22:00" in page.text  # the loaded configuration, not the texts
    roles = page.text.split('class="roles" data-program="CRT">')[1].split("</ul>")[0]
    assert text_of(roles) == "licensed clinician peer support specialist EMT"
    assert "Sign in" not in page.text and "set-cookie" not in {k.lower() for k in page.headers}


def test_the_figures_page_shows_the_published_panel_with_small_counts_as_fewer_than_11(
    client: TestClient, planted: Engine, database_url: str,
) -> None:
    with open_database(database_url) as source:
        report = public_figures(source=source, year=2024, today=TODAY)
    crt = report.programs["CRT"].groups["responses"]
    page = client.get("/public/figures?program=CRT&period=2024")
    assert page.status_code == 200
    assert cell(page.text, 'data-program="CRT" data-figure="responses"') == crt.figures["responses"].text == "268"
    assert cell(page.text, 'data-figure="avg_minutes_to_scene"') == crt.figures["avg_minutes_to_scene"].text
    # 4 responses needed PD backup in 2024: the share would reveal them
    assert "fewer than 11" in cell(page.text, 'data-figure="pct_needed_pd_backup_for_team_safety"')
    # March 2024 had 4 responses: its cell, and every chart bar, hide it
    assert cell(page.text, 'data-cell="03:count"') == "fewer than 11"
    assert 'id="chart-responses-by_month"' in page.text and 'id="table-responses-by_month"' in page.text
    # each figure says what it means, in the internal dashboard's words
    assert report.definitions["avg_minutes_to_scene"].meaning in page.text
    reach = client.get("/public/figures?program=CRT&period=2024").text
    assert cell(reach, 'data-cell="no_unit_available:count"') == "fewer than 11"  # 5 calls
    for marker in MARKERS:
        assert marker not in page.text


def test_a_program_year_with_fewer_than_11_responses_shows_nothing(client: TestClient, planted: Engine) -> None:
    page = client.get("/public/figures?program=SML&period=2024")
    assert page.status_code == 200
    assert cell(page.text, 'data-program="SML" data-figure="responses"') == "fewer than 11"
    assert "none of them are shown" in page.text


def test_an_unpublished_year_or_unknown_program_is_a_clear_422(client: TestClient, planted: Engine) -> None:
    this_year = client.get(f"/public/figures?period={date.today().year}")
    assert this_year.status_code == 422 and "is not a published year" in this_year.text
    unknown = client.get("/public/figures?program=NOPE&period=2024")
    assert unknown.status_code == 422 and "NOPE&#39; has no published figures for 2024" in unknown.text


def test_why_no_team_came_every_missed_call_has_one_reason_and_they_add_up(
    client: TestClient, planted: Engine, database_url: str,
) -> None:
    with open_database(database_url) as source:
        exact = public_figures(source=source, year=2024, today=TODAY, threshold=1)  # nothing hidden
    (crt,) = [program for program in missed_reasons(exact) if program.program == "CRT"]
    assert [key for key, _, _ in crt.reasons] == list(MISSED_REASONS)
    reasons = {key: int(count.value or 0) for key, count, in ((k, c) for k, _, c in crt.reasons)}
    assert reasons["program_closed"] == 30 and reasons["no_unit_available"] == 5 and reasons["no_unit_in_time"] == 12
    assert reasons["exclusion"] == 14  # welfare checks with a weapon: eligible by type, the police went
    assert int(crt.reached.value or 0) + sum(reasons.values()) == int(crt.total.value or 0) == 268 + 47 + 14

    page = client.get("/public/faq")
    assert page.status_code == 200
    table = page.text.split('id="why-not-CRT"')[1].split("</table>")[0]
    shown = dict(re.findall(r'data-reason="([a-z_]+)">([^<]*)<', table))
    assert set(shown) == {"reached", "total", *MISSED_REASONS}
    assert shown["no_unit_available"] == "fewer than 11"  # 5 calls
    assert shown["total"] == "329"
    assert shown["exclusion"] == "14"
    exclusion_row = text_of(table.split('data-reason="exclusion"')[0].rsplit("<tr>", 1)[1] + ">")
    assert exclusion_row == "No team: an exclusion: the call had a weapon, a risk or a priority the team cannot take"
    visible = [int(v.replace(",", "")) for k, v in shown.items() if k != "total" and v != "fewer than 11"]
    hidden = [k for k, v in shown.items() if v == "fewer than 11"]
    assert len(hidden) != 1  # one hidden cell alone could be worked out from the total
    assert sum(visible) + sum(exact_value for key, exact_value in reasons.items() if key in hidden) == 329


def test_the_faq_gives_the_live_share_of_police_backup_and_the_citys_answers(
    client: TestClient, planted: Engine,
) -> None:
    page = client.get("/public/faq")
    words = text_of(page.text)
    assert "(919) 560-4600" in words  # the city's own answer to "must I call 911?"
    assert "How can I visit the office?" in words and "101 City Hall Plaza" in words
    backup = text_of(page.text.split('id="backup-share">')[1].split("</ul>")[0])
    # 2024 is the latest year: 4 of CRT's 268 responses needed police backup, a count too small to show
    assert backup == "CRT, 268 responses: police backup for the team's safety in not shown (fewer than 11 behind it)"


def test_open_data_downloads_validate_and_hold_no_personal_data(client: TestClient, planted: Engine) -> None:
    listing = client.get("/public/open-data")
    assert "/public/open-data/2024/responses.csv" in listing.text
    csv_file = client.get("/public/open-data/2024/responses.csv")
    assert csv_file.status_code == 200 and csv_file.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(csv_file.text)))
    assert {row["program"] for row in rows} == {"CRT"}  # SML's 8 responses are not published
    assert len(rows) == 268
    package = client.get("/public/open-data/2024/datapackage.json").json()
    assert [field["name"] for field in package["resources"][0]["schema"]["fields"]] == list(rows[0])
    parquet = client.get("/public/open-data/2024/responses.parquet")
    assert parquet.content[:4] == b"PAR1"
    for marker in MARKERS:
        assert marker not in csv_file.text and marker not in json.dumps(package)
    assert client.get("/public/open-data/2024/secrets.txt").status_code == 404
    assert client.get(f"/public/open-data/{date.today().year}/responses.csv").status_code == 404


def test_no_personal_data_on_any_public_page(client: TestClient, planted: Engine) -> None:
    for path in ("/public", "/public/faq", "/public/figures?program=CRT&period=2024",
                 "/public/figures?program=CCD&period=2024", "/public/open-data", "/public/request-event",
                 "/public/volunteer"):
        page = client.get(path)
        assert page.status_code == 200, path
        for marker in MARKERS:
            assert marker not in page.text, (path, marker)
