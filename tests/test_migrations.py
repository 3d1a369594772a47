"""Migrations run up and down, twice, on an empty SQLite file and an empty PostgreSQL database."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

from heart.db import Base, make_engine
from heart.migrate import downgrade, upgrade


@pytest.fixture(params=["sqlite", "postgres"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    server = request.getfixturevalue("postgres_server_url")
    name = f"heart_migrate_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield server.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def test_migrations_go_up_and_down_and_up_again(empty_database: str) -> None:
    import heart.models  # noqa: F401

    expected = set(Base.metadata.tables)
    upgrade(empty_database)
    assert _tables(empty_database) == expected
    downgrade(empty_database, "base")
    assert _tables(empty_database) == set()
    upgrade(empty_database)
    assert _tables(empty_database) == expected


def test_the_migrated_schema_matches_the_models(empty_database: str) -> None:
    """Autogenerate finds nothing to do: the migrations and the models describe the same schema."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    import heart.models  # noqa: F401

    upgrade(empty_database)
    engine = make_engine(empty_database)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        differences = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert differences == []


def test_0013_works_out_what_kept_a_team_away_only_where_it_can_be_known(empty_database: str) -> None:
    """Each call's latest decision, under a policy version whose kept text is the city's, gets the unarmed team an
    exclusion kept from the call and the exclusions that held; every other decision stays unknown (null)."""
    import hashlib

    from sqlalchemy import insert, select

    from heart.db import make_sessionmaker, transaction, utcnow
    from heart.triage.models import PolicyVersion, TriageDecision
    from heart.triage.policy import default_policy_name, load_policy_by_name
    from tests.factories import SAFE_SCREENING, call

    upgrade(empty_database, "0012_desk")
    policy = load_policy_by_name(default_policy_name())
    engine = make_engine(empty_database)
    now = utcnow()
    decisions = {}
    with transaction(make_sessionmaker(engine)) as session:
        session.add(PolicyVersion(policy_id=policy.id, version=policy.version, document=policy.text, loaded_at=now,
                                  sha256=hashlib.sha256(policy.text.encode()).hexdigest()))
        session.add(PolicyVersion(policy_id=policy.id, version=policy.version + 50, document="edited since",
                                  loaded_at=now, sha256="0" * 64))
        armed = call(session, now=now, screening={**SAFE_SCREENING, "weapon": "yes"}).id
        safe = call(session, now=now).id
        unknown = call(session, now=now, screening={**SAFE_SCREENING, "weapon": "yes"}).id
        for name, call_id, version in (("superseded", armed, policy.version), ("armed", armed, policy.version),
                                       ("safe", safe, policy.version), ("unknown", unknown, policy.version + 50)):
            decisions[name] = session.execute(insert(TriageDecision.__table__).values(
                call_id=call_id, policy_id=policy.id, policy_version=version, pathway="PD", recommended_pathway="PD",
                reasons=[], unanswered=[], decided_at=now).returning(TriageDecision.__table__.c.id)).scalar_one()
    upgrade(empty_database)
    with engine.connect() as connection:
        found = {row.id: (row.excluded_pathway, row.exclusions) for row in connection.execute(
            select(TriageDecision.id, TriageDecision.excluded_pathway, TriageDecision.exclusions))}
    engine.dispose()
    assert found[decisions["armed"]] == ("CRT", ["weapon"])  # a welfare check with a weapon: CRT's type
    assert found[decisions["safe"]] == (None, [])  # known: nothing held
    assert found[decisions["unknown"]] == (None, None)  # its policy text is not the city's: not known
    assert found[decisions["superseded"]] == (None, None)  # reach reads the latest decision only
