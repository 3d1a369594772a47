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

import itertools
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np

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
    return ibis.cases(  # "no" first, the commonest answer (every exclusion question of a call a team can take)
        (said == "no", _NO),
        (said == "yes", _YES),
        (said.isnull() | (said == "unknown"), _UNKNOWN),
        (tidy == "yes", _YES),
        (tidy == "no", _NO),
        else_=_UNKNOWN,
    ).cast("int8")


def _per_value(values: Sequence[Any], function: Any) -> Any:
    """``function`` of each value as a numpy array, called once per distinct value (null: once, with None)."""
    import pandas as pd

    codes, uniques = pd.factorize(np.asarray(values, dtype=object))
    results = np.array([*(function(value) for value in uniques), function(None)], dtype=np.int64)
    return results[codes]  # a null's code is -1: the last result


def _answer_code(value: Any) -> int:
    """``_answer`` of one value, in Python."""
    if not isinstance(value, str):
        return _UNKNOWN
    if value == "no":
        return _NO
    if value == "yes":
        return _YES
    tidy = value.strip(string.whitespace).lower()
    return _YES if tidy == "yes" else _NO if tidy == "no" else _UNKNOWN


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
        minute = table[minute_column]
        kind = minute.type()
        # An integer column wide enough is read as it is: a cast would be paid once per comparison, per call.
        return minute if kind.is_integer() and not kind.is_int8() and not kind.is_uint8() else minute.cast("int32")
    if hour_column:
        return table[hour_column].cast("int32") * 60
    column = table[str(timestamp_column)]
    if column.type().timezone is None:  # naive timestamps are UTC by the storage convention
        column = column.cast("timestamp('UTC')")
    local = _wall_clock(policy.timezone.key, column)
    return (local.hour() * 60 + local.minute()).cast("int32")


# --- the same decisions through a table of every combination of facts --------------------------------------

MAX_KEYS = 4_000_000
"""Largest decision table ``decision_table`` builds; a policy needing more is classified by ``compile_policy``."""


_NUMBERS = itertools.count(1)


