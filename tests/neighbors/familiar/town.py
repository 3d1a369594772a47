"""A small town of neighbor records for familiar-neighbor tests: people written differently at each encounter, a
look-alike, a record kept for the Office of Survivor Care, calls they were named on, and the accounts that review."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from heart.auth.models import Role, User
from heart.auth.service import create_user
from heart.db import transaction
from heart.navigation.followups.rules import CareRules
from heart.neighbors import service as neighbors
from heart.neighbors.schemas import NeighborDetails
from heart.programs.schemas import ProgramConfig
from heart.programs.service import upsert_program
from tests import factories
from tests.neighbors.linkage_background import background

JON = {"first_name": "Jon", "last_name": "Smithwick", "date_of_birth": "1980-03-04", "phone": "(919) 555-0101"}
JONATHAN = {"first_name": "Jonathan", "last_name": "Smithwick", "date_of_birth": "1980-03-04"}
KEISHA = {"first_name": "Keisha", "last_name": "Mabry-Tolliver", "date_of_birth": "1991-07-22",
          "phone": "919-555-0178"}
KEISHA_TYPO = {"first_name": "Keisha", "last_name": "Mabry-Tolliver", "phone": "919-555-0187"}  # two digits swapped
MARCUS = {"first_name": "Marcus", "last_name": "Reedy", "date_of_birth": "1958-02-14", "address": "77 Pine Rd"}
MARCUS_JR = {"first_name": "Marcus", "last_name": "Reedy", "date_of_birth": "1986-08-01", "address": "77 Pine Rd"}


@dataclass
class Town:
    sessions: sessionmaker[Session]
    now: datetime
    rules: CareRules
    supervisor: User
    navigator: User
    records: dict[str, int] = field(default_factory=dict)

    def person(self, name: str, details: dict[str, str], *, served: int = 1, days_ago: float = 10) -> int:
        """A record of a person named on ``served`` calls, the last ``days_ago`` days ago."""
        with transaction(self.sessions) as session:
            record = neighbors.create_neighbor(session=session, details=NeighborDetails.model_validate(details),
                                               at=self.now - timedelta(days=days_ago + 1), actor_id=None,
                                               rules=self.rules)
            for n in range(served):
                when = self.now - timedelta(days=days_ago + n)
                call = factories.call(session, now=when, received_at=when)
                neighbors.link_to_call(session=session, neighbor_id=record.id, call_id=call.id, encounter_id=None,
                                       at=when, actor_id=None)
            self.records[name] = record.id
            return record.id


def town(sessions: sessionmaker[Session], now: datetime, rules: CareRules) -> Town:
    with transaction(sessions) as session:
        upsert_program(session=session, config=ProgramConfig(code="CN", name="Care Navigation", kind="case"),
                       now=now, actor_id=None)
        made = []
        for role in (Role.SUPERVISOR, Role.NAVIGATOR):
            user = create_user(session=session, username=f"town-{role.value}", password="x" * 12, role=role, now=now)
            session.flush()
            session.expunge(user)
            made.append(user)
        background(session, now, rules)
    return Town(sessions, now, rules, made[0], made[1])
