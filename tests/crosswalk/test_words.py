"""The call-type words file: one vocabulary, checked on load with file, line and reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from heart.crosswalk.rules import danger_kinds, danger_words
from heart.crosswalk.words import WORDS_FILE, CallTypeWordsError, call_type_words
from tests.conftest import REPO_ROOT

SHIPPED = REPO_ROOT / "cities" / "durham" / "crosswalks" / WORDS_FILE


def test_the_shipped_file_holds_the_phrases_the_descriptions_and_the_danger_words() -> None:
    words = call_type_words(SHIPPED.parent)
    assert words.resolve_phrase("IVC PAPER SERVICE") == "ivc_order"
    assert set(words.danger_kinds) == {"weapon", "violence", "overdose", "threat_to_life"}
    assert "TALKING TO HIMSELF" in words.described_as["mental_health_crisis"]
    policy_file = REPO_ROOT / "cities" / "durham" / "policies" / "durham.yaml"
    assert "nature_codes" not in policy_file.read_text()  # one source


@pytest.mark.parametrize(("raw", "kinds", "every_word"), [
    ("SUICIDAL SUBJECT W/ GUN", {"weapon": ("GUN",)}, ["GUN"]),
    ("SHOOTING IN PROGRESS", {"weapon": ("SHOOTING",)}, ["SHOOTING"]),
    ("DISTURBANCE (NO WEAPONS)", {}, ["WEAPON"]),  # not a report of a weapon, still no unarmed-team type
    ("SUICIDE THREAT", {}, []),  # a threat to oneself
    ("NON-VIOLENT DOMESTIC", {"violence": ("DOMESTIC",)}, ["DOMESTIC"]),
    ("OD - NOT BREATHING", {"overdose": ("OVERDOSE",), "threat_to_life": ("NOT BREATHING",)},
     ["OVERDOSE", "NOT BREATHING"]),
])
def test_danger_words_by_kind(raw: str, kinds: dict[str, tuple[str, ...]], every_word: list[str]) -> None:
    assert danger_kinds(raw) == kinds
    assert danger_words(raw) == every_word


BROKEN = [
    ("phrases:\n  mental_health_crisis: [", "phrases:\n  mental_health: [", "  mental_health: [",
     "unknown incident type 'mental_health'"),
    ("\nnot_danger:", "\nnot_dangerous:", "not_dangerous:", "unknown section 'not_dangerous'"),
    ("  overdose: [OVERDOSE*, POISONING, POISONED]", "  overdose: []", "  overdose: []", "expected a list of words"),
]


@pytest.mark.parametrize(("old", "new", "line_text", "reason"), BROKEN)
def test_a_broken_words_file_is_refused_with_its_line(tmp_path: Path, old: str, new: str, line_text: str,
                                                      reason: str) -> None:
    text = SHIPPED.read_text(encoding="utf-8")
    assert old in text, f"the mutation {old!r} no longer matches the shipped file"
    broken = text.replace(old, new, 1)
    (tmp_path / WORDS_FILE).write_text(broken, encoding="utf-8")
    with pytest.raises(CallTypeWordsError) as raised:
        call_type_words(tmp_path)
    assert reason in raised.value.reason
    assert raised.value.line == broken[: broken.index(line_text)].count("\n") + 1
    assert raised.value.path.endswith(WORDS_FILE)
