"""A triage policy compiled to one vectorized Ibis expression, to replay it over years of calls.

``compile_policy(policy)`` returns a function that takes an Ibis table of calls and adds the columns
``pathway``, ``rule`` (the id of the deciding rule), ``fallback`` ("program_closed" /
"no_unit_available" / null) and ``fallback_program``, exactly as ``engine.decide`` would for each row.

Input columns: ``incident_type`` (canonical id; unknown or null counts as "other"), ``priority``
(optional), one column per screening question named by its id (optional; "yes"/"no", anything else or
null is unknown), and the time of the call as ``local_minute`` (0–1439), ``local_hour`` (0–23) or an
aware timestamp ``received_at`` (converted to the policy's zone in the database with ``timezone()``,
which DuckDB and PostgreSQL share). A row without a time counts every program with hours as closed.

Availability: a replay does not know which units were free, so by default every program with hours
is assumed to have a unit (what-ifs can pass a fixed ``availability`` for all rows).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import ibis
import ibis.expr.types as ir

from heart.triage.engine import NO_UNIT_AVAILABLE, PROGRAM_CLOSED
from heart.triage.policy import Policy, Program, Rule
from heart.triage.taxonomy import INCIDENT_TYPES, OTHER

OUTPUT_COLUMNS = ("pathway", "rule", "fallback", "fallback_program")


@ibis.udf.scalar.builtin(name="timezone")
def _wall_clock(zone: str, at: datetime) -> datetime:  # type: ignore[empty-body]
    """The database's timezone(zone, timestamptz): the wall-clock time in that zone."""


@dataclass(frozen=True, slots=True)
class CompiledPolicy:
    """A policy ready to classify tables of calls; call it like a function."""

    policy: Policy

    def __call__(
        self,
        table: ir.Table,
        *,
        minute_column: str | None = None,
        hour_column: str | None = None,
        timestamp_column: str | None = None,
        availability: Mapping[str, bool] | None = None,
        prefix: str = "",
    ) -> ir.Table:
        """Add ``<prefix>pathway``, ``rule``, ``fallback`` and ``fallback_program`` to ``table``."""
        outputs = [prefix + name for name in OUTPUT_COLUMNS]
        minute = _minute_of_day(
            table, self.policy, minute_column=minute_column, hour_column=hour_column, timestamp_column=timestamp_column
        )
        facts = _Facts.of(table, self.policy)
        rules = self.policy.rules
        fits = [_fits(rule, facts, self.policy) for rule in rules]
        why_not = [_why_not_open(self.policy.programs[rule.send], minute, availability) for rule in rules]
        decides = [fit if why is None else fit & why.isnull() for fit, why in zip(fits, why_not, strict=True)]
        decider = ibis.cases(*((d, i) for i, d in enumerate(decides)), else_=len(rules) - 1)
        passed = _first_passed_over(rules, fits, why_not, decides)
        step = table.mutate(
            heart_decider_=decider,
            **{f"{prefix}fallback": passed[0], f"{prefix}fallback_program": passed[1]},
        )
        decided = step.heart_decider_
        return step.mutate(
            **{
                f"{prefix}pathway": _lookup(decided, [rule.send for rule in rules]),
                f"{prefix}rule": _lookup(decided, [rule.id for rule in rules]),
            }
        ).select(*(c for c in table.columns if c not in outputs), *outputs)


def compile_policy(policy: Policy) -> CompiledPolicy:
    """Compile ``policy`` to a function from an Ibis table of calls to the same table with decisions."""
    return CompiledPolicy(policy)


@dataclass(frozen=True, slots=True)
class _Facts:
    """The call's facts as non-null Ibis columns, normalized the way the engine normalizes them."""

    incident_type: ir.StringValue
    priority: ir.StringValue
    answers: Mapping[str, ir.StringValue]

    @classmethod
    def of(cls, table: ir.Table, policy: Policy) -> _Facts:
        raw_type = table.incident_type.cast("string")
        incident_type = raw_type.isin(list(INCIDENT_TYPES)).fill_null(False).ifelse(raw_type, OTHER)
        priority = (
            table.priority.cast("string").strip().upper().fill_null("")
            if "priority" in table.columns
            else ibis.literal("")
        )
        answers = {q: _answer(table, q) for q in policy.question_ids}
        return cls(incident_type, priority, answers)


