"""The two pilots as a city configures them (cities/durham/programs.yaml and care_navigation.yaml): the Office of
Survivor Care (cases from a referral, seen by its own staff only) and the Involuntary Commitment unit (cases from a
petition, a first examination by a certified examiner, criteria met → a facility, not met → a plan)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from heart.auth.models import Role
from heart.config import SOURCE_ROOT
from heart.db import transaction, utcnow
from heart.programs.members import add_member
from heart.programs.service import read_programs_file, upsert_program
from tests.conftest import Account, login

DURHAM = SOURCE_ROOT / "cities" / "durham" / "programs.yaml"
SURVIVOR = {"first_name": "Imani", "last_name": "Okafor-Blackwell", "phone": "919-555-0177",
            "contact_method": "text", "contact_times": "only weekday mornings, never evenings",
            "note": "Referred by the forensic nurse; partner checks her phone in the evening."}


def load_programs(sessions: sessionmaker[Session], *codes: str) -> None:
    """Durham's programs ``codes`` as its configuration writes them."""
    with transaction(sessions) as session:
        for program in read_programs_file(DURHAM).programs:
            if program.code in codes:
                upsert_program(session=session, config=program, now=utcnow(), actor_id=None)


def staff(sessions: sessionmaker[Session], make_user: Callable[..., Account], role: Role, program: str,
          crew_role: str | None = None) -> Account:
    """A new account on ``program``'s staff (with ``crew_role``)."""
    account = make_user(role)
    with transaction(sessions) as session:
        add_member(session=session, program_code=program, user_id=account.user_id, role=crew_role, at=utcnow(),
                   actor_id=None)
    return account


def as_user(client: TestClient, account: Account) -> TestClient:
    client.cookies.clear()
    return login(client, account.username)


def field(answer: Any) -> str:
    """The field a 422 answer names."""
    return str(answer.json()["detail"][0]["loc"][-1])


def open_case(client: TestClient, program: str, **changes: Any) -> Any:
    body = {"intake": "hospital", "reference": "SANE nurse R. Alvarez, Duke Regional", "neighbor": SURVIVOR,
            "needs": ["housing"], "consent_to_follow_up": True, "client_token": uuid.uuid4().hex, **changes}
    return client.post(f"/api/programs/{program}/cases", json=body)
