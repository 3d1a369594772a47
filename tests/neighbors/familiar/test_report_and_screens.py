"""What supervisors, analysts and crews see of familiar neighbors: the report (counts only) on its page, in the API
and from the command line; the reviewers' screens with the pair's weights; the flag on the neighbor's page; and the
approach notes on the crew's phone for a neighbor named on their call — logged as a read, and never a pending flag."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from heart.auth.models import Role
from heart.db import transaction, utcnow
from heart.dispatch import service as dispatch
from heart.neighbors.familiar import flags
from heart.neighbors.familiar.linking import run_linkage
from heart.neighbors.familiar.models import FamiliarFlag, MatchProposal
from heart.neighbors.familiar.report import familiar_report
from heart.neighbors.models import NeighborRead
from tests.conftest import REPO_ROOT, Account, login
from tests.navigation.followups.care import care_world
from tests.neighbors.familiar.town import JON, KEISHA, MARCUS, MARCUS_JR, Town, town

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
NOTES = "Speak with him away from the crowd; he trusts the peer support specialist. Offer water first."


def test_the_report_counts_linked_neighbors_and_their_responses_in_the_period(place: Town) -> None:
    served = [40, 20, 20, 10, 10, 6, 5, 5, 3, 2] + [1] * 190  # 200 neighbors, 311 responses
    for n, count in enumerate(served):
        place.person(f"p{n}", {"first_name": f"Person{n}", "last_name": f"Zyzzyva{n:03d}"}, served=count)
    place.person("long ago", MARCUS, served=30, days_ago=500)  # outside the window
    with place.sessions() as session:
        found = familiar_report(session=session, since=place.now - timedelta(days=365), until=place.now,
                                rules=place.rules)
    assert (found.neighbors, found.responses) == (200, 311)
    top = {row.share_of_neighbors: row for row in found.shares}
    assert (top[0.005].neighbors, top[0.005].responses) == (1, 40)  # the most-served 0.5% of 200: one neighbor
    assert top[0.005].share_of_responses == pytest.approx(40 / 311) and top[0.005].published == 0.12
    assert (top[0.05].neighbors, top[0.05].responses) == (10, 121)
    seen = {row.at_least: (row.neighbors, row.responses, row.published) for row in found.seen}
    assert seen == {5: (8, 116, 74), 10: (5, 100, 19), 20: (3, 80, 8), 40: (1, 40, 4)}


def test_supervisors_and_analysts_read_the_report_only_supervisors_review(
    client: TestClient, make_user: Callable[..., Account], place: Town, database_url: str,
) -> None:
    place.person("jon", JON, served=7)
    place.person("keisha", KEISHA, served=2)
    analyst = make_user(Role.ANALYST)
    login(client, analyst.username)
    page = client.get("/familiar-neighbors/report")
    assert page.status_code == 200 and 'id="neighbors">2<' in page.text and "Smithwick" not in page.text
    api = client.get("/api/familiar-neighbors/report", params={"since": (utcnow() - timedelta(days=3650)).isoformat()})
    assert api.status_code == 200 and api.json()["neighbors"] >= 2
    assert client.get("/familiar-neighbors").status_code == 403
    assert client.post("/api/familiar-neighbors/linkage").status_code == 403
    cli = subprocess.run([str(Path(sys.executable).parent / "heart"), "neighbors", "report", "--since", "2000-01-01",
                          "--format", "json"], capture_output=True, text=True, cwd=REPO_ROOT, timeout=120,
                         env={**os.environ, "HEART_ENV": "development", "HEART_DATABASE_URL": database_url})
    assert cli.returncode == 0, cli.stderr
    assert json.loads(cli.stdout)["responses"] == 9


def test_a_reviewer_inspects_a_pair_accepts_it_and_reviews_the_flag_on_the_neighbors_page(
    client: TestClient, place: Town, sessions: sessionmaker[Session],
) -> None:
    marcus = place.person("marcus", MARCUS, served=3)
    junior = place.person("junior", MARCUS_JR, served=3)
    login(client, "town-supervisor", "x" * 12)
    ran = client.post("/api/familiar-neighbors/linkage")
    assert ran.status_code == 200 and ran.json()["records"] > 1000
    listed = client.get("/familiar-neighbors")
    assert listed.status_code == 200 and "Reedy" in listed.text
    with sessions() as session:
        pair = session.scalars(select(MatchProposal).where(MatchProposal.left_id == marcus,
                                                           MatchProposal.right_id == junior)).one()
    shown = client.get(f"/familiar-neighbors/links/{pair.id}")
    assert shown.status_code == 200 and "1958-02-14" in shown.text and "1986-08-01" in shown.text
    assert "Exact match on first_name" in shown.text and "Match weight (their sum)" in shown.text
    with sessions() as session:
        assert "linkage review" in session.scalars(select(NeighborRead.purpose)).all()
    accepted = client.post(f"/familiar-neighbors/links/{pair.id}/accept", data={"csrf_token": "x"},
                           follow_redirects=False)
    assert accepted.status_code == 303
    assert client.post("/api/familiar-neighbors/flags/recount").json()["raised"] >= 1  # 3 + 3 responses: one man
    with sessions() as session:
        flag = session.scalars(select(FamiliarFlag).where(FamiliarFlag.neighbor_id == marcus)).one()
    reviewed = client.post(f"/familiar-neighbors/flags/{flag.id}/review",
                           data={"approach_notes": NOTES, "expires_on": "", "back": str(marcus), "csrf_token": "x"},
                           follow_redirects=False)
    assert reviewed.status_code == 303 and reviewed.headers["location"] == f"/neighbors/{marcus}"
    page = client.get(f"/neighbors/{marcus}")
    assert NOTES in page.text and "Records linked to this one" in page.text and f"Record {junior}" in page.text
    assert "never a reason to withhold a response" in page.text


def test_the_crews_phone_shows_the_approach_notes_of_a_neighbor_named_on_their_call(
    client: TestClient, sessions: sessionmaker[Session],
) -> None:
    care = care_world(sessions, now=utcnow() - timedelta(minutes=30))
    call_id = care.w.add_call(when=care.now)
    with transaction(sessions) as session:
        dispatch.assign_unit(session=session, call_id=call_id, unit_id=care.w.units["CRT-1"], at=care.now,
                             now=care.now, by=care.w.dispatcher)
    place = town(sessions, care.now, care.rules)
    person = place.person("familiar", JON, served=6)
    with transaction(sessions) as session:
        flags.recount_flags(session=session, now=care.now, rules=care.rules)
        run_linkage(session=session, at=care.now, by_id=None, rules=care.rules)
    login(client, "town-supervisor", "x" * 12)
    named = client.post(f"/api/neighbors/{person}/calls", json={"call": str(call_id)})
    assert named.status_code == 201, named.text
    responder = TestClient(client.app)
    login(responder, "care-responder", "x" * 12)
    assert "Smithwick" not in responder.get("/responder").text  # a pending flag has no notes to show yet
    with transaction(sessions) as session:
        flag = flags.open_flag_of(session=session, neighbor_id=person)
        assert flag is not None
        flags.review_flag(session=session, flag_id=flag.id, approach_notes=NOTES, expires_at=None, now=utcnow(),
                          by=place.supervisor, rules=care.rules)
    phone = responder.get("/responder")
    assert NOTES in phone.text and "Familiar neighbor: Jon Smithwick" in phone.text
    assert "never a reason to hold back" in phone.text
    with sessions() as session:
        assert "responder's call (approach notes)" in session.scalars(select(NeighborRead.purpose)).all()
