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
        team_felt_safe=responses.team_felt_safe, beat=calls.beat,
    )


def reach_of(connection: BaseBackend) -> ir.Table:
    """Calls eligible for a field program, in ``definitions.REACH_SCHEMA``: one row for the program of the latest
    decision's ``eligible_pathway``, and one for the program of its ``excluded_pathway`` (the team whose rule takes the
    call's type, kept from it by an exclusion that held). Each says whether the call is closed, whether the program's
    response reached the scene, and the facts that say why not (the latest decision's fallback and an override, which
    concern the eligible program only; an exclusion; a unit called off)."""
    calls = connection.table("calls")
    decisions = connection.table("triage_decisions")
    programs = connection.table("programs")
    responses = connection.table("responses")
    last = decisions.group_by("call_id").aggregate(last_id=decisions.id.max())
    latest = decisions.join(last, decisions.id == last.last_id).select(
        decision_call=decisions.call_id, eligible=decisions.eligible_pathway, pathway=decisions.pathway,
        fallback=decisions.fallback, excluded_from=decisions.excluded_pathway,
        by_person=decisions.decided_by_id.notnull() & decisions.override_reason.notnull())
    as_eligible = latest.select(
        decision_call=latest.decision_call, program_code=latest.eligible.cast("string"),
        fallback=latest.fallback.cast("string"),
        overridden=latest.by_person & (latest.pathway != latest.eligible), excluded=ibis.literal(False))
    kept_away = latest.filter(latest.excluded_from.notnull()
                              & (latest.excluded_from != latest.eligible.fill_null(""))).select(
        decision_call=latest.decision_call, program_code=latest.excluded_from.cast("string"),
        fallback=ibis.null("string"),
        overridden=ibis.literal(False), excluded=ibis.literal(True))
    both = as_eligible.union(kept_away)
    field = programs.filter(programs.kind == "field").select(code=programs.code, zone=programs.timezone)
    eligible = both.join(field, both.program_code == field.code)
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
        fallback=joined.fallback, overridden=joined.overridden,
        called_off=joined.cancelled.fill_null(0) == 1, excluded=joined.excluded,
    )


def care_of(connection: BaseBackend) -> tuple[ir.Table, ir.Table]:
    """Consented encounters with their follow-ups' due times and first attempts (``care.CARE_ENCOUNTERS_SCHEMA``),
    and referrals with the program of the encounter they came from (``care.REFERRALS_SCHEMA``)."""
    encounters = connection.table("encounters")
    programs = connection.table("programs")
    follow_ups = connection.table("follow_ups")
    attempts = connection.table("contact_attempts")
    referrals = connection.table("referrals")
    firsts = attempts.group_by(attempt_follow_up=attempts.follow_up_id).aggregate(
        first_attempt=attempts.at.min(), first_contact=attempts.at.min(where=attempts.reached))
    worked = follow_ups.left_join(firsts, follow_ups.id == firsts.attempt_follow_up)
    per_encounter = worked.group_by(worked_encounter=worked.encounter_id).aggregate(
        due=worked.due_at.min(), first_attempt=worked.first_attempt.min(), first_contact=worked.first_contact.min())
    consented = encounters.filter(encounters.consent_to_follow_up).join(
        programs, encounters.program_id == programs.id)
    joined = consented.left_join(per_encounter, consented.id == per_encounter.worked_encounter)
    care_encounters = joined.select(
        program=joined.code, timezone=joined.timezone, encountered_at=joined.created_at, due_at=joined.due,
        first_attempt_at=joined.first_attempt, first_contact_at=joined.first_contact)
    origin = follow_ups.join(encounters, follow_ups.encounter_id == encounters.id).join(
        programs, encounters.program_id == programs.id).select(
        origin_follow_up=follow_ups.id, origin_program=programs.code, origin_zone=programs.timezone)
    made = referrals.join(origin, referrals.follow_up_id == origin.origin_follow_up)
    care_referrals = made.select(
        program=made.origin_program, timezone=made.origin_zone, need=made.need, made_at=made.made_at,
        accepted_at=made.accepted_at, completed_at=made.completed_at, declined_at=made.declined_at,
        no_response_at=made.no_response_at)
    return care_encounters, care_referrals


def phone_of(connection: BaseBackend) -> ir.Table:
    """Calls a phone program resolved (routed to it and resolved: only ``resolve_by_phone`` does both), in
    ``public.cube.PHONE_SCHEMA``."""
    calls = connection.table("calls")
    programs = connection.table("programs")
    phone = programs.filter(programs.kind == "phone")
    joined = calls.join(phone, calls.pathway == phone.code).filter(calls.status == "resolved")
    return joined.select(program=phone.code, timezone=phone.timezone, incident_type=calls.incident_type,
                         received_at=calls.received_at, resolved_at=calls.closed_at)


def open_operational(database_url: str) -> MetricsSource:
    """Connect Ibis to the database HEART runs on."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        if not url.database or url.database == ":memory:":
            raise ValueError("metrics need a SQLite file, not an in-memory database")
        connection: BaseBackend = ibis.sqlite.connect(url.database)
        encounters, referrals = care_of(connection)
        return MetricsSource("sqlite", connection, history_of(connection), sqlite_epoch_micros,
                             reach=reach_of(connection), care_encounters=encounters, care_referrals=referrals,
                             phone=phone_of(connection))
    if url.get_backend_name() == "postgresql":
        connection = ibis.postgres.connect(host=url.host or "localhost", port=url.port or 5432, user=url.username,
                                           password=url.password, database=url.database)
        encounters, referrals = care_of(connection)
        return MetricsSource("postgres", connection, history_of(connection), postgres_epoch_micros,
                             reach=reach_of(connection), care_encounters=encounters, care_referrals=referrals,
                             phone=phone_of(connection))
    raise ValueError(f"metrics cannot run on a {url.get_backend_name()} database")
