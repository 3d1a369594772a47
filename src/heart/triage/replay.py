"""Replay a triage policy over imported CAD history: where would those calls have gone, and when was HEART closed?

The history comes from ``cad_records`` (one import batch, optionally one agency) in the operational database,
SQLite or PostgreSQL. It is read once into pandas, handed to DuckDB, counted per distinct combination of the
facts a decision depends on, and each combination is decided through the policy's decision table
(``heart.triage.compiler.DecisionTable``); only counts come back from the database.

What a replay has to assume, because a CAD record does not say it:

* **Screening answers are unknown.** Nobody asked the policy's questions on those calls. Taken as recorded
  (scenario ``recorded``), unknown never counts as "no", so the unarmed teams (CRT, CCD) get nothing: that
  is the floor. ``screened`` assumes a call-taker asked and heard "no" to every exclusion question, unless
  the incident type itself implies "yes" (``IMPLIED_YES``: a shooting has a weapon, an overdose needs
  medical care, an assault is a risk to others…); the other questions stay unknown, so no call goes to CCD,
  whose rule needs the caller to agree to talk by phone. ``screened_phone_ok`` also assumes that the caller
  agrees, which makes CCD's count an upper bound (taken from CRT's). Reports show the scenarios side by side.
* **Every program with hours had a unit free** (a history does not say which units were busy); only hours
  count. Calls passed over because their program was closed carry ``fallback = program_closed``.
* **Local time** is the CAD's own time zone (its import profile's), so a policy's hours are read as that
  city's clock: "what if this city ran this policy". A record without a time of day counts as outside
  every program's hours and is reported as such.
* **Priorities** are compared as the CAD wrote them; ``priority_p`` names CAD values that mean the policy's
  Priority P (immediate threat to life).
* The incident type is the one the import stored (through the CAD's crosswalk); a record without one is
  read through the one resolver every intake path uses (``heart.crosswalk.mapper``), else counts as ``other``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd
from sqlalchemy import Engine, select

from heart.calls.models import CadRecord, ImportBatch
from heart.crosswalk.mapper import resolve_nature_code
from heart.crosswalk.taxonomy import INCIDENT_TYPES, OTHER
from heart.triage.compiler import (
    DecisionTable,
    compile_policy,
    policy_decision_table,
    stored_table,
)
from heart.triage.engine import PROGRAM_CLOSED, CallFacts, decide
from heart.triage.policy import Policy


class ReplayError(Exception):
    """A replay that cannot run; ``str(error)`` is one plain sentence."""


@dataclass(frozen=True, slots=True)
class Scenario:
    """What the replay assumes about the screening answers a CAD record does not have."""

    name: str
    label: str
    screened: bool = False
    phone_ok: bool = False
    own_answers: bool = False
    """the calls carry their own answers (one column per question id): nothing is assumed"""


RECORDED = Scenario("recorded", "answers unknown (as recorded)")
SCREENED = Scenario("screened", "assumed screened", screened=True)
SCREENED_PHONE_OK = Scenario("screened_phone_ok", "screened, caller takes the phone", screened=True, phone_ok=True)
OWN_ANSWERS = Scenario("own_answers", "each call's own answers", own_answers=True)

# Incident types whose very name answers a screening question "yes" (keys: question ids of the decide contract).
IMPLIED_YES: Mapping[str, frozenset[str]] = {
    "weapon": frozenset({"person_with_weapon", "shots_fired", "shooting", "stabbing", "robbery",
                         "crisis_with_violence"}),
    "imminent_risk_to_others": frozenset({"assault", "shooting", "stabbing", "domestic_violence", "sexual_assault",
                                          "caller_in_danger", "officer_needs_help", "crisis_with_violence"}),
    "medical_intervention": frozenset({"overdose", "medical_emergency", "injured_person", "suicide_attempt"}),
    "violent_history": frozenset({"assault", "domestic_violence", "crisis_with_violence"}),
    "ivc_order": frozenset({"ivc_order"}),
}
GROUP_KEYS = ("pathway", "incident_type", "local_hour", "fallback", "fallback_program")
CALL_COLUMNS = ("incident_type", "priority", "local_minute", "local_hour")


def scenarios_for(*, assume_screened: bool = False, assume_phone_ok: bool = False) -> tuple[Scenario, ...]:
    """The scenarios to report: always the recorded one, then the assumptions asked for."""
    chosen = [RECORDED]
    if assume_screened or assume_phone_ok:
        chosen.append(SCREENED)
    if assume_phone_ok:
        chosen.append(SCREENED_PHONE_OK)
    return tuple(chosen)


# --- reading a batch -----------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class CadBatch:
    """The records of one import batch, as a DataFrame, with the CAD's profile name."""

    label: str
    profile: str
    records: pd.DataFrame


