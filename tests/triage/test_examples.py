"""The worked examples of the Durham policy (shared/data/reference/triage_examples.json), read at run time.

Each example must be decided with an accepted pathway and never a forbidden one, by the engine and by the
compiled replay alike. The file is found at ``<repo>/../shared/data`` or ``$HEART_SHARED_DATA``.
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path
from typing import Any

import ibis
import pandas as pd
import pytest

from heart.crosswalk.mapper import resolve_nature_code
from heart.triage.compiler import compile_policy
from heart.triage.engine import CallFacts, decide
from heart.triage.policy import load_policy_by_name

pytestmark = pytest.mark.filterwarnings("ignore:The 'future.infer_string' option is deprecated")

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED_DATA = Path(os.environ.get("HEART_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))
EXAMPLES_FILE = SHARED_DATA / "reference" / "triage_examples.json"


def load_examples() -> list[dict[str, Any]]:
    if not EXAMPLES_FILE.exists():
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail(f"{EXAMPLES_FILE} is missing")
        pytest.skip(f"{EXAMPLES_FILE} is not present (set HEART_SHARED_DATA)")
    examples: list[dict[str, Any]] = json.loads(EXAMPLES_FILE.read_text(encoding="utf-8"))["examples"]
    return examples


def local_time(clock: str) -> datetime:
    policy = load_policy_by_name("durham")
    return datetime.fromisoformat(f"2025-06-03T{clock}").replace(tzinfo=policy.timezone)


def check(example: dict[str, Any], pathway: str) -> None:
    where = f"{example['doc']} at {example['at']}: got {pathway}"
    if "accept" in example:
        assert pathway in example["accept"], where
    assert pathway not in example.get("forbid", []), where


def test_there_are_examples() -> None:
    assert len(load_examples()) >= 10


def test_engine_decides_every_example_as_published() -> None:
    policy = load_policy_by_name("durham")
    for example in load_examples():
        decision = decide(CallFacts.from_doc(example["doc"]), policy, local_time(example["at"]))
        check(example, decision.pathway)
        if "unanswered" in example:
            assert list(decision.unanswered) == example["unanswered"], example
        document = decision.to_json()
        assert {"pathway", "policy", "version", "reasons", "unanswered"} <= set(document)
        assert document["reasons"] and all(reason["text"] for reason in document["reasons"])


def test_compiled_replay_decides_every_example_as_published() -> None:
    policy = load_policy_by_name("durham")
    examples = load_examples()
    rows = []
    for example in examples:
        doc = example["doc"]
        at = local_time(example["at"])
        row = {
            "incident_type": doc.get("incident_type") or resolve_nature_code(doc.get("nature_code") or ""),
            "priority": doc.get("priority"),
            "local_minute": at.hour * 60 + at.minute,
        }
        row.update({q: doc.get("screening", {}).get(q) for q in policy.question_ids})
        rows.append(row)
    con = ibis.duckdb.connect()
    result = con.execute(compile_policy(policy)(ibis.memtable(pd.DataFrame(rows))))
    for example, pathway in zip(examples, result["pathway"], strict=True):
        check(example, pathway)
        engine = decide(CallFacts.from_doc(example["doc"]), policy, local_time(example["at"]))
        assert pathway == engine.pathway
