"""The compiled (vectorized) policy must decide exactly as the engine does, call for call.

Replays assume every program with hours has a unit free (a history does not say which units were),
unless a fixed ``availability`` is given, which both sides then use.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import ibis
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from heart.crosswalk.taxonomy import INCIDENT_TYPES
from heart.triage.compiler import OUTPUT_COLUMNS, compile_policy, decision_table
from heart.triage.engine import CallFacts, decide
from heart.triage.policy import Policy, load_policy

pytestmark = pytest.mark.filterwarnings("ignore:The 'future.infer_string' option is deprecated")

POLICY = load_policy(Path(__file__).resolve().parents[2] / "cities" / "durham" / "policies" / "durham.yaml")
TYPES = [*sorted(INCIDENT_TYPES), "not_a_type", None]
FOCUS = sorted(POLICY.type_sets["crt_eligible"] | POLICY.type_sets["crisis"] | {"ivc_order"})
ANSWERS = ["yes", "no", "unknown", None, "YES", " no", "No\t", "maybe", ""]
PRIORITIES = ["P", "p", "1", "2", "3", "4", None, " 3 "]
SUMMER_DAY = datetime(2025, 6, 3, tzinfo=POLICY.timezone)


@pytest.fixture(scope="module")
def con() -> Iterator[Any]:
    connection = ibis.duckdb.connect()
    yield connection
    connection.disconnect()


def random_calls(seed: int, count: int) -> list[dict[str, Any]]:
    """Calls spread over two years (both DST changes included), weighted towards the eligible types."""
    rng = random.Random(seed)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    rows = []
    for _ in range(count):
        row: dict[str, Any] = {
            "incident_type": rng.choice(FOCUS) if rng.random() < 0.6 else rng.choice(TYPES),
            "priority": rng.choice(PRIORITIES),
            "received_at": start + timedelta(minutes=rng.randrange(2 * 365 * 24 * 60)),
        }
        for question in POLICY.question_ids:
            # Mostly clean answers, so that CRT, CCD and Co-Response are all reached often.
            row[question] = rng.choice(["no", "no", "no", "yes"]) if rng.random() < 0.7 else rng.choice(ANSWERS)
        rows.append(row)
    return rows


def engine_row(row: Mapping[str, Any], at: datetime, availability: Mapping[str, bool] | None = None) -> tuple:
    screening = {q: row[q] for q in POLICY.question_ids if row.get(q) is not None}
    priority = None if row.get("priority") is None else str(row["priority"])
    facts = CallFacts(incident_type=row.get("incident_type"), priority=priority, screening=screening)
    decision = decide(facts, POLICY, at, availability)
    return decision.pathway, decision.rule, decision.fallback_reason, decision.fallback_program


def replay(con: Any, frame: pd.DataFrame, policy: Policy = POLICY, **options: Any) -> list[tuple]:
    result = con.execute(compile_policy(policy)(ibis.memtable(frame), **options))
    result = result.astype(object).where(result.notna(), None)
    return [tuple(row) for row in result[list(OUTPUT_COLUMNS)].itertuples(index=False)]


def assert_agree(rows: list[dict[str, Any]], engine: list[tuple], compiled: list[tuple]) -> None:
    assert len(engine) == len(compiled)
    wrong = [(row, e, c) for row, e, c in zip(rows, engine, compiled, strict=True) if e != c]
    assert not wrong, f"{len(wrong)} of {len(rows)} calls disagree; first: {wrong[0]}"


def test_replay_of_thousands_of_calls_agrees_with_the_engine(con: Any) -> None:
    rows = random_calls(seed=20250603, count=6000)
    frame = pd.DataFrame(rows)
    frame["received_at"] = pd.to_datetime(frame["received_at"], utc=True)
    compiled = replay(con, frame)
    assert_agree(rows, [engine_row(row, row["received_at"]) for row in rows], compiled)
    reached = {pathway for pathway, *_ in compiled}
    assert reached == {"CRT", "CCD", "COR", "PD", "EMS", "FIRE"}, "the sample should reach every pathway"
    assert any(fallback == "program_closed" for _, _, fallback, _ in compiled)


@pytest.mark.parametrize("availability", [{"CRT": False}, {"COR": False, "CCD": False}, {"CRT": True}])
def test_replay_agrees_under_a_fixed_availability(con: Any, availability: dict[str, bool]) -> None:
    rows = random_calls(seed=7, count=2000)
    frame = pd.DataFrame(rows)
    frame["received_at"] = pd.to_datetime(frame["received_at"], utc=True)
    compiled = replay(con, frame, availability=availability)
    assert_agree(rows, [engine_row(row, row["received_at"], availability) for row in rows], compiled)
    if availability.get("CRT") is False:
        assert all(pathway != "CRT" for pathway, *_ in compiled)
        assert any(fallback == "no_unit_available" for _, _, fallback, _ in compiled)


def test_local_minute_and_local_hour_columns(con: Any) -> None:
    rows = random_calls(seed=11, count=1500)
    rng = random.Random(3)
    for row in rows:
        row.pop("received_at")
        row["local_minute"] = rng.randrange(24 * 60)
        row["local_hour"] = row["local_minute"] // 60
    frame = pd.DataFrame(rows)
    by_minute = replay(con, frame.drop(columns=["local_hour"]))
    by_hour = replay(con, frame, hour_column="local_hour")
    at_minute = [SUMMER_DAY + timedelta(minutes=row["local_minute"]) for row in rows]
    at_hour = [SUMMER_DAY + timedelta(hours=row["local_hour"]) for row in rows]
    assert_agree(rows, [engine_row(row, at) for row, at in zip(rows, at_minute, strict=True)], by_minute)
    assert_agree(rows, [engine_row(row, at) for row, at in zip(rows, at_hour, strict=True)], by_hour)


call_rows = st.fixed_dictionaries(
    {
        "incident_type": st.one_of(st.sampled_from(FOCUS), st.sampled_from(TYPES)),
        "priority": st.sampled_from(PRIORITIES),
        "local_minute": st.integers(0, 24 * 60 - 1),
        **{question: st.sampled_from(ANSWERS) for question in POLICY.question_ids},
    }
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(call_rows, min_size=1, max_size=120))
def test_generated_batches_agree(con: Any, rows: list[dict[str, Any]]) -> None:
    compiled = replay(con, pd.DataFrame(rows))
    engine = [engine_row(row, SUMMER_DAY + timedelta(minutes=row["local_minute"])) for row in rows]
    assert_agree(rows, engine, compiled)


def test_missing_columns_mean_unknown_answers_and_no_priority(con: Any) -> None:
    frame = pd.DataFrame({"incident_type": ["welfare_check", "welfare_check"], "local_minute": [720, 720]})
    frame["weapon"] = ["no", "no"]
    compiled = replay(con, frame)
    assert compiled[0] == engine_row(
        {"incident_type": "welfare_check", "weapon": "no"}, SUMMER_DAY + timedelta(hours=12)
    )
    assert compiled[0][0] == "PD"  # medical_intervention and imminent_risk_to_others are unknown


def test_integer_priorities_and_naive_utc_timestamps(con: Any) -> None:
    frame = pd.DataFrame(
        {
            "incident_type": ["trespass_unwanted", "trespass_unwanted"],
            "priority": [3, 3],
            "received_at": pd.to_datetime(["2025-06-03 17:00", "2025-06-04 03:00"]),  # 13:00 and 23:00 in Durham
            "weapon": ["no", "no"],
            "medical_intervention": ["no", "no"],
            "imminent_risk_to_others": ["no", "no"],
        }
    )
    assert [pathway for pathway, *_ in replay(con, frame)] == ["CRT", "PD"]


def test_a_call_without_a_time_finds_every_team_closed(con: Any) -> None:
    frame = pd.DataFrame({"incident_type": ["suicide_threat"], "local_minute": [None]}, dtype=object)
    frame["local_minute"] = frame["local_minute"].astype("Int32")
    assert replay(con, frame) == [("PD", "default_police", "program_closed", "COR")]


def test_outputs_can_be_prefixed_and_replace_old_columns(con: Any) -> None:
    frame = pd.DataFrame({"incident_type": ["fire"], "local_minute": [60], "pathway": ["CRT"]})
    table = ibis.memtable(frame)
    replaced = con.execute(compile_policy(POLICY)(table))
    assert list(replaced.columns) == ["incident_type", "local_minute", *OUTPUT_COLUMNS]
    assert replaced.loc[0, "pathway"] == "FIRE"
    prefixed = con.execute(compile_policy(POLICY)(table, prefix="durham_"))
    assert (prefixed.loc[0, "pathway"], prefixed.loc[0, "durham_pathway"]) == ("CRT", "FIRE")


def test_a_table_without_a_time_is_refused() -> None:
    with pytest.raises(ValueError, match="need a time"):
        compile_policy(POLICY)(ibis.memtable(pd.DataFrame({"incident_type": ["fire"]})))


# --- the decision table: the same decisions, one lookup per call ----------------------------------------------


def keyed(con: Any, frame: pd.DataFrame, policy: Policy = POLICY, availability: Mapping[str, bool] | None = None,
          *, minute_column: str | None = None, timestamp_column: str | None = None) -> list[tuple]:
    """Each row's decision through the policy's decision table, in the frame's order."""
    table = decision_table(policy, availability)
    assert table is not None
    numbered = frame.assign(row_id=range(len(frame)))
    decided = table.decide(ibis.memtable(numbered), minute_column=minute_column, timestamp_column=timestamp_column)
    found = con.execute(decided.order_by("row_id"))
    return [table.outcomes[i] for i in found["heart_decision_"]]


