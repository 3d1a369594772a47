"""A small care-navigation world for tests: a field program and a care program, a unit, a navigator and a
supervisor, the demo resource directory, and responses cleared with (or without) the neighbor's consent.

Everything goes through the real services: the responder clears the response, the handoff opens the follow-up.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from heart.auth.models import Role, User
from heart.auth.service import create_user
from heart.config import SOURCE_ROOT, Settings
from heart.db import transaction
from heart.dispatch import service as dispatch
from heart.dispatch.schemas import ClearResponse
from heart.encounters.models import Encounter
from heart.navigation.followups.models import FollowUp
from heart.navigation.followups.rules import CareRules, care_rules
from heart.navigation.followups.schemas import Handoff
from heart.navigation.resources.importer import import_directory
from heart.navigation.resources.models import Service
from heart.programs.models import ProgramKind
from heart.programs.schemas import ProgramConfig
from heart.programs.service import upsert_program
from tests.dispatch.scenario import World, world

DIRECTORY = SOURCE_ROOT / "cities" / "durham" / "resources" / "directory"
ROSA = Handoff(first_name="Rosalind", last_name="Quennell-Marsh", phone="919-555-0142", contact_method="phone",
               contact_times="weekday mornings", language="Spanish", pronouns="she/her",
               note="Wants help finding a shelter bed before Friday.")


def rules_for(database_url: str = "sqlite://", **paths: Path) -> CareRules:
    """The Durham rules (or a file given as ``care_navigation_file``), as the app reads them."""
    return care_rules(Settings(env="test", database_url=database_url, **paths))  # type: ignore[arg-type]


@dataclass
class Care:
    """A world where responders clear calls and navigators work follow-ups."""

    w: World
    rules: CareRules
    navigator: User
    supervisor: User
    responder: User
    made: list[int] = field(default_factory=list)

    @property
    def sessions(self) -> sessionmaker[Session]:
        return self.w.sessions

    @property
    def now(self) -> datetime:
        return self.w.now

    def clear_with(self, *, consent: bool = True, handoff: Handoff | None = ROSA, needs: list[str] | None = None,
                   at: datetime | None = None, unit: str = "CRT-1", address: str = "12 Mangum St") -> FollowUp | None:
        """A call answered by ``unit`` and cleared with the outcome form; the follow-up it opened, if any."""
        at = at or self.now
        call_id = self.w.add_call(when=at - timedelta(minutes=40), address=address)
        with transaction(self.sessions) as session:
            response = dispatch.assign_unit(session=session, call_id=call_id, unit_id=self.w.units[unit],
                                            at=at - timedelta(minutes=35), now=at, by=self.w.dispatcher)
            dispatch.mark_on_scene(session=session, response_id=response.id, at=at - timedelta(minutes=20), now=at,
                                   by=self.w.dispatcher)
            outcome = ClearResponse(pd_backup_for_safety=False, ems_support=False, disposition="resolved on scene",
                                    needs=["housing", "food"] if needs is None else needs,
                                    consent_to_follow_up=consent, handoff=handoff)
            dispatch.clear_response(session=session, response_id=response.id, outcome=outcome, at=at, now=at,
                                    by=self.responder, care=self.rules)
            found = session.scalars(select(FollowUp).where(FollowUp.encounter_id.in_(
                select(Encounter.id).where(Encounter.call_id == call_id)))).first()
            if found is not None:
                session.expunge(found)
                self.made.append(found.id)
            return found


def care_world(sessions: sessionmaker[Session], *, now: datetime, rules: CareRules | None = None,
               directory: bool = True) -> Care:
    """CRT and CCD open all day, Care Navigation (CN), unit CRT-1 on duty, one account per care role."""
    w = world(sessions, "CRT", "CCD", now=now)
    w.add_unit("CRT", "CRT-1")
    with transaction(sessions) as session:
        upsert_program(session=session, config=ProgramConfig(code="CN", name="Care Navigation", kind=ProgramKind.CASE,
                                                             crew_roles=["care navigator"]), now=now, actor_id=None)
        accounts = {}
        for role in (Role.NAVIGATOR, Role.SUPERVISOR, Role.RESPONDER):
            user = create_user(session=session, username=f"care-{role.value}", password="x" * 12, role=role, now=now,
                               unit_id=w.units["CRT-1"] if role == Role.RESPONDER else None)
            session.flush()
            session.expunge(user)
            accounts[role] = user
        if directory:
            import_directory(session=session, paths=[DIRECTORY], now=now)
    return Care(w, rules or rules_for(), accounts[Role.NAVIGATOR], accounts[Role.SUPERVISOR],
                accounts[Role.RESPONDER])


def a_service(sessions: sessionmaker[Session], words: str = "shelter") -> Service:
    """An active service of the demo directory whose name holds ``words``."""
    with sessions() as session:
        found = session.scalars(select(Service).where(Service.status == "active",
                                                      Service.name.ilike(f"%{words}%")).order_by(Service.name)).first()
        assert found is not None, f"the demo directory has no active service named like {words!r}"
        session.expunge(found)
        return found
