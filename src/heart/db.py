"""Engine, sessions and the declarative base shared by every domain (the base: it imports no domain)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import partial
from typing import Any, Literal, cast

from sqlalchemy import JSON, DateTime, Engine, MetaData, Table, create_engine, event
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from heart.inputs import refuse_nul_on_flush

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Base of every table; constraint names follow one convention (SQLite batch mode needs it)."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """An aware UTC timestamp on every backend (SQLite stores naive text, so we re-attach UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where an aware UTC time is required")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


JSONType = JSON().with_variant(JSONB(), "postgresql")


def utcnow() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC)


SqliteSynchronous = Literal["FULL", "NORMAL"]


def _sqlite_pragmas(dbapi_connection: Any, _record: Any, *, synchronous: SqliteSynchronous) -> None:
    # Let SQLAlchemy's "begin" hook issue BEGIN IMMEDIATE instead of pysqlite's deferred BEGIN.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute(f"PRAGMA synchronous={synchronous}")
    cursor.close()


def make_engine(url: str, *, read_only: bool = False, synchronous: SqliteSynchronous = "FULL",
                **kwargs: Any) -> Engine:
    """An engine for ``url``; SQLite gets foreign keys, WAL and a busy timeout.

    On SQLite a writing transaction starts with BEGIN IMMEDIATE, so concurrent writers queue on the busy
    timeout instead of failing when a read lock cannot be upgraded; ``read_only`` engines keep the deferred
    BEGIN so that readers never wait for writers (WAL lets them read alongside).

    ``synchronous`` is SQLite's fsync discipline in WAL mode: ``FULL`` syncs the log at every commit, so a
    write that was acknowledged survives a power cut; ``NORMAL`` syncs only at checkpoints, so it survives a
    crash of HEART itself but a power cut may take the last commits (never corrupting the file).
    """
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    # Error messages must never carry a neighbor's data into logs: leave SQL parameters out of them.
    kwargs.setdefault("hide_parameters", True)
    if url.startswith("sqlite"):
        kwargs.setdefault("connect_args", {"check_same_thread": False, "timeout": 30})
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", partial(_sqlite_pragmas, synchronous=synchronous))
        begin = "BEGIN" if read_only else "BEGIN IMMEDIATE"
        event.listen(engine, "begin", lambda conn: conn.exec_driver_sql(begin))
        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded objects readable after commit (and refuse text with NUL characters).

    The tables are registered by whoever starts the program — the app factory, the command line, the migrations,
    the tests — by importing ``heart.models``; this base module knows no domain.
    """
    refuse_nul_on_flush()
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session whose work is committed on success and rolled back on error."""
    with factory() as session, session.begin():
        yield session


def insert_if_absent(session: Session, model: type[Base], values: Mapping[str, Any], *, unique: Sequence[str]
                     ) -> int | None:
    """``INSERT … ON CONFLICT (unique) DO NOTHING`` in one statement: the new row's id, or None when a row with the same
    ``unique`` values was there already (two writers at once: the second waits on the unique index, then finds it).

    The one way HEART writes a "once only" row (action tokens, alerts, policy versions), on SQLite and PostgreSQL
    alike.
    """
    insert = sqlite_insert if session.get_bind().dialect.name == "sqlite" else postgresql_insert
    table = cast(Table, model.__table__)
    statement = insert(table).values(**values).on_conflict_do_nothing(index_elements=list(unique))
    new_id = session.execute(statement.returning(table.c.id)).scalar()
    return None if new_id is None else int(new_id)