def test_every_entry_of_the_decision_table_is_the_engines_decision() -> None:
    table = decision_table(POLICY)
    assert table is not None
    questions = POLICY.question_ids
    types, priorities, answers = len(table.type_classes), len(table.priority_classes), 3 ** len(questions)
    assert table.size == types * priorities * answers * table.time_class_count
    # a minute of each class of the day (the classes of the stretches below the first edge and from each edge)
    starts = [table.edges[0] - 1, *table.edges]
    minute_of: dict[int, int] = {}
    for start, kind in zip(starts, table.time_classes, strict=False):
        if 0 <= start < 24 * 60:
            minute_of.setdefault(kind, start)
    said = {0: None, 1: "yes", 2: "no"}
    checked = 0
    for key in range(table.size):
        rest, kind = divmod(key, table.time_class_count)
        rest, code = divmod(rest, answers)
        type_class, priority_class = divmod(rest, priorities)
        if kind not in minute_of:  # a class reached only by a call without a time: the engine needs one
            continue
        values = table.priority_classes[priority_class]
        priority = values[0] if values else "8"
        screening = {q: a for i, q in enumerate(questions) if (a := said[code // 3**i % 3]) is not None}
        facts = CallFacts(incident_type=table.type_classes[type_class][0], priority=priority or None,
                          screening=screening)
        decision = decide(facts, POLICY, SUMMER_DAY + timedelta(minutes=minute_of[kind]))
        expected = (decision.pathway, decision.rule, decision.fallback_reason, decision.fallback_program)
        assert table.outcomes[table.decisions[key]] == expected, (key, facts, minute_of[kind])
        checked += 1
    assert checked >= table.size * 5 // 6


def test_the_decision_table_agrees_with_the_engine_call_by_call(con: Any) -> None:
    rows = random_calls(seed=20261206, count=6000)
    frame = pd.DataFrame(rows)
    frame["received_at"] = pd.to_datetime(frame["received_at"], utc=True)
    found = keyed(con, frame, timestamp_column="received_at")
    assert_agree(rows, [engine_row(row, row["received_at"]) for row in rows], found)
    assert found == replay(con, frame)
    assert {pathway for pathway, *_ in found} == {"CRT", "CCD", "COR", "PD", "EMS", "FIRE"}


@pytest.mark.parametrize("availability", [{"CRT": False}, {"COR": False, "CCD": False}])
def test_the_decision_table_agrees_under_a_fixed_availability(con: Any, availability: dict[str, bool]) -> None:
    rows = random_calls(seed=8, count=2000)
    frame = pd.DataFrame(rows)
    frame["received_at"] = pd.to_datetime(frame["received_at"], utc=True)
    found = keyed(con, frame, availability=availability, timestamp_column="received_at")
    assert_agree(rows, [engine_row(row, row["received_at"], availability) for row in rows], found)
    assert any(fallback == "no_unit_available" for _, _, fallback, _ in found)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(call_rows, min_size=1, max_size=120))
def test_generated_batches_agree_through_the_decision_table(con: Any, rows: list[dict[str, Any]]) -> None:
    found = keyed(con, pd.DataFrame(rows), minute_column="local_minute")
    engine = [engine_row(row, SUMMER_DAY + timedelta(minutes=row["local_minute"])) for row in rows]
    assert_agree(rows, engine, found)


def test_the_decision_table_reads_missing_columns_and_times_as_the_compiled_policy(con: Any) -> None:
    frame = pd.DataFrame({"incident_type": ["welfare_check", "suicide_threat", None, "not_a_type"],
                          "local_minute": [720, None, 600, 600]})
    frame["local_minute"] = frame["local_minute"].astype("Int32")
    frame["weapon"] = ["no", "no", "yes", None]
    assert keyed(con, frame, minute_column="local_minute") == replay(con, frame)


def test_every_key_without_its_type_finds_its_decision_for_every_type_class_in_its_vector() -> None:
    table = decision_table(POLICY)
    assert table is not None
    types = len(table.type_classes)
    per_type = table.size // types
    assert len(table.vector_of) == per_type and len(table.vectors) < per_type // 10  # a few dozen, not thousands
    for key in range(table.size):
        type_class, rest = divmod(key, per_type)
        assert table.vectors[table.vector_of[rest], type_class] == table.decisions[key], key


@pytest.mark.parametrize("availability", [None, {"CRT": False}])
def test_rows_decided_in_python_agree_with_the_database_and_the_engine(
    con: Any, availability: dict[str, bool] | None
) -> None:
    rows = random_calls(seed=1612, count=4000)
    for row in rows:
        local = row["received_at"].astimezone(POLICY.timezone)
        row["local_minute"] = local.hour * 60 + local.minute
    rows[:40] = [{**row, "local_minute": None} for row in rows[:40]]  # calls without a time: every team closed
    frame = pd.DataFrame(rows).drop(columns="received_at")
    frame["local_minute"] = frame["local_minute"].astype("Int32")
    table = decision_table(POLICY, availability)
    assert table is not None
    in_python = table.decide_rows(frame["incident_type"].to_numpy(dtype=object),
                                  frame["priority"].to_numpy(dtype=object),
                                  frame["local_minute"].astype("float64").to_numpy(),
                                  {q: frame[q].to_numpy(dtype=object) for q in POLICY.question_ids})
    found = [table.outcomes[i] for i in in_python]
    assert found == keyed(con, frame, availability=availability, minute_column="local_minute")
    timed = rows[40:]
    engine = [engine_row(row, SUMMER_DAY + timedelta(minutes=row["local_minute"]), availability) for row in timed]
    assert_agree(timed, engine, found[40:])
    assert {pathway for pathway, *_ in found} >= {"CRT", "COR", "PD", "EMS", "FIRE"} - set(availability or ())
    # The answers given as the codes the key adds up: the same decisions.
    codes = [table.answer_code({q: row[q] for q in POLICY.question_ids}) for row in rows]
    by_codes = table.decide_rows(frame["incident_type"].to_numpy(dtype=object),
                                 frame["priority"].to_numpy(dtype=object),
                                 frame["local_minute"].astype("float64").to_numpy(), answer_codes=codes)
    assert list(by_codes) == list(in_python)