def load_batch(*, engine: Engine, batch: str, agency: str | None = None) -> CadBatch:
    """Read a batch's records (received_at, nature_code, incident_type, priority, agency); one query."""
    with engine.connect() as connection:
        batch_query = select(ImportBatch.id, ImportBatch.profile).where(ImportBatch.label == batch)
        found = connection.execute(batch_query).first()
        if found is None:
            labels = connection.scalars(select(ImportBatch.label).order_by(ImportBatch.id.desc()).limit(5)).all()
            known = f" (recent batches: {', '.join(labels)})" if labels else " (nothing has been imported)"
            raise ReplayError(f"there is no import batch labelled {batch!r}{known}")
        columns = [CadRecord.received_at, CadRecord.nature_code, CadRecord.incident_type, CadRecord.priority,
                   CadRecord.agency]
        query = select(*columns).where(CadRecord.batch_id == found.id).order_by(CadRecord.id)
        if agency:
            query = query.where(CadRecord.agency == agency)
        rows = connection.execute(query).all()
    records = pd.DataFrame(rows, columns=[c.key for c in columns])
    records["received_at"] = pd.to_datetime(records["received_at"], utc=True)
    return CadBatch(batch, found.profile, records)


def prepare_calls(
    records: pd.DataFrame, policy: Policy, *, zone: ZoneInfo, priority_p: Iterable[str] = ()
) -> pd.DataFrame:
    """The compiled policy's input: incident type (never null), priority, local minute and hour (null: no time)."""
    types = records["incident_type"].astype(object).where(records["incident_type"].notna(), None)
    missing = types.isna() & records["nature_code"].notna()
    if missing.any():
        codes = records.loc[missing, "nature_code"]
        resolved = {code: resolve_nature_code(code) for code in codes.unique()}
        types = types.where(~missing, codes.map(resolved))
    types = types.where(types.isin(list(INCIDENT_TYPES)), OTHER)
    priority = records["priority"].astype(object).where(records["priority"].notna(), None)
    priority = priority.map(lambda value: None if value is None else str(value).strip().upper())
    as_p = {str(value).strip().upper() for value in priority_p}
    if as_p:
        priority = priority.where(~priority.isin(as_p), "P")
    local = pd.to_datetime(records["received_at"], utc=True).dt.tz_convert(zone.key)
    minute = (local.dt.hour * 60 + local.dt.minute).astype("Int16")
    return pd.DataFrame({
        "incident_type": types.astype(str),
        "priority": priority,
        "local_minute": minute,
        "local_hour": (minute // 60).astype("Int16"),
    }).reset_index(drop=True)


# --- screening assumptions, shared by the compiled query and the engine ------------------------------------

@dataclass(frozen=True, slots=True)
class Assumptions:
    """Which questions a scenario answers, and how; built from the policies being replayed."""

    questions: tuple[str, ...]
    exclusions: frozenset[str]
    phone: frozenset[str]

    @classmethod
    def of(cls, *policies: Policy) -> Assumptions:
        questions = tuple(dict.fromkeys(q for policy in policies for q in policy.question_ids))
        exclusions = frozenset(q for policy in policies for q in policy.exclusion_questions)
        return cls(questions, exclusions, frozenset(q for policy in policies for q in phone_questions(policy)))

    def default(self, question: str, scenario: Scenario) -> str | None:
        """The answer assumed when the incident type implies nothing."""
        if question in self.exclusions:
            return "no"
        return "yes" if scenario.phone_ok and question in self.phone else None

    def answer(self, question: str, incident_type: str, scenario: Scenario) -> str | None:
        """The assumed answer for one call (None: unknown)."""
        if not scenario.screened:
            return None
        if incident_type in IMPLIED_YES.get(question, ()):
            return "yes"
        return self.default(question, scenario)

    def columns(self, table: ir.Table, scenario: Scenario) -> dict[str, ir.Value]:
        """The same answers as Ibis columns named by question id."""
        found: dict[str, ir.Value] = {}
        for question in self.questions:
            fallback = self.default(question, scenario) if scenario.screened else None
            value: ir.Value = ibis.literal(fallback, type="string")
            implied = IMPLIED_YES.get(question)
            if scenario.screened and implied:
                value = ibis.cases((table.incident_type.isin(sorted(implied)), "yes"), else_=value)
            found[question] = value
        return found


def phone_questions(policy: Policy) -> tuple[str, ...]:
    """Questions a phone program's rule needs answered yes (the caller agrees to talk), e.g. ``phone_ok``."""
    phone = {code for code, program in policy.programs.items() if program.kind == "phone"}
    return tuple(dict.fromkeys(q for rule in policy.rules if rule.send in phone for q in rule.any_yes))


# --- running the replay -------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class ScenarioResult:
    """Grouped counts of one scenario: one row per (pathway, type, hour, fallback[, other pathway])."""

    scenario: Scenario
    counts: pd.DataFrame
    codes: tuple[str, ...] = ()
    """every pathway of the policies replayed (``Policy.codes``), in their order"""

    def pathways(self, column: str = "pathway") -> dict[str, int]:
        """Calls per pathway, every pathway listed (0 when none)."""
        totals = self.counts.groupby(column)["calls"].sum()
        return {pathway: int(totals.get(pathway, 0)) for pathway in self.codes or sorted(totals.index)}

    def by(self, key: str) -> dict[Any, dict[str, int]]:
        """Calls per pathway for each value of ``key`` (incident_type or local_hour; None for no time)."""
        grouped = self.counts.groupby([key, "pathway"], dropna=False)["calls"].sum()
        result: dict[Any, dict[str, int]] = {}
        for (value, pathway), calls in grouped.items():
            name = None if pd.isna(value) else (int(value) if key == "local_hour" else str(value))
            result.setdefault(name, {})[str(pathway)] = int(calls)
        return result

    def closed(self) -> dict[str, int]:
        """Calls a program would have taken but for its hours, per program."""
        passed = self.counts[self.counts["fallback"] == PROGRAM_CLOSED]
        return {str(k): int(v) for k, v in passed.groupby("fallback_program")["calls"].sum().items()}

    def transitions(self) -> dict[str, dict[str, int]] | None:
        """With a second policy: calls from each pathway of the first to each pathway of the second."""
        if "other_pathway" not in self.counts.columns:
            return None
        grouped = self.counts.groupby(["pathway", "other_pathway"])["calls"].sum()
        matrix: dict[str, dict[str, int]] = {}
        for (before, after), calls in grouped.items():
            matrix.setdefault(str(before), {})[str(after)] = int(calls)
        return matrix


def replay_calls(
    calls: pd.DataFrame | ir.Table,
    policy: Policy,
    *,
    scenarios: Sequence[Scenario] = (RECORDED,),
    compare: Policy | None = None,
    con: Any = None,
) -> list[ScenarioResult]:
    """Classify ``calls`` (``prepare_calls``' columns) under each scenario; DuckDB reads the calls, once per replay.

    Under an assumed scenario a decision depends only on the call's type, priority, answers (here a function
    of the type) and on which programs are open at its minute. So one query counts the calls per distinct
    (type, priority, hour, stretch of the day in which no program opens or closes), and each distinct combination
    (a few thousand) is decided once per scenario in Python through the policy's decision table
    (``DecisionTable.decide_rows``): the same result as classifying every call, much faster.

    Under ``OWN_ANSWERS`` the calls carry their own answers (one column per question id), so every call is
    classified: one scan numbers each call's facts but its type (``DecisionTable.key``), a join gives the row of
    the table's ``vectors`` holding the decision for every type class, the calls are counted per (type, hour,
    vector), and each count takes the decision of its type's class.

    The SQL is compiled once per policies and columns (Ibis compiling costs more than DuckDB running it on a
    million calls); the small tables are stored in the connection the first time a query needs them. Only counts
    come back to Python, which sums them per (pathway, type, hour, fallback).
    """
    con = con or ibis.duckdb.connect()
    policies = [policy, *([compare] if compare else [])]
    questions = tuple(dict.fromkeys(q for p in policies for q in p.question_ids))
    if isinstance(calls, ir.Table):
        base = calls
    else:
        base = stored_table(calls[[c for c in (*CALL_COLUMNS, *questions) if c in calls.columns]], con,
                            "heart_replay_calls_")
    tables = [policy_decision_table(p) for p in policies]
    codes = tuple(dict.fromkeys(code for p in policies for code in p.codes()))
    found = tuple(t for t in tables if t is not None)
    if len(found) < len(tables):  # a policy too large for a decision table: the compiled query
        keys = [*GROUP_KEYS, *(["other_pathway"] if compare else [])]
        return [ScenarioResult(scenario, _classified_counts(con, base, policies, scenario, keys), codes)
                for scenario in scenarios]
    source = _sql(con, base)
    distinct: pd.DataFrame | None = None
    results = []
    for scenario in scenarios:
        if scenario.own_answers:
            plan = _own_answers_plan(found, base.schema())
            counts = _own_counts(_run_plan(con, found, f"WITH heart_calls_ AS ({source}) {plan}"), found)
        else:
            if distinct is None:
                plan = _distinct_plan(base.schema(), tuple(policies))
                distinct = con.con.execute(f"WITH heart_calls_ AS ({source}) {plan}").fetchdf()
            counts = _assumed_counts(distinct, found, scenario)
        results.append(ScenarioResult(scenario, counts, codes))
    return results


def _classified_counts(
    con: Any, base: ir.Table, policies: Sequence[Policy], scenario: Scenario, keys: Sequence[str]
) -> pd.DataFrame:
    """Calls per ``keys`` through the compiled query (``classify``), for a policy without a decision table."""
    if scenario.own_answers:
        table, total = base, ibis._.count()
    else:
        table = _distinct(base, policies)
        table = table.mutate(**Assumptions.of(*policies).columns(table, scenario))
        total = table.heart_weight_.sum()
    decided = classify(table, policies[0], compare=policies[1] if len(policies) > 1 else None)
    counts = con.execute(decided.group_by(list(keys)).agg(calls=total))
    counts["calls"] = counts["calls"].astype("int64")
    return counts


def _distinct(calls: ir.Table, policies: Sequence[Policy]) -> ir.Table:
    """The calls counted (``heart_weight_``) per distinct type, priority, hour and stretch between opening times."""
    stretch = _stretch_start(calls.local_minute.cast("int16"), policies)
    return calls.mutate(local_minute=stretch).group_by(list(CALL_COLUMNS)).agg(heart_weight_=ibis._.count())


@lru_cache(maxsize=64)
def _distinct_plan(schema: Any, policies: tuple[Policy, ...]) -> str:
    """The SQL of ``_distinct`` over a table ``heart_calls_`` of ``schema``, compiled once per columns and policies."""
    return str(ibis.to_sql(_distinct(ibis.table(schema, name="heart_calls_"), policies), dialect="duckdb"))


@lru_cache(maxsize=64)
def _own_answers_plan(tables: tuple[DecisionTable, ...], schema: Any) -> str:
    """The SQL counting calls with their own answers per (type, hour, vector of each table) over a table
    ``heart_calls_`` of ``schema``, with the tables ``DecisionTable.store_vectors`` creates: one scan numbers each
    call's facts but its type (``DecisionTable.key`` of type class 0), a join gives the row of ``vectors`` holding
    the decision for every type class, and the type's class is looked up per count afterwards (``_own_counts``).
    Compiling it costs more than running it on a million calls, so it is compiled once per tables and columns."""
    calls = ibis.table(schema, name="heart_calls_")
    needed = (*CALL_COLUMNS, *(q for table in tables for q in table.policy.question_ids))
    keyed = calls.select(*(c for c in dict.fromkeys(needed) if c in calls.columns))
    vectors = [f"heart_vector_{i}_" for i in range(len(tables))]
    for i, table in enumerate(tables):
        key = table.key(keyed, type_class=ibis.literal(0, type="int32"), minute_column="local_minute")
        lookup = DecisionTable.unbound_vectors(table.name).view()  # a second policy may be the same one
        joined = keyed.join(lookup, key == lookup.heart_key_)
        keyed = joined.select(*keyed.columns, **{vectors[i]: lookup.heart_vector_})
    counted = keyed.group_by(["incident_type", "local_hour", *vectors]).agg(calls=ibis._.count())
    return str(ibis.to_sql(counted, dialect="duckdb"))


def _own_counts(grouped: pd.DataFrame, tables: Sequence[DecisionTable]) -> pd.DataFrame:
    """The counts of ``_own_answers_plan`` per ``GROUP_KEYS`` (+ other_pathway): each count's decision is its
    vector's entry for the class of its incident type."""
    types = grouped["incident_type"].to_numpy(dtype=object)
    decided = [table.vectors[grouped[f"heart_vector_{i}_"].to_numpy(), table.type_classes_of(types)]
               for i, table in enumerate(tables)]
    return _summed(grouped, decided, tables, grouped["calls"].to_numpy())


def _assumed_counts(distinct: pd.DataFrame, tables: Sequence[DecisionTable], scenario: Scenario) -> pd.DataFrame:
    """Counts per ``GROUP_KEYS`` (+ other_pathway) of the distinct combinations (``_distinct``, fetched), each
    decided once in Python under the scenario's assumed answers (a function of the incident type)."""
    assumptions = Assumptions.of(*(table.policy for table in tables))
    types = distinct["incident_type"].to_numpy(dtype=object)
    kind_of_row, kinds = pd.factorize(types)  # a null type is -1: the last entry of each list below
    said = [{q: assumptions.answer(q, kind, scenario) for q in assumptions.questions} for kind in kinds]
    priorities = distinct["priority"].to_numpy(dtype=object)
    minutes = distinct["local_minute"].astype("float64").to_numpy()
    decided = []
    for table in tables:
        codes = np.array([*(table.answer_code(answers) for answers in said), 0], dtype=np.int64)[kind_of_row]
        decided.append(table.decide_rows(types, priorities, minutes, answer_codes=codes))
    return _summed(distinct, decided, tables, distinct["heart_weight_"].to_numpy())


def _summed(rows: pd.DataFrame, decided: Sequence[Any], tables: Sequence[DecisionTable], weights: Any) -> pd.DataFrame:
    """``weights`` summed per (incident type, hour, outcome): the first table's (pathway, fallback, fallback
    program), the second's pathway; ``decided``: each row's index into each table's ``outcomes``. The groups are
    numbered by numpy (a few thousand rows: cheaper than a pandas groupby on text)."""
    outcomes = [(table.group_of if i == 0 else table.pathway_of)[found].astype(np.int64)
                for i, (table, found) in enumerate(zip(tables, decided, strict=True))]
    sizes = [len(table.groups) if i == 0 else len(table.pathways) for i, table in enumerate(tables)]
    type_of_row = pd.factorize(rows["incident_type"].to_numpy(dtype=object))[0]  # a null: -1
    hour_of_row, hours = pd.factorize(rows["local_hour"].to_numpy())
    group = type_of_row.astype(np.int64) + 1
    for codes, size in ((hour_of_row.astype(np.int64) + 1, len(hours) + 1), *zip(outcomes, sizes, strict=True)):
        group = group * size + codes
    found, first, number = np.unique(group, return_index=True, return_inverse=True)
    calls = np.bincount(number.reshape(-1), weights=np.asarray(weights, dtype=np.float64), minlength=len(found))
    group_names = np.empty((len(tables[0].groups), 3), dtype=object)
    group_names[:] = tables[0].groups
    named = group_names[outcomes[0][first]]
    columns: dict[str, Any] = {
        "pathway": named[:, 0], "incident_type": rows["incident_type"].iloc[first].reset_index(drop=True),
        "local_hour": rows["local_hour"].iloc[first].reset_index(drop=True),
        "fallback": named[:, 1], "fallback_program": named[:, 2],
    }
    if len(tables) > 1:
        columns["other_pathway"] = np.array(tables[1].pathways, dtype=object)[outcomes[1][first]]
    columns["calls"] = np.rint(calls).astype(np.int64)
    return pd.DataFrame(columns)


def _run_plan(con: Any, tables: Sequence[DecisionTable], sql: str) -> pd.DataFrame:
    """Run a replay's query; the first time on a connection, store the vectors tables it joins and run it again.

    Asking the database whether it has them would cost a query of its own on every replay."""
    import duckdb

    try:
        return con.con.execute(sql).fetchdf()
    except duckdb.CatalogException:
        for table in tables:
            table.store_vectors(con)
        return con.con.execute(sql).fetchdf()


def _sql(con: Any, expr: ir.Table) -> str:
    """The SQL of ``expr`` for ``con`` (DuckDB), its in-memory tables registered there first."""
    sql = _compiled(expr.op())
    if "_memtable_" in sql:
        con.execute(expr.limit(0))  # Ibis registers in-memory tables when it runs a query on them
    return sql


@lru_cache(maxsize=256)
def _compiled(op: Any) -> str:
    """DuckDB SQL of an Ibis expression, kept: compiling the same expression again costs more than running it on
    a million calls (Ibis expressions compare by structure, so a replay of the same table finds it here)."""
    return str(ibis.to_sql(op.to_expr(), dialect="duckdb"))


def _stretch_start(minute: ir.IntegerValue, policies: Sequence[Policy]) -> ir.IntegerValue:
    """The first minute of the stretch of the day holding ``minute``, between two opening or closing times."""
    edges = sorted({edge for policy in policies for program in policy.programs.values()
                    for window in program.hours for edge in window if 0 < edge < 24 * 60})
    if not edges:
        return minute
    later_first = [(minute >= edge, edge) for edge in reversed(edges)]
    return ibis.cases((minute.isnull(), ibis.null("int16")), *later_first, else_=0).cast("int16")


def classify(table: ir.Table, policy: Policy, *, compare: Policy | None = None) -> ir.Table:
    """The compiled policy over a table with a ``local_minute`` column (and the second policy's, if any)."""
    decided = compile_policy(policy)(table, minute_column="local_minute")
    if compare is not None:
        decided = compile_policy(compare)(decided, minute_column="local_minute", prefix="other_")
    return decided


def engine_decisions(calls: pd.DataFrame, policy: Policy, scenario: Scenario = RECORDED) -> list[tuple[Any, ...]]:
    """The engine's (pathway, rule, fallback, fallback program) for each call, row by row: the reference.

    Calls need a local time (the engine has no notion of a call without one). Under ``OWN_ANSWERS`` the answers
    are the calls' own columns (a missing column or a null: unknown).
    """
    assumptions = Assumptions.of(policy)
    midnight = datetime(2025, 6, 3, tzinfo=policy.timezone)
    asked = [q for q in policy.question_ids if scenario.own_answers and q in calls.columns]
    found = []
    columns = ["incident_type", "priority", "local_minute", *asked]
    for incident_type, priority, minute, *said in calls[columns].itertuples(index=False):
        if scenario.own_answers:
            screening = {q: a for q, a in zip(asked, said, strict=True) if isinstance(a, str)}
        else:
            screening = {q: a for q in policy.question_ids
                         if (a := assumptions.answer(q, incident_type, scenario)) is not None}
        priority = priority if isinstance(priority, str) else None
        kind = incident_type if isinstance(incident_type, str) else None
        facts = CallFacts(incident_type=kind, priority=priority, screening=screening)
        decision = decide(facts, policy, midnight + timedelta(minutes=int(minute)))
        found.append((decision.pathway, decision.rule, decision.fallback_reason, decision.fallback_program))
    return found


# --- the report ---------------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class TypeReach:
    """Calls of the incident types a program serves, and how many came while it was closed (answers aside)."""

    program: str
    calls: int
    outside_hours: int


@dataclass
class ReplayReport:
    """Everything `heart triage replay` prints."""

    batch: str
    agency: str | None
    policy: Policy
    compare: Policy | None
    zone: ZoneInfo
    calls: int
    without_time: int
    reach: list[TypeReach]
    results: list[ScenarioResult] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready summary; hours are local hours 0–23 ("none" for calls without a time)."""
        scenarios = []
        for result in self.results:
            item: dict[str, Any] = {
                "scenario": result.scenario.name, "label": result.scenario.label,
                "pathways": result.pathways(), "outside_program_hours": result.closed(),
                "by_incident_type": result.by("incident_type"),
                "by_hour": {("none" if h is None else str(h)): v for h, v in result.by("local_hour").items()},
            }
            if self.compare is not None:
                item["compare_pathways"] = result.pathways("other_pathway")
                item["transitions"] = result.transitions()
            scenarios.append(item)
        return {
            "batch": self.batch, "agency": self.agency, "policy": self.policy.id, "version": self.policy.version,
            "compare": None if self.compare is None else {"policy": self.compare.id, "version": self.compare.version},
            "timezone": self.zone.key, "calls": self.calls, "calls_without_time": self.without_time,
            "type_eligible": {r.program: {"calls": r.calls, "outside_hours": r.outside_hours} for r in self.reach},
            "scenarios": scenarios,
        }


def type_reach(calls: pd.DataFrame, policy: Policy) -> list[TypeReach]:
    """For each program with hours: calls of a type one of its rules names, and how many fell outside its hours."""
    minute = calls["local_minute"].astype("float").to_numpy()
    found = []
    for code, program in policy.programs.items():
        if program.always_open:
            continue
        rules = [rule for rule in policy.rules if rule.send == code]
        if not rules:
            continue
        if any(rule.types is None for rule in rules):
            eligible = np.ones(len(calls), dtype=bool)
        else:
            eligible = calls["incident_type"].isin(sorted(set().union(*(r.types or () for r in rules)))).to_numpy()
        open_now = np.zeros(len(calls), dtype=bool)
        for start, end in program.hours:
            open_now |= (minute >= start) & (minute < end)  # NaN (no time) compares False: closed
        found.append(TypeReach(code, int(eligible.sum()), int((eligible & ~open_now).sum())))
    return found


def replay_batch(
    *,
    engine: Engine,
    batch: str,
    policy: Policy,
    compare: Policy | None = None,
    agency: str | None = None,
    scenarios: Sequence[Scenario] = (RECORDED,),
    zone: ZoneInfo | None = None,
    priority_p: Iterable[str] = (),
) -> ReplayReport:
    """Load a batch from the operational database and replay it; see the module docstring for assumptions."""
    loaded = load_batch(engine=engine, batch=batch, agency=agency)
    zone = zone or _profile_zone(loaded.profile) or policy.timezone
    calls = prepare_calls(loaded.records, policy, zone=zone, priority_p=priority_p)
    report = ReplayReport(batch, agency, policy, compare, zone, len(calls), int(calls["local_minute"].isna().sum()),
                          type_reach(calls, policy))
    if len(calls):
        report.results = replay_calls(calls, policy, scenarios=scenarios, compare=compare)
    return report


def _profile_zone(profile: str) -> ZoneInfo | None:
    """The time zone the batch's CAD writes, from its import profile (None if the profile is gone)."""
    try:
        from heart.calls.cad.profiles import load_profile_by_name

        return load_profile_by_name(profile).timezone
    except Exception:  # a removed or broken profile: fall back to the policy's zone
        return None
