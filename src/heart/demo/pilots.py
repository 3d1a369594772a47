"""The demo's pilots: staff for the city's case programs its ``demo.yaml`` names (``pilot_staff``: Durham's Office of
Survivor Care and Involuntary Commitment unit), and a month of their cases opened and worked through the same services
a person would use (intake, attempts, examinations, outcomes). A pilot's ``story`` says what its cases are like:
``survivor`` (a referral, reached by phone or in person, closed with its outcomes) or ``petition`` (an examination in
the field, criteria met → a facility, not met → a plan)."""

from __future__ import annotations

import random
import secrets
import uuid
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from heart.auth.models import Role, User
from heart.auth.service import create_user
from heart.demo.calibration import calibration
from heart.demo.setup import DemoLogin
from heart.navigation.cases.flows import open_case
from heart.navigation.followups import service
from heart.navigation.followups.models import FollowUp
from heart.navigation.followups.rules import CareRules
from heart.navigation.followups.schemas import CaseOpen, Handoff
from heart.neighbors.linkage.synthetic import generate_people
from heart.neighbors.models import Neighbor
from heart.programs.members import add_member

STORIES = ("survivor", "petition")
SURVIVOR_NOTES = ["Referred after an emergency-department visit; wants to talk about housing away from her partner.",
                  "Asked for help with a protective order and counselling; safe to call weekday mornings only.",
                  "Referred by victim services after a robbery; shaken, asked about replacing his ID."]
PETITION_NOTES = ["Petition by his mother: not sleeping, talking about hurting himself, refuses to see a doctor.",
                  "Petition by a clinician after a missed depot injection; history of admissions.",
                  "Custody order forwarded by the magistrate; family says she has not eaten in days."]
PLANS = ["Daily check-ins by the mobile crisis team; appointment at the walk-in clinic tomorrow; sister stays over.",
         "Crisis plan with the family; peer support visit in two days; outpatient psychiatry within the week."]


def create_pilot_staff(*, session: Session, now: datetime) -> tuple[list[DemoLogin], dict[str, User]]:
    """One login for each pilot's staff, on its program with its crew role."""
    logins, users = [], {}
    for staff in calibration().demo.pilot_staff:
        username, program, role, note = staff.username, staff.program, staff.role, staff.note
        password = secrets.token_urlsafe(12)
        user = create_user(session=session, username=username, password=password, role=Role.NAVIGATOR, now=now,
                           display_name=f"Demo {role}")
        session.flush()
        add_member(session=session, program_code=program, user_id=user.id, role=role, at=now, actor_id=None)
        logins.append(DemoLogin(username, Role.NAVIGATOR.value, password, f"{note} ({role})"))
        users[program] = user
    return logins, users


def build_pilot_cases(*, session: Session, staff: dict[str, User], now: datetime, rules: CareRules,
                      seed: int) -> dict[str, int]:
    """A month of cases for each pilot, as their staff opened and worked them; how many of each."""
    rng = random.Random(seed + 77)
    people = generate_people(60, seed=seed + 99).to_dict(orient="records")
    stories = {s.program: s.story for s in calibration().demo.pilot_staff if s.story in STORIES}
    survivors = [code for code, story in stories.items() if story == "survivor"]
    petitions = [code for code, story in stories.items() if story == "petition"]
    made = dict.fromkeys(stories, 0)
    if not stories:
        return made
    for index, person in enumerate(people[:36]):  # two survivor cases for every petition (Durham's month)
        pick = survivors if (index % 3 and survivors) or not petitions else petitions
        program = pick[index % len(pick)]
        opened = now - timedelta(days=rng.uniform(0.2, 30))
        case = _open(session, staff[program], program, stories[program], person, opened, rng, rules)
        made[program] += 1
        _work(session, staff[program], program, stories[program], case, opened, now, rng, rules)
    return made


def _open(session: Session, by: User, program: str, story: str, person: dict[str, object], at: datetime,
          rng: random.Random, rules: CareRules) -> int:
    config = rules.of(program).config
    petition = story == "petition"
    details = Handoff(first_name=str(person["first_name"]), last_name=str(person["last_name"]),
                      phone=str(person["phone"]) if rng.random() < 0.8 else None,
                      address=str(person["address"]) if person["address"] and petition else None,
                      note=rng.choice(PETITION_NOTES if petition else SURVIVOR_NOTES))
    case = open_case(session=session, program_code=program, at=at, by=by, rules=rules, case=CaseOpen(
        intake=rng.choice(list(config.intake_sources)), reference=None, neighbor=details,
        needs=[] if petition else rng.sample(["safety planning", "housing", "mental health"], 2),
        consent_to_follow_up=config.consent_needed, client_token=uuid.uuid4().hex))
    return case.id


def _work(session: Session, by: User, program: str, story: str, case: int, opened: datetime, now: datetime,
          rng: random.Random, rules: CareRules) -> None:
    """Attempts and an outcome, as far as they have happened by now."""
    at = opened + timedelta(hours=rng.uniform(1, 20))
    if at > now:
        return
    method, reached = ("field_examination", "examined") if story == "petition" else (
        "phone" if _has_phone(session, case) else "visit", "reached")
    service.record_attempt(session=session, follow_up_id=case, method=method, result=reached, at=at, now=now, by=by,
                           client_token=uuid.uuid4().hex, rules=rules)
    closed = at + timedelta(hours=rng.uniform(1, 72))
    if closed > now or rng.random() < 0.3:
        return
    if story == "petition":
        met = rng.random() < 0.55
        service.close_follow_up(session=session, follow_up_id=case, at=closed, now=now, by=by, rules=rules,
                                outcome="criteria_met" if met else "criteria_not_met",
                                facility=rng.choice(list(rules.of(program).config.facilities)) if met else None,
                                plan=None if met else rng.choice(PLANS))
    else:
        service.close_follow_up(session=session, follow_up_id=case, at=closed, now=now, by=by, rules=rules,
                                outcome=rng.choice(["safety_plan", "connected", "declined"]))


def _has_phone(session: Session, case: int) -> bool:
    follow_up = session.get_one(FollowUp, case)
    return bool(session.get_one(Neighbor, follow_up.neighbor_id).phone)
