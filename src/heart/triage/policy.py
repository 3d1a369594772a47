"""Triage policies: versioned YAML documents a program manager can read, checked on load.

A policy holds rules only (the format is described at the top of ``cities/durham/policies/durham.yaml``); the
programs it sends calls to are the city's (``heart.city.programs``: kind, unarmed, hours, escalates_to), named by
code. Loading refuses a file with an unknown incident type or screening question, a pathway that is not a field,
phone or external program of the city, a rule that would send an unarmed team without every exclusion answered
"no", or a rule that an earlier rule makes unreachable; the error names the file, the line and the field.

The policies folder is the city's (``cities/<city>/policies``, ``HEART_POLICIES_DIR`` overrides it); the programs
file is the city's too (``HEART_PROGRAMS_FILE`` overrides it).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal, NoReturn
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from heart.city.folder import city_part
from heart.city.programs import CityPrograms, Program, load_programs_file
from heart.crosswalk.taxonomy import INCIDENT_TYPES
from heart.yamlfile import LocatedYaml, YamlFileError, read_yaml

PATHWAY_KINDS: tuple[str, ...] = ("phone", "field", "external")
"""The kinds of program a call can be sent to (a case program takes cases, not calls), in the order pathways are
listed: the phone programs, the field teams, the outside services (each in the programs file's order)."""

PRIORITIES: tuple[str, ...] = ("P", "1", "2", "3", "4")
ANSWERS: tuple[str, ...] = ("yes", "no", "unknown")
MINUTES_PER_DAY = 24 * 60
DEFAULT_UNANSWERED_ALERT = "{question} is no longer answered no — stage and wait until dispatch confirms it is safe."


class PolicyError(YamlFileError):
    """A policy file that cannot be used; ``str(error)`` is 'file, line N: reason'."""


class UnknownPolicy(PolicyError):
    """A name that is none of the policies in the policies directory (never read as a path)."""

    def __init__(self, name: str, known: list[str], folder: Path) -> None:
        super().__init__(folder, None, f"there is no policy named {name!r} (known: {', '.join(known) or 'none'})")
        self.name, self.known = name, known


@dataclass(frozen=True, slots=True)
class Question:
    """A screening question: its id (the answer's key) and the words the call-taker says."""

    id: str
    prompt: str


@dataclass(frozen=True, slots=True)
class Exclusion:
    """A fact that keeps a call from the unarmed teams: a 'yes' to a question, or a priority.

    It also holds, whatever the screening says, when the call type's words name one of ``implied_by_words``
    (kinds of danger words of the crosswalk) or the incident type is one of ``implied_by_types``. ``alert`` is
    what every board and the crew's phone show when it comes to hold while an unarmed team is on the call.
    """

    id: str
    text: str
    question: str | None = None
    priorities: frozenset[str] = frozenset()
    implied_by_words: frozenset[str] = frozenset()
    implied_by_types: frozenset[str] = frozenset()
    alert: str = ""


@dataclass(frozen=True, slots=True)
class Rule:
    """One line of the decision: if the call fits every condition, send it to ``send``.

    ``types``/``priorities`` of None mean any. ``any_yes``: at least one of these answered yes.
    ``all_no``: every one of these answered no (``exclusions_clear`` adds all exclusion questions,
    and requires the priority not to be an excluded one).
    """

    id: str
    send: str
    text: str
    line: int | None = None
    types: frozenset[str] | None = None
    priorities: frozenset[str] | None = None
    any_yes: tuple[str, ...] = ()
    all_no: tuple[str, ...] = ()
    exclusions_clear: bool = False

    @property
    def unconditional_on_answers(self) -> bool:
        """True when only the incident type decides whether the rule fits."""
        return not (self.priorities or self.any_yes or self.all_no or self.exclusions_clear)


@dataclass(frozen=True, slots=True, eq=False)  # compared and hashed by identity; (id, version) names it
class Policy:
    """A loaded, checked policy. ``rules`` end with the default rule, which always fits.

    Call types are read through the crosswalk (``heart.crosswalk.mapper``), the same for every policy.
    """

    id: str
    version: int
    name: str
    timezone: ZoneInfo
    max_wait_minutes: int
    programs: Mapping[str, Program]
    questions: tuple[Question, ...]
    exclusions: tuple[Exclusion, ...]
    type_sets: Mapping[str, frozenset[str]]
    rules: tuple[Rule, ...]
    source: str
    text: str

    question_ids: tuple[str, ...] = ()
    """Screening question ids in the order the call-taker asks them."""
    exclusion_questions: tuple[str, ...] = ()
    """Questions that must be answered "no" before an unarmed team can go."""
    excluded_priorities: frozenset[str] = frozenset()
    """Priorities that keep a call from the unarmed teams."""
    safety_alert_unanswered: str = DEFAULT_UNANSWERED_ALERT
    """The alert when an exclusion question an unarmed team was sent on is no longer "no" ({question})."""

    def unarmed(self, program_code: str) -> bool:
        """Whether a program is an unarmed team; a program this policy does not know counts as one."""
        program = self.programs.get(program_code)
        return program is None or program.unarmed

    def codes(self, *kinds: str) -> tuple[str, ...]:
        """The codes of the programs of these kinds a call can go to (every one when none is named)."""
        return tuple(code for code, p in self.programs.items() if not kinds or p.kind in kinds)


def policies_dir() -> Path:
    """Where policy files live: $HEART_POLICIES_DIR, else the city's ``policies/`` folder."""
    return city_part("policies")


def _policy_name(file_name: str) -> str | None:
    """The policy a file of the policies directory holds (``durham.yaml``), or None (``durham.v1.yaml`` is an older
    version, reached through its policy)."""
    stem = file_name.removesuffix(".yaml")
    return stem if stem != file_name and "." not in stem else None


def available_policies() -> list[str]:
    """Names of the policies in the policies directory (file names without ``.yaml``)."""
    return sorted(name for name, _ in policy_stamps())


def policy_stamps() -> tuple[tuple[str, int], ...]:
    """(name, modification time) of each policy in the policies directory, by name: what a cache of them keys on."""
    try:
        with os.scandir(policies_dir()) as entries:
            found = [(name, entry.stat().st_mtime_ns) for entry in entries
                     if (name := _policy_name(entry.name)) is not None and entry.is_file()]
    except OSError:
        return ()
    return tuple(sorted(found))


def default_policy_name() -> str:
    """The policy a call is decided by when none is named: the city's own (the policy named like its folder, e.g.
    ``durham``), else the only one, else the first by name."""
    folder = policies_dir()
    city = folder.parent.name
    if os.path.isfile(folder / f"{city}.yaml"):  # one look, not a listing: every decision asks
        return city
    known = available_policies()
    if not known:
        raise UnknownPolicy("(the default)", known, policies_dir())
    return known[0]


def programs_stamp() -> tuple[str, int]:
    """(path, modification time) of the city's programs file: with ``policy_stamps``, what a policy cache keys on."""
    path = city_part("programs")
    try:
        return str(path), path.stat().st_mtime_ns
    except OSError:
        return str(path), -1


def load_policy_by_name(name: str, *, version: int | None = None) -> Policy:
    """Load the policy ``name`` of the policies directory; an older version is kept as ``<name>.v<N>.yaml``.

    ``name`` must be one of ``available_policies()``: it chooses from the loaded set and is never a path.
    """
    folder = policies_dir()
    known = available_policies()
    if name not in known:
        raise UnknownPolicy(name, known, folder)
    policy = load_policy(folder / f"{name}.yaml")
    if version is None or policy.version == version:
        return policy
    older = folder / f"{name}.v{version}.yaml"
    if not older.is_file():
        raise PolicyError(older, None, f"policy {name!r} has no version {version}")
    return load_policy(older)


def load_policy(path: Path | str, *, programs: Path | str | None = None) -> Policy:
    """Read and check one policy file with the city's programs (``programs``: another programs file), cached while
    both files are unchanged."""
    path = Path(path)
    programs_file = Path(programs) if programs is not None else city_part("programs")
    try:
        stamp = path.stat().st_mtime_ns
    except OSError as error:
        raise PolicyError(path, None, f"cannot be read ({error.strerror})") from None
    try:
        programs_stamp = programs_file.stat().st_mtime_ns
    except OSError as error:
        raise PolicyError(programs_file, None, f"cannot be read ({error.strerror})") from None
    return _load_cached(path.resolve(), stamp, programs_file, programs_stamp)


@lru_cache(maxsize=32)
def _load_cached(path: Path, stamp: int, programs_file: Path, programs_stamp: int) -> Policy:
    try:
        document = read_yaml(path)
        city = load_programs_file(programs_file)
    except YamlFileError as error:
        raise PolicyError(error.path, error.line, error.reason) from None
    return _build(document, city)


def parse_hours(text: str) -> tuple[tuple[int, int], ...]:
    """'06:00-21:00' -> ((360, 1260),); a window past midnight ('22:00-02:00') becomes two."""
    start_text, sep, end_text = text.partition("-")
    if not sep:
        raise ValueError(f"hours {text!r} should look like '06:00-21:00'")
    start, end = _minute(start_text), _minute(end_text)
    if start == end:
        raise ValueError(f"hours {text!r} start and end at the same time")
    if start < end:
        return ((start, end),)
    return ((start, MINUTES_PER_DAY), (0, end)) if end else ((start, MINUTES_PER_DAY),)


def _minute(text: str) -> int:
    hours, sep, minutes = text.strip().partition(":")
    if not (sep and hours.isdigit() and minutes.isdigit() and len(minutes) == 2):
        raise ValueError(f"{text.strip()!r} is not a time like '06:00'")
    value = int(hours) * 60 + int(minutes)
    if int(minutes) > 59 or value > MINUTES_PER_DAY:
        raise ValueError(f"{text.strip()!r} is not a time of day between 00:00 and 24:00")
    return value


# --- reading and checking a policy file ---------------------------------------------------------
Where = tuple[int | str, ...]
Pathway = str  # a program code of the city, checked against its programs on load
Priority = Literal["P", "1", "2", "3", "4"]


class _Doc(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _QuestionDoc(_Doc):
    id: str
    prompt: str


class _ExclusionDoc(_Doc):
    id: str
    text: str
    question: str | None = None
    priority: list[Priority] | None = None
    implied_by_words: list[str] = []
    implied_by_types: list[str] = []
    alert: str | None = None


class _RuleDoc(_Doc):
    id: str
    send: Pathway
    text: str
    types: str | list[str] | None = None
    priority: list[Priority] | None = None
    any_yes: list[str] = []
    all_no: list[str] = []
    exclusions_clear: bool = False


class _DefaultDoc(_Doc):
    id: str
    send: Pathway
    text: str


class _PolicyDoc(_Doc):
    id: str
    version: int = Field(ge=1)
    name: str | None = None
    timezone: str | None = None  # the city's when omitted
    max_wait_minutes: int = Field(default=15, ge=0)
    questions: list[_QuestionDoc]
    exclusions: list[_ExclusionDoc]
    type_sets: dict[str, list[str]] = {}
    rules: list[_RuleDoc]
    default: _DefaultDoc
    safety_alert_unanswered: str | None = None


def _build(document: LocatedYaml, city: CityPrograms) -> Policy:
    """Check the shape with Pydantic, then every reference and contradiction, naming the line."""
    if isinstance(document.data, dict) and "nature_codes" in document.data:
        raise PolicyError(document.path, document.line_of(("nature_codes",)),
                          "nature_codes: a policy no longer reads call types itself; every intake path reads "
                          "them through the city's crosswalks/call_type_words.yaml (move the phrases to its "
                          "`phrases` section)")
    if isinstance(document.data, dict) and "programs" in document.data:
        raise PolicyError(document.path, document.line_of(("programs",)),
                          f"programs: a policy holds rules only; the programs (kind, unarmed, hours, escalates_to) "
                          f"are the city's ({city.path}), named here by code")
    try:
        doc = _PolicyDoc.model_validate(document.data)
    except ValidationError as error:
        first = error.errors()[0]
        where = tuple(step for step in first["loc"] if not str(step).startswith(("function-", "literal[")))
        named = ".".join(map(str, where)) or "the file"
        raise PolicyError(document.path, document.line_of(where), f"{named}: {first['msg']}") from None
    check = _Checker(doc, document, city)
    programs = check.programs()
    questions = tuple(Question(q.id, q.prompt) for q in doc.questions)
    rules = [check.rule(("rules", i), item, programs) for i, item in enumerate(doc.rules)]
    rules.append(check.rule(("default",), doc.default, programs))
    check.reachable(rules, programs)
    exclusions = check.exclusions()
    check.implied_types_stay_armed(rules, programs, exclusions)
    return Policy(
        id=doc.id,
        version=doc.version,
        name=doc.name or doc.id,
        timezone=check.zone(),
        max_wait_minutes=doc.max_wait_minutes,
        programs=programs,
        questions=questions,
        exclusions=exclusions,
        type_sets=check.type_sets,
        rules=tuple(rules),
        source=str(document.path),
        text=document.path.read_text(encoding="utf-8") + _programs_text(city, programs),
        question_ids=tuple(q.id for q in questions),
        exclusion_questions=tuple(ex.question for ex in exclusions if ex.question),
        excluded_priorities=frozenset().union(*(ex.priorities for ex in exclusions)),
        safety_alert_unanswered=check.unanswered_alert(),
    )


class _Checker:
    """The checks Pydantic cannot make: references between sections, hours, contradictions."""

    def __init__(self, doc: _PolicyDoc, document: LocatedYaml, city: CityPrograms) -> None:
        self.doc, self.document, self.city = doc, document, city
        self.questions = [q.id for q in doc.questions]
        for i, question in enumerate(doc.questions):
            if question.id in self.questions[:i]:
                self.fail(("questions", i, "id"), f"question {question.id!r} is listed twice")
        self.type_sets: dict[str, frozenset[str]] = {}
        for name, items in doc.type_sets.items():
            if name in INCIDENT_TYPES:
                self.fail(("type_sets", name), f"type set {name!r} has the name of an incident type")
            self.type_sets[name] = self.types(items, ("type_sets", name), sets=False)

    def fail(self, where: Where, reason: str) -> NoReturn:
        raise PolicyError(self.document.path, self.document.line_of(where), reason)

    def zone(self) -> ZoneInfo:
        try:
            return ZoneInfo(self.doc.timezone or self.city.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            self.fail(("timezone",), f"unknown time zone {self.doc.timezone!r} (a name like America/New_York)")

    def programs(self) -> dict[str, Program]:
        """The city's programs a call can go to; one whose hours differ by day, or whose encounter asks an unknown
        screening question, is refused with its place in the programs file."""
        found = {}
        for program in (p for kind in PATHWAY_KINDS for p in self.city.of_kind(kind)):
            if not program.daily:
                raise PolicyError(self.city.path, program.line,
                                  f"{program.code}: triage decides by the time of day, so a {program.kind} program "
                                  f"has the same hours every day (it has {program.hours_text})")
            for question in program.encounter.safety_questions:
                if question not in self.questions:
                    raise PolicyError(self.city.path, program.line,
                                      f"{program.code}: encounter.safety_questions: {question!r} is not a screening "
                                      f"question of policy {self.doc.id} ({', '.join(self.questions)})")
            found[program.code] = program
        return found

    def exclusions(self) -> tuple[Exclusion, ...]:
        found = []
        for i, item in enumerate(self.doc.exclusions):
            if (item.question is None) == (item.priority is None):
                self.fail(("exclusions", i), "an exclusion names either a question or a priority")
            if item.question is not None:
                self.known_questions([item.question], ("exclusions", i, "question"))
            kinds = self.danger_kinds(item.implied_by_words, ("exclusions", i, "implied_by_words"))
            types = self.types(item.implied_by_types, ("exclusions", i, "implied_by_types"), sets=False)
            alert = item.alert or f"{item.text} Stage and wait until dispatch confirms it is safe."
            found.append(Exclusion(item.id, item.text, item.question, frozenset(item.priority or ()), kinds, types,
                                   alert))
        return tuple(found)

    def danger_kinds(self, kinds: list[str], where: Where) -> frozenset[str]:
        if not kinds:
            return frozenset()
        from heart.crosswalk.words import CallTypeWordsError, call_type_words

        try:
            known = call_type_words().danger_kinds
        except CallTypeWordsError as error:
            self.fail(where, f"the crosswalk's danger words cannot be read ({error})")
        for i, kind in enumerate(kinds):
            if kind not in known:
                self.fail((*where, i), f"unknown kind of danger words {kind!r}; the crosswalk knows "
                                       f"{', '.join(known)}")
        return frozenset(kinds)

    def implied_types_stay_armed(self, rules: list[Rule], programs: Mapping[str, Program],
                                 exclusions: tuple[Exclusion, ...]) -> None:
        """A rule sending an unarmed team cannot list an incident type that an exclusion says always meets it."""
        implied = {t: ex for ex in exclusions for t in ex.implied_by_types}
        for i, rule in enumerate(rules[:-1]):
            if not programs[rule.send].unarmed or rule.types is None:
                continue
            clash = sorted(set(rule.types) & set(implied))
            if clash:
                self.fail(("rules", i, "types"), f"contradiction: rule {rule.id!r} sends {rule.send} (an unarmed "
                                                 f"team) to {clash[0]!r}, which exclusion "
                                                 f"{implied[clash[0]].id!r} says always meets it")

    def unanswered_alert(self) -> str:
        text = self.doc.safety_alert_unanswered or DEFAULT_UNANSWERED_ALERT
        if "{question}" not in text or text.replace("{question}", "").count("{"):
            self.fail(("safety_alert_unanswered",), "safety_alert_unanswered must contain {question} and no "
                                                    "other {placeholder}")
        return text

    def rule(self, where: Where, item: _RuleDoc | _DefaultDoc, programs: Mapping[str, Program]) -> Rule:
        line = self.document.line_of(where)
        if item.send not in programs:
            self.fail((*where, "send"), f"send: {item.send!r} is not a field, phone or external program of the city "
                                        f"({self.city.path.name}: {', '.join(programs)})")
        if isinstance(item, _DefaultDoc):
            if not programs[item.send].always_open:
                self.fail((*where, "send"), f"the default must be an always-open external service, not {item.send}")
            return Rule(item.id, item.send, item.text, line)
        if programs[item.send].unarmed and not item.exclusions_clear:
            self.fail((*where, "send"), f"{item.send} is an unarmed team: the rule needs exclusions_clear: true")
        return Rule(
            id=item.id,
            send=item.send,
            text=item.text,
            line=line,
            types=None if item.types is None else self.types(item.types, (*where, "types")),
            priorities=None if item.priority is None else frozenset(item.priority),
            any_yes=self.known_questions(item.any_yes, (*where, "any_yes")),
            all_no=self.known_questions(item.all_no, (*where, "all_no")),
            exclusions_clear=item.exclusions_clear,
        )

    def types(self, value: str | list[str], where: Where, *, sets: bool = True, keys: bool = False) -> frozenset[str]:
        items = [value] if isinstance(value, str) else value
        found: set[str] = set()
        for i, item in enumerate(items):
            spot = where if isinstance(value, str) else (*where, item if keys else i)
            if sets and item in self.type_sets:
                found |= self.type_sets[item]
            elif item in INCIDENT_TYPES:
                found.add(item)
            else:
                self.fail(spot, f"unknown incident type {item!r}")
        return frozenset(found)

    def known_questions(self, items: list[str], where: Where) -> tuple[str, ...]:
        for i, item in enumerate(items):
            if item not in self.questions:
                self.fail((*where, i), f"unknown screening question {item!r}")
        return tuple(items)

    def reachable(self, rules: list[Rule], programs: Mapping[str, Program]) -> None:
        """A rule is a contradiction when an earlier rule always takes some of its incident types."""
        for i, rule in enumerate(rules):
            last = i == len(rules) - 1
            where: Where = ("default",) if last else ("rules", i, "types")
            if rule.id in {r.id for r in rules[:i]}:
                self.fail(("default", "id") if last else ("rules", i, "id"), f"rule id {rule.id!r} is used twice")
            for earlier in rules[:i]:
                if not (earlier.unconditional_on_answers and programs[earlier.send].always_open):
                    continue
                taken = _overlap(earlier.types, rule.types)
                if taken is not None:
                    self.fail(
                        where,
                        f"contradiction: rule {rule.id!r} ({rule.send}) can never apply to {taken}: "
                        f"rule {earlier.id!r} (line {earlier.line}) always sends it to {earlier.send} first",
                    )


def _overlap(earlier: frozenset[str] | None, later: frozenset[str] | None) -> str | None:
    """Words for the incident types both rules cover, or None when there are none."""
    if earlier is None:
        return "any call" if later is None else f"incident type {sorted(later)[0]!r}"
    if later is None:
        return None
    common = sorted(earlier & later)
    return f"incident type {common[0]!r}" if common else None


def _programs_text(city: CityPrograms, programs: Mapping[str, Program]) -> str:
    """What of the city's programs this policy decides with, appended to its kept text: a change of hours, kind or
    escalation changes the decisions, so it needs a new policy version like an edit of the rules."""
    lines = [f"\n# --- the programs this version decided with ({city.path.name}, time zone {city.timezone}) ---"]
    for p in programs.values():
        lines.append(f"# {p.code}: {p.kind}{', unarmed' if p.unarmed else ''}, hours {p.hours_text}"
                     f"{f', escalates to {p.escalates_to}' if p.escalates_to else ''}")
    return "\n".join(lines) + "\n"
