"""Two dispatchers can never send the same unit twice: 20 threads race for one unit on PostgreSQL."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from sqlalchemy import func, select

from heart.auth.models import Role
from heart.auth.service import create_user
from heart.db import make_engine, make_sessionmaker, transaction, utcnow
from heart.dispatch.models import Response
from heart.dispatch.service import UnitNotAvailable, assign_unit
from heart.events import Event
from heart.programs.models import Unit, UnitStatus
from heart.triage.service import triage_call
from tests import factories

pytestmark = pytest.mark.usefixtures("all_day_policy")
RACERS = 20


def test_twenty_dispatchers_racing_for_one_unit_send_it_once(postgres_url: str) -> None:
    engine = make_engine(postgres_url, pool_size=RACERS, max_overflow=0)
    sessions = make_sessionmaker(engine)
    now = utcnow()
    with transaction(sessions) as session:
        crt = factories.program(session, "CRT", now=now)
        unit_id = factories.unit(session, crt, "CRT-1", now=now).id
        dispatcher = create_user(session=session, username="d1", password="x" * 12, role=Role.DISPATCHER, now=now)
        call_ids = []
        for _ in range(RACERS):
            call = factories.call(session, now=now)
            triage_call(session=session, call_id=call.id, now=now, actor_id=None)
            call_ids.append(call.id)

    barrier = threading.Barrier(RACERS)
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()

    def race(call_id: int) -> None:
        barrier.wait()
        try:
            with transaction(sessions) as session:
                assign_unit(session=session, call_id=call_id, unit_id=unit_id, at=utcnow(), now=utcnow(),
                            by=dispatcher)
            result = "sent"
        except UnitNotAvailable:
            result = "refused"
        with lock:
            outcomes[result] += 1

    threads = [threading.Thread(target=race, args=(call_id,)) for call_id in call_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert outcomes == Counter({"sent": 1, "refused": RACERS - 1})
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Response)) == 1
        assert session.scalar(select(func.count()).select_from(Event).where(Event.kind == "response.dispatched")) == 1
        assert session.get_one(Unit, unit_id).status == UnitStatus.DISPATCHED
    engine.dispose()