@dataclass(frozen=True, slots=True, eq=False)  # compared and hashed by identity, like a Policy
class DecisionTable:
    """The compiled policy as a lookup: one small integer per call, one decision per integer.

    A decision depends on the call's facts only through a few classes: the incident type through the rule
    type sets it belongs to, the priority through the rule priorities (and the excluded ones), each answer as
    yes / no / unknown, and the time through which programs with hours are open. ``key(table)`` numbers the
    combination of classes of each row (one pass, no text but the columns themselves); ``decisions`` gives, for
    every key, the index into ``outcomes`` of (pathway, rule, fallback, fallback program), worked out once for
    every combination by the rules of ``compile_policy`` (first fitting rule whose program can take the call;
    the first fitting rule passed over). The tests compare every key with the engine.
    """

    policy: Policy
    availability: Mapping[str, bool] | None
    type_classes: tuple[tuple[str, ...], ...]
    other_class: int
    priority_classes: tuple[tuple[str, ...], ...]
    unknown_priority_class: int
    edges: tuple[int, ...]
    """opening and closing minutes of the programs with hours, ascending"""
    time_classes: tuple[int, ...]
    """the class of each stretch: below the first edge, then from each edge on; then a row without a time"""
    time_class_count: int
    decisions: Any
    """numpy array: key -> index into ``outcomes``"""
    outcomes: tuple[tuple[str, str, str | None, str | None], ...]
    number: int = field(default_factory=lambda: next(_NUMBERS))
    """names this table's tables in a database (``store``)"""
    groups: tuple[tuple[str, str | None, str | None], ...] = field(init=False)
    """the distinct (pathway, fallback, fallback program) of ``outcomes``: what a replay counts calls by"""
    group_of: Any = field(init=False)
    """numpy array: index into ``outcomes`` -> index into ``groups``"""
    pathways: tuple[str, ...] = field(init=False)
    """the distinct pathways of ``outcomes``"""
    pathway_of: Any = field(init=False)
    """numpy array: index into ``outcomes`` -> index into ``pathways``"""
    vectors: Any = field(init=False)
    """numpy array (vector, type class) -> index into ``outcomes``: the distinct decisions of every type class"""
    vector_of: Any = field(init=False)
    """numpy array: a key without its type (``key`` of type class 0) -> the row of ``vectors`` holding its decision
    for every type class. A few dozen vectors cover every key, so a replay can count calls per (incident type,
    vector) and look the type's class up only once per count, not once per call."""

    def __post_init__(self) -> None:
        groups = {(pathway, fallback, program): None for pathway, _, fallback, program in self.outcomes}
        group_index = {group: i for i, group in enumerate(groups)}
        pathways = {pathway: i for i, pathway in enumerate(dict.fromkeys(o[0] for o in self.outcomes))}
        object.__setattr__(self, "groups", tuple(groups))
        object.__setattr__(self, "group_of", np.array([group_index[(o[0], o[2], o[3])] for o in self.outcomes],
                                                      dtype=np.int16))
        object.__setattr__(self, "pathways", tuple(pathways))
        object.__setattr__(self, "pathway_of", np.array([pathways[o[0]] for o in self.outcomes], dtype=np.int16))
        by_type = np.asarray(self.decisions).reshape(len(self.type_classes), -1).T  # (key without type, type class)
        vectors, vector_of = np.unique(by_type, axis=0, return_inverse=True)
        object.__setattr__(self, "vectors", vectors)
        object.__setattr__(self, "vector_of", vector_of.reshape(-1).astype(np.int16))

    @property
    def size(self) -> int:
        return len(self.decisions)

    def key(
        self,
        table: ir.Table,
        *,
        minute_column: str | None = None,
        hour_column: str | None = None,
        timestamp_column: str | None = None,
        type_class: ir.IntegerValue | None = None,
    ) -> ir.IntegerValue:
        """The key of each row of ``table`` (the columns ``compile_policy`` reads), as an int32 column.

        ``type_class``: the class of the incident type when already looked up (``type_table``), else a CASE.
        """
        policy = self.policy
        if type_class is None:
            raw_type = table.incident_type.cast("string")
            type_class = ibis.cases(
                *((raw_type.isin(list(types)), i) for i, types in enumerate(self.type_classes)
                  if i != self.other_class),
                else_=self.other_class,
            ) if len(self.type_classes) > 1 else ibis.literal(0)
        priority_class = self._priority_class(table) if len(self.priority_classes) > 1 else ibis.literal(0)
        answers: ir.IntegerValue = ibis.literal(0)
        for i, question in enumerate(policy.question_ids):
            if question in table.columns:
                answers = answers + _answer(table, question).cast("int32") * 3**i
        minute = _minute_of_day(
            table, policy, minute_column=minute_column, hour_column=hour_column, timestamp_column=timestamp_column
        )
        time_class: ir.IntegerValue
        if self.time_class_count > 1:
            time_class = ibis.cases(
                (minute.isnull(), self.time_classes[-1]),
                *((minute >= edge, self.time_classes[i + 1]) for i, edge in reversed(list(enumerate(self.edges)))),
                else_=self.time_classes[0],
            )
        else:
            time_class = ibis.literal(0)
        combined = (type_class.cast("int32") * len(self.priority_classes) + priority_class) * 3 ** len(
            policy.question_ids) + answers
        return (combined * self.time_class_count + time_class).cast("int32")

    def _priority_class(self, table: ir.Table) -> ir.IntegerValue:
        """The class of ``_priority(table)``, written so that a value already tidy costs one comparison."""
        if "priority" not in table.columns:
            return ibis.literal(self._class_of_priority(""))
        said = table.priority.cast("string")
        tidy = said.strip().upper()
        exact = [(said == value, self._class_of_priority(value)) for value in PRIORITIES]
        loose = [(tidy == value, self._class_of_priority(value)) for value in (*PRIORITIES, "")
                 if self._class_of_priority(value) != self.unknown_priority_class]
        return ibis.cases(*exact, (said.isnull(), self._class_of_priority("")), *loose,
                          else_=self.unknown_priority_class)

    def _class_of_priority(self, value: str) -> int:
        return next(i for i, values in enumerate(self.priority_classes) if value in values)

    def decide_rows(
        self,
        incident_types: Sequence[Any],
        priorities: Sequence[Any],
        minutes: Sequence[Any],
        answers: Mapping[str, Sequence[Any]] | None = None,
        *,
        answer_codes: Any = None,
    ) -> Any:
        """Each row's index into ``outcomes``, worked out in Python (numpy) rather than in the database: for a few
        thousand rows (a replay's distinct combinations) that costs less than compiling and planning a query.

        The same classes as ``key``: an incident type outside the table (or null) is 'other'; a priority is read
        as written, else trimmed and upper-cased; an answer "yes"/"no" as written, else trimmed and lower-cased,
        anything else (null) unknown; a null minute (NaN) is a call without a time. ``answers``: a sequence per
        question id (a missing one: unknown throughout). ``answer_codes``: instead of ``answers``, each row's
        ``answer_code`` (a numpy array).
        """
        count = len(incident_types)
        type_class = self.type_classes_of(incident_types)
        priority_class = _per_value(priorities, self._class_of_written)
        codes = np.zeros(count, dtype=np.int64) if answer_codes is None else np.asarray(answer_codes, dtype=np.int64)
        for i, question in enumerate(self.policy.question_ids):
            said = (answers or {}).get(question)
            if said is not None:
                codes += _per_value(said, _answer_code) * 3**i
        minute = np.asarray(minutes, dtype=np.float64)
        stretch = np.searchsorted(np.asarray(self.edges, dtype=np.float64), minute, side="right")
        time_class = np.where(np.isnan(minute), self.time_classes[-1],
                              np.asarray(self.time_classes)[np.minimum(stretch, len(self.edges))])
        if self.time_class_count == 1:
            time_class = np.zeros(count, dtype=np.int64)
        combined = (type_class * len(self.priority_classes) + priority_class) * 3 ** len(self.policy.question_ids)
        return self.decisions[(combined + codes) * self.time_class_count + time_class]

    def answer_code(self, answers: Mapping[str, Any]) -> int:
        """The part of the key the answers make (what ``decide_rows`` adds up per row); a missing one is unknown."""
        return sum(_answer_code(answers.get(q)) * 3**i for i, q in enumerate(self.policy.question_ids))

    def _class_of_written(self, value: Any) -> int:
        """The class of a priority as a CAD wrote it (``_priority_class``, in Python)."""
        if value is None or (not isinstance(value, str) and value != value):  # null or NaN
            return self._class_of_priority("")
        said = str(value)
        if said in PRIORITIES:
            return self._class_of_priority(said)
        tidy = said.strip(string.whitespace).upper()
        if tidy in (*PRIORITIES, ""):
            return self._class_of_priority(tidy)
        return self.unknown_priority_class

    def lookup(self, con: Any = None, name: str = "heart_decisions_") -> ir.Table:
        """The table ``heart_key_`` → ``heart_decision_`` (index into ``outcomes``) to join calls with.

        Given a DuckDB connection it is stored there as a temporary table (replacing one of the same name):
        the database then knows the keys' range and joins by direct lookup instead of hashing every call.
        """
        import pandas as pd

        frame = pd.DataFrame({"heart_key_": np.arange(self.size, dtype=np.int32), "heart_decision_": self.decisions})
        return stored_table(frame, con, name)

    def type_classes_of(self, incident_types: Sequence[Any]) -> Any:
        """The type class of each incident type (numpy; unknown or null: 'other'), as ``key`` reads them."""
        class_of_type = {kind: i for i, types in enumerate(self.type_classes) for kind in types}
        return _per_value(incident_types, lambda kind: class_of_type.get(kind, self.other_class)
                          if isinstance(kind, str) else self.other_class)

    def type_table(self, con: Any = None, name: str = "heart_types_") -> ir.Table:
        """The table ``heart_type_`` (an incident type id) → ``heart_type_class_``."""
        import pandas as pd

        pairs = [(kind, i) for i, types in enumerate(self.type_classes) for kind in types]
        frame = pd.DataFrame(pairs, columns=["heart_type_", "heart_type_class_"]).astype({"heart_type_class_": "int32"})
        return stored_table(frame, con, name)

    def decide(
        self, table: ir.Table, *, con: Any = None, column: str = "heart_decision_", name: str = "heart_",
        tables: tuple[ir.Table, ir.Table] | None = None, minute_column: str | None = None,
        hour_column: str | None = None, timestamp_column: str | None = None,
    ) -> ir.Table:
        """``table`` with the ``column`` of each row's index into ``outcomes``; rows come back in any order.

        Two joins: the incident type with its class (by hash: one probe per call, however many types), then
        the key with the decision (given a DuckDB connection, both small tables are stored there, so that the
        database joins the key by direct lookup). ``tables``: the (types, decisions) tables to join instead,
        e.g. unbound ones named as ``store`` names them, to compile the query once.
        """
        types, lookup = tables or (self.type_table(con, f"{name}types_"), self.lookup(con, f"{name}decisions_"))
        typed = table.left_join(types, table.incident_type.cast("string") == types.heart_type_)
        typed = typed.select(*table.columns, types.heart_type_class_)
        type_class = typed.heart_type_class_.fill_null(self.other_class)
        key = self.key(typed, type_class=type_class, minute_column=minute_column, hour_column=hour_column,
                       timestamp_column=timestamp_column)
        keyed = typed.select(*table.columns, heart_key_=key)
        joined = keyed.join(lookup, "heart_key_")
        return joined.select(*table.columns, **{column: joined.heart_decision_})

    @staticmethod
    def unbound_vectors(name: str = "heart_") -> ir.Table:
        """A placeholder for the vectors table that ``store_vectors(con)`` creates (``name``: this table's)."""
        return ibis.table({"heart_key_": "int32", "heart_vector_": "int16"}, name=f"{name}vectors_")

    @staticmethod
    def unbound(name: str = "heart_") -> tuple[ir.Table, ir.Table]:
        """Placeholders for the (types, decisions) tables that ``store(con, name)`` creates."""
        return (ibis.table({"heart_type_": "string", "heart_type_class_": "int32"}, name=f"{name}types_"),
                ibis.table({"heart_key_": "int32", "heart_decision_": "int16"}, name=f"{name}decisions_"))

    @property
    def name(self) -> str:
        """The prefix of the tables ``store`` creates."""
        return f"heart_policy_{self.number}_"

    def store(self, con: Any) -> None:
        """Create this table's (types, decisions) tables in the DuckDB connection ``con``, unless it has them.

        They are temporary (the connection's own), and named by this table's number, unique in the process.
        """
        ((found,),) = con.con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE temporary AND table_name IN (?, ?)",
            [f"{self.name}types_", f"{self.name}decisions_"],
        ).fetchall()
        if found < 2:
            self.type_table(con, f"{self.name}types_")
            self.lookup(con, f"{self.name}decisions_")

    def store_vectors(self, con: Any) -> None:
        """Create (or replace) this table's vectors table in the DuckDB connection ``con``: temporary, named as
        ``unbound_vectors(self.name)`` names it. What a replay of calls with their own answers joins."""
        frame = {"heart_key_": np.arange(len(self.vector_of), dtype=np.int32), "heart_vector_": self.vector_of}
        _create_temp(con.con, f"{self.name}vectors_", frame)


