"""Alembic environment: the URL comes from the caller's config or from HEART settings."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

import heart.models  # noqa: F401  (registers every table)
from heart.db import Base, make_engine

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    url = config.get_main_option("sqlalchemy.url")
    if url:
        return url
    from heart.config import get_settings

    return get_settings().database_url


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connectable = config.attributes.get("connection")
    if connectable is not None:
        _run(connectable)
        return
    engine = make_engine(_url())
    with engine.connect() as connection:
        _run(connection)
    engine.dispose()


def _run(connection: Connection) -> None:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:  # a table rebuilt in batch mode is dropped while other tables' rows point at it (see below)
        _foreign_keys(connection, on=False)
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite cannot ALTER most things; batch mode rebuilds the table
        compare_type=True,
    )
    try:
        with context.begin_transaction():
            context.run_migrations()
            if sqlite:  # every row still points at a row that exists, or nothing is committed
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise RuntimeError(f"the migration would break {len(broken)} foreign keys "
                                       f"(first: table {broken[0][0]}, row {broken[0][1]})")
    finally:
        if sqlite:
            _foreign_keys(connection, on=True)


def _foreign_keys(connection: Connection, *, on: bool) -> None:
    """SQLite's foreign-key enforcement, which only changes outside a transaction: batch mode's rebuild of a table
    other tables point at (copy, drop, rename) would otherwise fail on the drop, or, deferred, at commit."""
    if connection.in_transaction():
        connection.commit()
    raw = connection.connection.dbapi_connection  # HEART's SQLite connections run in autocommit between BEGINs
    assert raw is not None
    raw.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