def _answer(table: ir.Table, question: str) -> ir.StringValue:
    """'yes', 'no' or 'unknown' for every row; a missing column means unknown throughout."""
    if question not in table.columns:
        return ibis.literal("unknown")
    said = table[question].cast("string").strip().lower()
    return said.isin(["yes", "no"]).fill_null(False).ifelse(said, "unknown")


def _fits(rule: Rule, facts: _Facts, policy: Policy) -> ir.BooleanValue:
    """True where the rule fits the call with known answers (unknown never fits)."""
    condition: ir.BooleanValue = ibis.literal(True)
    if rule.types is not None:
        condition &= facts.incident_type.isin(sorted(rule.types))
    if rule.priorities is not None:
        condition &= facts.priority.isin(sorted(rule.priorities))
    if rule.exclusions_clear and policy.excluded_priorities:
        condition &= ~facts.priority.isin(sorted(policy.excluded_priorities))
    if rule.any_yes:
        condition &= ibis.or_(*(facts.answers[q] == "yes" for q in rule.any_yes))
    must_be_no = rule.all_no + policy.exclusion_questions if rule.exclusions_clear else rule.all_no
    for question in must_be_no:
        condition &= facts.answers[question] == "no"
    return condition


def _why_not_open(
    program: Program, minute: ir.IntegerValue, availability: Mapping[str, bool] | None
) -> ir.StringValue | None:
    """None when the program always takes calls, else an expression: null if open, else the reason."""
    if program.always_open:
        return None
    is_open = ibis.or_(*((minute >= start) & (minute < end) for start, end in program.hours)).fill_null(False)
    if availability is not None and not availability.get(program.code, True):
        return is_open.ifelse(ibis.literal(NO_UNIT_AVAILABLE), ibis.literal(PROGRAM_CLOSED))
    return is_open.ifelse(ibis.null("string"), ibis.literal(PROGRAM_CLOSED))


def _first_passed_over(
    rules: Sequence[Rule],
    fits: Sequence[ir.BooleanValue],
    why_not: Sequence[ir.StringValue | None],
    decides: Sequence[ir.BooleanValue],
) -> tuple[ir.StringValue, ir.StringValue]:
    """Why and which program, for the first rule that fit but could not take the call before the decider."""
    reasons: list[tuple[ir.BooleanValue, ir.StringValue]] = []
    programs: list[tuple[ir.BooleanValue, ir.StringValue]] = []
    nothing = ibis.null("string")
    for rule, fit, why, decided in zip(rules, fits, why_not, decides, strict=True):
        reasons.append((decided, nothing))
        programs.append((decided, nothing))
        if why is not None:
            reasons.append((fit & why.notnull(), why))
            programs.append((fit & why.notnull(), ibis.literal(rule.send)))
    return ibis.cases(*reasons, else_=nothing), ibis.cases(*programs, else_=nothing)


def _lookup(index: ir.IntegerValue, values: Sequence[str | None]) -> ir.StringValue:
    return ibis.cases(*((index == i, v) for i, v in enumerate(values) if v is not None), else_=ibis.null("string"))


def _minute_of_day(
    table: ir.Table,
    policy: Policy,
    *,
    minute_column: str | None = None,
    hour_column: str | None = None,
    timestamp_column: str | None = None,
) -> ir.IntegerValue:
    """Local minute of the day, from whichever time column the table has (checked in that order)."""
    if not (minute_column or hour_column or timestamp_column):
        for name, kind in (("local_minute", "minute"), ("local_hour", "hour"), ("received_at", "timestamp")):
            if name in table.columns:
                return _minute_of_day(table, policy, **{f"{kind}_column": name})
        raise ValueError("the calls need a time: a local_minute, local_hour or received_at column")
    if minute_column:
        return table[minute_column].cast("int32")
    if hour_column:
        return table[hour_column].cast("int32") * 60
    column = table[str(timestamp_column)]
    if column.type().timezone is None:  # naive timestamps are UTC by the storage convention
        column = column.cast("timestamp('UTC')")
    local = _wall_clock(policy.timezone.key, column)
    return (local.hour() * 60 + local.minute()).cast("int32")