def stored_table(frame: Any, con: Any, name: str) -> ir.Table:
    """``frame`` as a temporary table of the DuckDB connection ``con`` (replacing ``name``), or a memtable."""
    if con is None:
        return ibis.memtable(frame)
    _create_temp(con.con, name, frame)  # the DuckDB connection behind Ibis
    return con.table(name)


def _create_temp(raw: Any, name: str, frame: Any) -> None:
    """``frame`` (a DataFrame or a dict of numpy arrays) as the temporary table ``name`` of ``raw``, replacing it."""
    raw.register(f"{name}frame", frame)
    try:
        raw.execute(f'CREATE OR REPLACE TEMP TABLE "{name}" AS SELECT * FROM "{name}frame"')
    finally:
        raw.unregister(f"{name}frame")


@lru_cache(maxsize=32)
def policy_decision_table(policy: Policy) -> DecisionTable | None:
    """``decision_table(policy)``, kept for the next replay of the same policy (every unit assumed available)."""
    return decision_table(policy)


def decision_table(policy: Policy, availability: Mapping[str, bool] | None = None) -> DecisionTable | None:
    """``policy`` as a ``DecisionTable`` (None if it would need more than ``MAX_KEYS`` keys)."""
    rules = policy.rules
    by_types: dict[tuple[bool, ...], list[str]] = {}
    for incident_type in sorted(INCIDENT_TYPES):
        signature = tuple(rule.types is None or incident_type in rule.types for rule in rules)
        by_types.setdefault(signature, []).append(incident_type)
    type_classes = tuple(tuple(types) for types in by_types.values())
    other_class = next(i for i, types in enumerate(type_classes) if OTHER in types)  # also unknown ids and null

    def priority_signature(value: str) -> tuple[bool, ...]:
        return tuple((rule.priorities is None or value in rule.priorities)
                     and not (rule.exclusions_clear and value in policy.excluded_priorities) for rule in rules)

    unknown = "\x00unknown"
    by_priority: dict[tuple[bool, ...], list[str]] = {priority_signature(unknown): []}
    for value in (*PRIORITIES, ""):
        by_priority.setdefault(priority_signature(value), []).append(value)
    priority_classes = tuple(tuple(values) for values in by_priority.values())

    timed = [program for program in policy.programs.values() if not program.always_open]
    edges = tuple(sorted({edge for program in timed for window in program.hours for edge in window}))
    minutes: list[int | None] = [*([edges[0] - 1] if edges else [0]), *edges, None]
    by_time: dict[tuple[bool, ...], int] = {}
    time_classes = tuple(
        by_time.setdefault(tuple(_open_at(program, minute) for program in timed), len(by_time)) for minute in minutes
    )
    open_of_class = [signature for signature, _ in sorted(by_time.items(), key=lambda item: item[1])]

    questions = policy.question_ids
    t, p, a, o = len(type_classes), len(priority_classes), 3 ** len(questions), len(by_time)
    if t * p * a * o > MAX_KEYS:
        return None
    codes = (np.arange(a)[:, None] // (3 ** np.arange(len(questions)))[None, :]) % 3  # a × questions
    column = {question: i for i, question in enumerate(questions)}
    type_ok = np.array([[rule.types is None or types[0] in rule.types for types in type_classes] for rule in rules])
    priority_ok = np.array([[priority_signature(values[0] if values else unknown)[r] for values in priority_classes]
                            for r in range(len(rules))])
    answer_ok = np.ones((len(rules), a), dtype=bool)
    for r, rule in enumerate(rules):
        if rule.any_yes:
            answer_ok[r] &= np.any(codes[:, [column[q] for q in rule.any_yes]] == _YES, axis=1)
        must_be_no = rule.all_no + policy.exclusion_questions if rule.exclusions_clear else rule.all_no
        for question in must_be_no:
            answer_ok[r] &= codes[:, column[question]] == _NO
    timed_index = {program.code: i for i, program in enumerate(timed)}
    unavailable = {code for code, free in (availability or {}).items() if not free}
    takes = np.array([[rule.send not in timed_index
                       or (signature[timed_index[rule.send]] and rule.send not in unavailable)
                       for signature in open_of_class] for rule in rules])
    fits = (type_ok[:, :, None, None, None] & priority_ok[:, None, :, None, None]
            & answer_ok[:, None, None, :, None] & np.ones((1, 1, 1, 1, o), dtype=bool))
    decides = fits & takes[:, None, None, None, :]
    decider = np.where(decides.any(axis=0), decides.argmax(axis=0), len(rules) - 1)
    first_fit = fits.argmax(axis=0)
    passed = np.where(fits.any(axis=0) & (first_fit != decider), first_fit, -1)
    open_now = np.array([[signature[timed_index[rule.send]] if rule.send in timed_index else True
                          for signature in open_of_class] for rule in rules])
    no_unit = np.array([rule.send in unavailable for rule in rules])
    safe_passed = np.maximum(passed, 0)
    hours_open = open_now[safe_passed, np.arange(o)[None, None, None, :]]
    reason = np.where(passed < 0, 0, np.where(no_unit[safe_passed] & hours_open, 2, 1))
    combined = (decider * (len(rules) + 1) + passed + 1) * 3 + reason
    found, decisions = np.unique(combined.reshape(-1), return_inverse=True)
    reasons = (None, PROGRAM_CLOSED, NO_UNIT_AVAILABLE)
    outcomes = []
    for value in found.tolist():
        rest, why = divmod(value, 3)
        decided, passed_plus = divmod(rest, len(rules) + 1)
        over = rules[passed_plus - 1] if passed_plus else None
        outcomes.append((rules[decided].send, rules[decided].id, reasons[why], over.send if over else None))
    return DecisionTable(
        policy, availability, type_classes, other_class, priority_classes, 0, edges, time_classes, o,
        decisions.astype(np.int16), tuple(outcomes),
    )


def _open_at(program: Program, minute: int | None) -> bool:
    return minute is not None and any(start <= minute < end for start, end in program.hours)
