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

from heart.crosswalk.taxonomy import INCIDENT_TYPES, OTHER
from heart.triage.engine import NO_UNIT_AVAILABLE, PROGRAM_CLOSED
from heart.triage.policy import PRIORITIES, Policy, Program, Rule

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
        policy, rules = self.policy, self.policy.rules
        minute = _minute_of_day(
            table, policy, minute_column=minute_column, hour_column=hour_column, timestamp_column=timestamp_column
        )
        # Normalize once in an inner projection, so the rule conditions read plain columns.
        timed = [program for program in policy.programs.values() if not program.always_open]
        opens = {f"heart_open_{i}_": _is_open(program, minute) for i, program in enumerate(timed)}
        staged = table.mutate(**_Facts.of(table, policy).columns(), **opens)
        facts = _Facts.staged(staged, policy)
        gates = _gates(staged, timed, availability)
        fits = [_fits(rule, facts, policy) for rule in rules]
        decides = [fit & gates[r.send].takes if r.send in gates else fit for r, fit in zip(rules, fits, strict=True)]
        decider = ibis.cases(*((d, i) for i, d in enumerate(decides)), else_=len(rules) - 1)
        step = staged.mutate(heart_decider_=decider, heart_passed_=_first_passed_over(rules, fits, decides, gates))
        decided, passed, gates = step.heart_decider_, step.heart_passed_, _gates(step, timed, availability)
        why = ((passed == i, gates[rule.send].why_not) for i, rule in enumerate(rules) if rule.send in gates)
        return step.mutate(
            **{
                outputs[0]: _lookup(decided, [rule.send for rule in rules]),
                outputs[1]: _lookup(decided, [rule.id for rule in rules]),
                outputs[2]: ibis.cases(*why, else_=ibis.null("string")),
                outputs[3]: _lookup(passed, [rule.send for rule in rules]),
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
    answers: Mapping[str, ir.IntegerValue]

    @classmethod
    def of(cls, table: ir.Table, policy: Policy) -> _Facts:
        """Normalized expressions over the raw columns."""
        raw_type = table.incident_type.cast("string").fill_null(OTHER)
        named = any(OTHER in rule.types for rule in policy.rules if rule.types is not None)
        # Unknown ids behave as 'other'; mapping them costs a lookup per row, so do it only if a rule names 'other'.
        incident_type = raw_type.isin(list(INCIDENT_TYPES)).ifelse(raw_type, OTHER) if named else raw_type
        answers = {q: _answer(table, q) for q in policy.question_ids}
        return cls(incident_type, _priority(table), answers)

    @classmethod
    def staged(cls, table: ir.Table, policy: Policy) -> _Facts:
        """The same facts, read back from the columns ``columns()`` added."""
        answers = {q: table[f"heart_answer_{i}_"] for i, q in enumerate(policy.question_ids)}
        return cls(table.heart_type_, table.heart_priority_, answers)

    def columns(self) -> dict[str, ir.Value]:
        """Helper columns holding the normalized facts."""
        answers = {f"heart_answer_{i}_": said for i, said in enumerate(self.answers.values())}
        return {"heart_type_": self.incident_type, "heart_priority_": self.priority, **answers}


_YES, _NO, _UNKNOWN = 1, 2, 0  # answers as small integers: comparing them is much cheaper than text


def _answer(table: ir.Table, question: str) -> ir.IntegerValue:
    """_YES, _NO or _UNKNOWN for every row; a missing column means unknown throughout."""
    if question not in table.columns:
        return ibis.literal(_UNKNOWN, type="int8")
    said = table[question].cast("string")
    tidy = said.strip().lower()  # only rows not written exactly 'yes', 'no', 'unknown' or null pay for this
    return ibis.cases(
        (said == "yes", _YES),
        (said == "no", _NO),
        (said.isnull() | (said == "unknown"), _UNKNOWN),
        (tidy == "yes", _YES),
        (tidy == "no", _NO),
        else_=_UNKNOWN,
    ).cast("int8")


def _priority(table: ir.Table) -> ir.StringValue:
    """The priority as 'P', '1'…'4' (upper-cased, trimmed), or '' when missing."""
    if "priority" not in table.columns:
        return ibis.literal("")
    said = table.priority.cast("string")
    return said.isin(list(PRIORITIES)).fill_null(False).ifelse(said, said.strip().upper().fill_null(""))


def _fits(rule: Rule, facts: _Facts, policy: Policy) -> ir.BooleanValue:
    """True where the rule fits the call with known answers (unknown never fits)."""
    conditions: list[ir.BooleanValue] = []
    if rule.types is not None:
        conditions.append(facts.incident_type.isin(sorted(rule.types)))
    if rule.priorities is not None:
        conditions.append(facts.priority.isin(sorted(rule.priorities)))
    if rule.exclusions_clear and policy.excluded_priorities:
        conditions.append(~facts.priority.isin(sorted(policy.excluded_priorities)))
    if rule.any_yes:
        conditions.append(ibis.or_(*(facts.answers[q] == _YES for q in rule.any_yes)))
    must_be_no = rule.all_no + policy.exclusion_questions if rule.exclusions_clear else rule.all_no
    conditions.extend(facts.answers[question] == _NO for question in must_be_no)
    return ibis.and_(*conditions) if conditions else ibis.literal(True)


def _is_open(program: Program, minute: ir.IntegerValue) -> ir.BooleanValue:
    """True where the local minute falls in one of the program's windows (a missing time: closed)."""
    return ibis.or_(*((minute >= start) & (minute < end) for start, end in program.hours)).fill_null(False)


@dataclass(frozen=True, slots=True)
class _Gate:
    """Whether a program with hours can take the call, and why not when it cannot."""

    takes: ir.BooleanValue
    why_not: ir.StringValue

    @classmethod
    def of(cls, program: Program, is_open: ir.BooleanValue, availability: Mapping[str, bool] | None) -> _Gate:
        if availability is not None and not availability.get(program.code, True):
            return cls(ibis.literal(False), is_open.ifelse(NO_UNIT_AVAILABLE, PROGRAM_CLOSED))
        return cls(is_open, ibis.literal(PROGRAM_CLOSED))


def _gates(table: ir.Table, timed: Sequence[Program], availability: Mapping[str, bool] | None) -> dict[str, _Gate]:
    """The gate of every program with hours, read from the helper columns of ``table``."""
    return {program.code: _Gate.of(program, table[f"heart_open_{i}_"], availability) for i, program in enumerate(timed)}


def _first_passed_over(
    rules: Sequence[Rule],
    fits: Sequence[ir.BooleanValue],
    decides: Sequence[ir.BooleanValue],
    gates: Mapping[str, _Gate],
) -> ir.IntegerValue:
    """Index of the first rule that fit but whose program could not take the call, before the decider; else -1."""
    branches: list[tuple[ir.BooleanValue, int]] = []
    for i, (rule, fit, decided) in enumerate(zip(rules, fits, decides, strict=True)):
        if rule.send not in gates:  # always open: the rule decides whenever it fits
            branches.append((fit, -1))
        else:
            branches.extend([(decided, -1), (fit, i)])
    return ibis.cases(*branches, else_=-1)


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
