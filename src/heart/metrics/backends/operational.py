"""The operational database as a metrics source: SQLite (naive UTC text) and PostgreSQL (timestamptz)."""

from __future__ import annotations

import ibis
import ibis.expr.types as ir
from ibis.backends import BaseBackend
from sqlalchemy.engine import make_url

from heart.metrics.backends.source import MetricsSource


@ibis.udf.scalar.builtin(name="strftime")
def _sqlite_strftime(fmt: str, text: str) -> str:  # type: ignore[empty-body]
    """SQLite's strftime."""


@ibis.udf.scalar.builtin(name="substr")
def _sqlite_substr(text: str, start: int, length: int) -> str:  # type: ignore[empty-body]
    """SQLite's substr (1-based)."""


def sqlite_epoch_micros(value: ir.TimestampValue) -> ir.IntegerValue:
    """Exact microseconds from SQLAlchemy's stored text 'YYYY-MM-DD HH:MM:SS.ffffff' (naive UTC).

    SQLite's own date functions round to milliseconds, so the whole seconds come from the first 19
    characters and the microseconds from the digits after the dot (padded, in case fewer than six).
    """
    text = value.cast("string")
    seconds = _sqlite_strftime("%s", _sqlite_substr(text, 1, 19)).cast("int64")
    micros = _sqlite_substr(text.concat("000000"), 21, 6).cast("int64")
    return seconds * 1_000_000 + micros


def postgres_epoch_micros(value: ir.TimestampValue) -> ir.IntegerValue:
    """Exact microseconds: PostgreSQL's extract(epoch) is an exact numeric."""
    return (value.epoch_seconds().cast("decimal(20, 6)") * 1_000_000).cast("int64")


def history_of(connection: BaseBackend) -> ir.Table:
    """Responses joined to their program and call, in ``definitions.HISTORY_SCHEMA``."""
    responses = connection.table("responses")
    programs = connection.table("programs")
    calls = connection.table("calls")
    joined = responses.join(programs, responses.program_id == programs.id).join(
        calls, responses.call_id == calls.id)
    return joined.select(
        program=programs.code, timezone=programs.timezone, incident_type=calls.incident_type,
        received_at=calls.received_at, dispatched_at=responses.dispatched_at, on_scene_at=responses.on_scene_at,
        cleared_at=responses.cleared_at, cancelled_at=responses.cancelled_at, transported=responses.transported,
        pd_backup_for_safety=responses.pd_backup_for_safety, ems_support=responses.ems_support,
    )


def reach_of(connection: BaseBackend) -> ir.Table:
    """Calls eligible for a field program (their latest decision's ``eligible_pathway``), in
    ``definitions.REACH_SCHEMA``: whether closed, whether the program's response reached the scene, and the
    facts that say why not (the latest decision's fallback, an override, a unit called off)."""
    calls = connection.table("calls")
    decisions = connection.table("triage_decisions")
    programs = connection.table("programs")
    responses = connection.table("responses")
    last = decisions.group_by("call_id").aggregate(last_id=decisions.id.max())
    latest = decisions.join(last, decisions.id == last.last_id).select(
        decision_call=decisions.call_id, eligible=decisions.eligible_pathway, pathway=decisions.pathway,
        fallback=decisions.fallback,
        by_person=decisions.decided_by_id.notnull() & decisions.override_reason.notnull())
    field = programs.filter(programs.kind == "field").select(code=programs.code, zone=programs.timezone)
    eligible = latest.join(field, latest.eligible == field.code)
    facts = calls.select(fact_call=calls.id, received=calls.received_at, status=calls.status)
    eligible = eligible.join(facts, eligible.decision_call == facts.fact_call)
    sent = responses.join(programs, responses.program_id == programs.id).select(
        response_call=responses.call_id, response_code=programs.code,
        arrived=(responses.on_scene_at.notnull() & responses.cancelled_at.isnull()).cast("int32"),
        cancelled=responses.cancelled_at.notnull().cast("int32"))
    per_call = sent.group_by(["response_call", "response_code"]).aggregate(arrived=sent.arrived.max(),
                                                                          cancelled=sent.cancelled.max())
    joined = eligible.left_join(per_call, (eligible.decision_call == per_call.response_call)
                                & (eligible.code == per_call.response_code))
    return joined.select(
        program=joined.code, timezone=joined.zone, received_at=joined.received,
        closed=joined.status.isin(["resolved", "cancelled"]), reached=joined.arrived.fill_null(0) == 1,
        fallback=joined.fallback, overridden=joined.by_person & (joined.pathway != joined.code),
        called_off=joined.cancelled.fill_null(0) == 1,
    )


def open_operational(database_url: str) -> MetricsSource:
    """Connect Ibis to the database HEART runs on."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        if not url.database or url.database == ":memory:":
            raise ValueError("metrics need a SQLite file, not an in-memory database")
        connection: BaseBackend = ibis.sqlite.connect(url.database)
        return MetricsSource("sqlite", connection, history_of(connection), sqlite_epoch_micros,
                             reach=reach_of(connection))
    if url.get_backend_name() == "postgresql":
        connection = ibis.postgres.connect(host=url.host or "localhost", port=url.port or 5432, user=url.username,
                                           password=url.password, database=url.database)
        return MetricsSource("postgres", connection, history_of(connection), postgres_epoch_micros,
                             reach=reach_of(connection))
    raise ValueError(f"metrics cannot run on a {url.get_backend_name()} database")
