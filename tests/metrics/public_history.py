"""Two years of a program with small cells planted where an attacker would look, and personal data to leak.

Written straight to the tables (like conftest.py). Per year and program, in New York time:

- CRT 2023: 24 responses a month (288); 2024: 24 a month except March with 4 — a small month;
- call types: mostly welfare checks and trespass; in 2024 three IVC orders (small) and twelve panhandling calls
  (the smallest candidate to hide with them);
- beats: most in four big beats, a few in small ones;
- PD backup for team safety: 4 in 2024 (a small share), none in 2023; EMS 15 in 2024;
- the team did not feel safe: 7 times in 2024 (a small rest), 20 times in 2023;
- SML, a tiny program: 8 responses in 2024 (the whole program-year is hidden);
- reach, CRT eligible calls received in 2024: the responses above, plus missed ones — program closed 30,
  no unit available 5 (small), no free unit in time 12, an exclusion 14 (welfare checks with a weapon: the police
  went), sent elsewhere 0; in 2023 the only missed ones are 6 calls kept from CRT by an exclusion (small);
- CCD resolved 40 calls by phone in 2024, two of them for a rare call type.

Every call carries an address, a summary and a resolution note, every response a destination, disposition and
a narrative entry with ``MARKERS``, which must appear in no public figure and no open-data file.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from heart.calls.models import Call, CallSource, CallStatus
from heart.db import make_sessionmaker, transaction
from heart.dispatch.models import Response
from heart.encounters.models import Encounter, NarrativeEntry
from heart.programs.models import Program, ProgramKind, Unit
from heart.triage.models import TriageDecision

NY = ZoneInfo("America/New_York")
MARKERS = ("1313 Mockingbird Lane", "Jane Q. Neighbor", "DOB 1971-02-03", "919-555-0142",
           "said she hears voices", "Duke Regional ER bay 4")


class Planter:
    def __init__(self, session: Session, seed: int = 11) -> None:
        self.session, self.rng, self.number = session, random.Random(seed), 0
        self.programs: dict[str, Program] = {}
        self.units: dict[str, Unit] = {}
        for code, kind in (("CRT", ProgramKind.FIELD), ("SML", ProgramKind.FIELD), ("CCD", ProgramKind.PHONE)):
            program = Program(code=code, name=code, kind=kind, timezone="America/New_York", hours={}, crew_roles=[])
            session.add(program)
            session.flush()
            self.programs[code] = program
            unit = Unit(call_sign=f"{code}-1", program_id=program.id)
            session.add(unit)
            session.flush()
            self.units[code] = unit

    def when(self, year: int, month: int) -> datetime:
        """A random local time in the month (days 1-27, so that the response clears within it)."""
        local = datetime(year, month, self.rng.randint(1, 27), self.rng.randint(0, 23), self.rng.randint(0, 59),
                         tzinfo=NY)
        return local.astimezone(UTC)

    def call(self, at: datetime, incident_type: str, pathway: str, status: CallStatus, beat: str) -> Call:
        self.number += 1
        call = Call(source=CallSource.E911, received_at=at, incident_type=incident_type, screening={},
                    status=status, pathway=pathway, beat=beat, nature_code=f"{MARKERS[1]} complaint",
                    address=MARKERS[0], summary=f"{MARKERS[1]}, {MARKERS[2]}, callback {MARKERS[3]}",
                    resolution_note=MARKERS[4], closed_at=at + timedelta(hours=1), lat=36.0, lon=-78.9)
        self.session.add(call)
        self.session.flush()
        return call

    def decide(self, call: Call, pathway: str, eligible: str, fallback: str | None = None,
               excluded: str | None = None) -> None:
        self.session.add(TriageDecision(call_id=call.id, policy_id="durham", policy_version=1, pathway=pathway,
                                        recommended_pathway=pathway, reasons=[], unanswered=[], fallback=fallback,
                                        eligible_pathway=eligible, decided_at=call.received_at,
                                        excluded_pathway=excluded, exclusions=["weapon"] if excluded else []))

    def response(self, code: str, at: datetime, incident_type: str, beat: str, *, pd: bool = False,
                 ems: bool = False, safe: bool = True) -> None:
        call = self.call(at, incident_type, code, CallStatus.RESOLVED, beat)
        self.decide(call, code, code)
        dispatched = at + timedelta(minutes=2)
        on_scene = dispatched + timedelta(minutes=self.rng.randint(5, 20), seconds=self.rng.randint(0, 59))
        cleared = on_scene + timedelta(minutes=self.rng.randint(15, 60))
        response = Response(call_id=call.id, unit_id=self.units[code].id, program_id=self.programs[code].id,
                            dispatched_at=dispatched, on_scene_at=on_scene, cleared_at=cleared,
                            transported=self.rng.random() < 0.1, transport_destination=MARKERS[5],
                            pd_backup_for_safety=pd, ems_support=ems, team_felt_safe=safe,
                            disposition="resolved on scene")
        self.session.add(response)
        self.session.flush()
        encounter = Encounter(call_id=call.id, response_id=response.id, program_id=self.programs[code].id,
                              needs=["housing"], services=["peer support"], created_at=cleared)
        self.session.add(encounter)
        self.session.flush()
        self.session.add(NarrativeEntry(encounter_id=encounter.id, text=" ".join(MARKERS), created_at=cleared,
                                        client_token=f"entry-{response.id}"))

    def missed(self, at: datetime, fallback: str | None) -> None:
        call = self.call(at, "welfare_check", "PD", CallStatus.RESOLVED, "B1")
        self.decide(call, "PD", "CRT", fallback)

    def excluded(self, at: datetime) -> None:
        """A welfare check (CRT's type) with a weapon answered yes: the police went."""
        call = self.call(at, "welfare_check", "PD", CallStatus.RESOLVED, "B3")
        self.decide(call, "PD", "PD", excluded="CRT")

    def phone(self, at: datetime, incident_type: str) -> None:
        call = self.call(at, incident_type, "CCD", CallStatus.RESOLVED, "B2")
        self.decide(call, "CCD", "CCD")


BIG_BEATS = ("B1", "B2", "B3", "B4")


def plant(engine: Engine) -> None:
    """Write the history described above."""
    with transaction(make_sessionmaker(engine)) as session:
        p = Planter(session)
        for year in (2023, 2024):
            rows = [(month, index) for month in range(1, 13) for index in range(4 if (year, month) == (2024, 3)
                                                                                  else 24)]
            special = {"ivc_order": 3, "panhandling": 12} if year == 2024 else {}
            kinds = [kind for kind, n in special.items() for _ in range(n)]
            kinds += [("welfare_check", "trespass_unwanted")[i % 2] for i in range(len(rows) - len(kinds))]
            p.rng.shuffle(kinds)
            beats = ["S1"] * 2 + ["S2"] * 3 + ["S3"] * 13 + [BIG_BEATS[i % 4] for i in range(len(rows) - 18)]
            p.rng.shuffle(beats)
            pd_rows = set(p.rng.sample(range(len(rows)), 4)) if year == 2024 else set()
            ems_rows = set(p.rng.sample(range(len(rows)), 15))
            unsafe_rows = set(p.rng.sample(range(len(rows)), 7 if year == 2024 else 20))
            for i, (month, _) in enumerate(rows):
                p.response("CRT", p.when(year, month), kinds[i], beats[i], pd=i in pd_rows, ems=i in ems_rows,
                           safe=i not in unsafe_rows)
        for month in (2, 5, 5, 7, 8, 8, 10, 11):
            p.response("SML", p.when(2024, month), "welfare_check", "B1")
        for fallback, n in (("program_closed", 30), ("no_unit_available", 5), ("no_unit_in_time", 12)):
            for _ in range(n):
                p.missed(p.when(2024, p.rng.randint(1, 12)), fallback)
        for year, n in ((2024, 14), (2023, 6)):
            for _ in range(n):
                p.excluded(p.when(year, p.rng.randint(1, 12)))
        for i in range(40):
            p.phone(p.when(2024, 1 + i % 12), "suicide_threat" if i < 2 else "mental_health_crisis")
