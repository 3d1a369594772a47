"""The city's rules for care navigation, read from its configuration (``care_navigation.yaml``): the hours a
follow-up is due in, the attempts before "unreachable", when a supervisor is alerted, and the vocabularies of
consent purposes, contact methods, attempt results and closing outcomes. Code holds the mechanisms; every hour
and word a program manager might change is here. The needs vocabulary is the city's ``needs.yaml``.

Other case programs run on the same machinery (``case_programs``: the Office of Survivor Care, the Involuntary
Commitment unit…): each names only what differs from Care Navigation's section — how a case begins (an encounter,
a referral, a petition) and from whom, whether it stands on the neighbor's consent, its hours, methods (a method may
need a crew role of the program: a first examination by a certified examiner), results and outcomes (an outcome
may require a facility from the program's list, or a written plan).
"""

from __future__ import annotations

from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from heart.city.folder import city_part
from heart.city.programs import city_programs
from heart.config import Settings
from heart.errors import InvalidInput
from heart.navigation.resources.needs import NeedsMap, city_needs
from heart.yamlfile import LocatedYaml, read_yaml

SECTION = "care_navigation"
FOLLOW_UP = "follow_up"
"""The consent purpose a follow-up needs (a mechanism: the follow-up checks it); its words are the city's."""
SHARE = "share_with_provider"
"""The consent purpose a referral needs: sharing the neighbor's details with the service's organization."""
CloseRule = Literal["reached", "unreachable", "consent_withdrawn"]
Requirement = Literal["facility", "plan"]
OpenedFrom = Literal["encounter", "referral", "petition"]


class Term(BaseModel):
    model_config = ConfigDict(extra="forbid")
    label: str = Field(min_length=1, max_length=80)


Shareable = Literal["name", "date_of_birth", "phone", "language", "address", "pronouns", "contact_times"]
"""The neighbor record's fields a consent to share may name (what a provider may be sent)."""


class Purpose(Term):
    provider: bool = False
    shares: list[Shareable] = Field(default_factory=list,
                                    description="the record's fields this consent lets HEART send the provider")


class Method(Term):
    needs_phone: bool = False
    by_role: str | None = Field(default=None, max_length=64,
                                description="only a member of the program with this crew role records it")


class AttemptResult(Term):
    reached: bool = False


class Outcome(Term):
    when: CloseRule
    requires: Requirement | None = None  # a facility from the program's list, or a written plan


class CareNavigation(BaseModel):
    """The ``care_navigation`` section of a city's configuration."""

    model_config = ConfigDict(extra="forbid")
    program: str = Field(min_length=1, max_length=16)
    follow_up_due_hours: float = Field(gt=0, le=24 * 30)
    attempts_before_unreachable: int = Field(ge=1, le=50)
    supervisor_alert_hours_after_due: float = Field(ge=0, le=24 * 30)
    consent_purposes: dict[str, Purpose] = Field(min_length=1)
    contact_methods: dict[str, Method] = Field(min_length=1)
    attempt_results: dict[str, AttemptResult] = Field(min_length=1)
    outcomes: dict[str, Outcome] = Field(min_length=1)
    # How a case of this program begins: a consented encounter's handoff (Care Navigation), or a case opened from
    # a referral or a petition, from one of ``intake_sources``.
    opened_from: OpenedFrom = "encounter"
    consent_needed: bool = True  # False: the case stands on something else (a petition and a custody order)
    intake_sources: dict[str, Term] = Field(default_factory=dict)
    facilities: dict[str, Term] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _mechanisms_have_words(self) -> CareNavigation:
        if FOLLOW_UP not in self.consent_purposes:
            raise ValueError(f"consent_purposes must name {FOLLOW_UP!r} (the consent a follow-up needs)")
        share = self.consent_purposes.get(SHARE)
        if share is None or not share.provider:
            raise ValueError(f"consent_purposes must name {SHARE!r} with `provider: true` (the consent a referral "
                             "needs)")
        if not any(result.reached for result in self.attempt_results.values()):
            raise ValueError("attempt_results: at least one result must be `reached: true`")
        rules = ("reached", "unreachable", "consent_withdrawn") if self.consent_needed else ("reached", "unreachable")
        for rule in rules:
            if not any(outcome.when == rule for outcome in self.outcomes.values()):
                raise ValueError(f"outcomes: one outcome must close `when: {rule}`")
        if self.opened_from != "encounter" and not self.intake_sources:
            raise ValueError(f"a program whose cases are opened from a {self.opened_from} lists its intake_sources")
        if any(outcome.requires == "facility" for outcome in self.outcomes.values()) and not self.facilities:
            raise ValueError("an outcome requires a facility: list the program's facilities")
        return self


class PublishedFigures(BaseModel):
    """Figures a program published, shown beside the report's own (the same rows)."""

    model_config = ConfigDict(extra="forbid")
    label: str = Field(min_length=1, max_length=120)
    top_shares: dict[float, float] = Field(default_factory=dict, description="share of neighbors → of responses")
    seen: dict[int, int] = Field(default_factory=dict, description="N → neighbors seen N+ times")


class FamiliarNeighbors(BaseModel):
    """The ``familiar_neighbors`` section: linking a person's records, flags for neighbors served often, the report."""

    model_config = ConfigDict(extra="forbid")
    window_days: int = Field(ge=7, le=3 * 366, description="responses are counted over this many days")
    flag_at: list[int] = Field(min_length=1, max_length=10, description="responses in the window that raise a "
                                                                         "flag, one level each (5, 10, 20)")
    report_counts: list[int] = Field(min_length=1, max_length=10, description="the report's 'seen N+ times' rows")
    top_shares: list[float] = Field(min_length=1, max_length=10, description="the report's 'top share of "
                                                                             "neighbors' rows (0.005 is 0.5%)")
    flag_expires_after_days: int = Field(ge=1, le=3 * 366, description="a reviewed flag lasts this long unless "
                                                                       "the reviewer sets an earlier date")
    link_threshold: float = Field(gt=0, lt=1, description="pairs at or above this match probability are proposed")
    merge_without_review: float | None = Field(default=None, gt=0, le=1, description="pairs at or above this are "
                                               "merged by the linkage run (a reviewer may split them); none: all "
                                               "wait for a reviewer")

    compare_with: PublishedFigures | None = None

    @model_validator(mode="after")
    def _ordered(self) -> FamiliarNeighbors:
        for name in ("flag_at", "report_counts"):
            values = getattr(self, name)
            if values != sorted(set(values)) or values[0] < 2:
                raise ValueError(f"{name}: counts of 2 or more, each once, smallest first")
        if any(not 0 < share < 1 for share in self.top_shares):
            raise ValueError("top_shares: fractions between 0 and 1 (0.005 is 0.5%)")
        if self.merge_without_review is not None and self.merge_without_review < self.link_threshold:
            raise ValueError("merge_without_review must be at least link_threshold")
        return self


class CareFile(BaseModel):
    model_config = ConfigDict(extra="allow")  # other sections of a city's file are someone else's
    care_navigation: CareNavigation
    # Other case programs by code: only what differs from care_navigation (checked as a whole after merging).
    case_programs: dict[str, dict[str, Any]] = Field(default_factory=dict)
    familiar_neighbors: FamiliarNeighbors | None = None


class CareRules:
    """The care-navigation rules in force, with the needs vocabulary they record; ``of(code)`` gives another case
    program's rules (the same mechanisms with its own hours and words)."""

    def __init__(self, config: CareNavigation, resources_dir: Path,
                 programs: dict[str, CareNavigation] | None = None,
                 familiar_neighbors: FamiliarNeighbors | None = None) -> None:
        self.config = config
        self.resources_dir = resources_dir
        self.programs = programs or {config.program: config}
        self.familiar_neighbors = familiar_neighbors

    @property
    def familiar(self) -> FamiliarNeighbors:
        """The familiar-neighbor rules; refused when the city's file has none."""
        if self.familiar_neighbors is None:
            raise InvalidInput("the city's care_navigation file has no familiar_neighbors section",
                               field="familiar_neighbors")
        return self.familiar_neighbors

    @property
    def follow_up_program(self) -> str:
        """The code of the program follow-ups after an encounter belong to (Durham's Care Navigation, CN)."""
        return next(iter(self.programs))

    def of(self, program: str | None) -> CareRules:
        """The rules of case program ``program`` (Care Navigation's for an unknown or missing one)."""
        config = self.programs.get(program or "", self.config)
        return self if config is self.config else CareRules(config, self.resources_dir, self.programs,
                                                            self.familiar_neighbors)

    def case_programs(self) -> dict[str, CareNavigation]:
        """The programs whose cases a person opens (from a referral or a petition), by code."""
        return {code: config for code, config in self.programs.items() if config.opened_from != "encounter"}

    def outcome_requires(self, outcome: str) -> Requirement | None:
        found = self.config.outcomes.get(outcome)
        return found.requires if found else None

    def outcome_detail(self, outcome: str, *, facility: str | None, plan: str | None) -> dict[str, str | None]:
        """The columns an outcome's requirement fills, checked: a facility of the program's list, or the plan's
        words; nothing for an outcome that requires neither."""
        required = self.outcome_requires(outcome)
        facilities = self.config.facilities
        if required == "facility":
            if not facility or facility not in facilities:
                raise InvalidInput(f"{self.label('outcomes', outcome)}: choose the facility; the facilities are "
                                   f"{', '.join(facilities)}", field="facility")
            return {"outcome_facility": facility, "outcome_plan": None}
        if required == "plan":
            if not plan or not plan.strip():
                raise InvalidInput(f"{self.label('outcomes', outcome)}: write the plan", field="plan")
            return {"outcome_facility": None, "outcome_plan": plan.strip()}
        return {"outcome_facility": None, "outcome_plan": None}

    @property
    def needs(self) -> NeedsMap:
        """The city's needs vocabulary (re-read when its file changes)."""
        return city_needs(self.resources_dir)

    @property
    def due_after(self) -> timedelta:
        return timedelta(hours=self.config.follow_up_due_hours)

    @property
    def alert_after_due(self) -> timedelta:
        return timedelta(hours=self.config.supervisor_alert_hours_after_due)

    @property
    def attempts_before_unreachable(self) -> int:
        return self.config.attempts_before_unreachable

    def reached(self, result: str) -> bool:
        return self.config.attempt_results[result].reached

    def outcome_rule(self, outcome: str) -> CloseRule:
        return self.config.outcomes[outcome].when

    def outcome_for(self, rule: CloseRule) -> str:
        """The first outcome that closes by ``rule`` (the one the system records for it)."""
        return next(key for key, outcome in self.config.outcomes.items() if outcome.when == rule)

    def label(self, vocabulary: str, key: str | None) -> str:
        """The words for ``key`` in one of the vocabularies (the key itself when the city no longer has it)."""
        terms: dict[str, Term] = getattr(self.config, vocabulary)
        return terms[key].label if key in terms else (key or "—")

    def need_label(self, key: str) -> str:
        need = self.needs.needs.get(key)
        return need.label if need else key


def load_care_rules(path: Path, resources_dir: Path) -> CareRules:
    """Read and check a city's care-navigation section; a mistake names the file, the line and the field."""
    document = read_yaml(path)
    try:
        parsed = CareFile.model_validate(document.data or {})
    except ValidationError as error:
        raise _located(document, error, ()) from None
    _check_programs(document, parsed)
    programs = {parsed.care_navigation.program: parsed.care_navigation}
    base = parsed.care_navigation.model_dump()
    for code, changes in parsed.case_programs.items():
        try:
            programs[code] = CareNavigation.model_validate({**base, **changes, "program": code})
        except ValidationError as error:
            raise _located(document, error, ("case_programs", code)) from None
    return CareRules(parsed.care_navigation, resources_dir, programs, parsed.familiar_neighbors)


def _check_programs(document: LocatedYaml, parsed: CareFile) -> None:
    """Every program code the file names is a case program of the city's programs file (file, line, field)."""
    city = city_programs()
    city.check_code(parsed.care_navigation.program, document.path,
                    document.line_of((SECTION, "program")), f"{SECTION}.program", kinds=("case",))
    for code in parsed.case_programs:
        city.check_code(code, document.path, document.line_of_key(("case_programs", code)), f"case_programs.{code}",
                        kinds=("case",))


def _located(document: LocatedYaml, error: ValidationError, prefix: tuple[str | int, ...]) -> Exception:
    first = error.errors()[0]
    location = prefix + tuple(first["loc"])
    where = ".".join(str(part) for part in location) or SECTION
    return document.error(location, f"{where}: {first['msg']}")


def care_rules(settings: Settings | None = None) -> CareRules:
    """The rules in force for ``settings`` (the city's files by default), re-read when the file changes."""
    if settings is not None:
        file, resources = settings.care_navigation_file, settings.resources_dir
    else:  # the city's files (their settings, HEART_CARE_NAVIGATION_FILE …, still point elsewhere when set)
        file, resources = city_part("care_navigation"), city_part("resources")
    try:
        stamp = file.stat().st_mtime_ns
    except OSError:
        stamp = -1  # load_care_rules names the missing file
    return _cached(file, stamp, resources)


@lru_cache(maxsize=8)
def _cached(file: Path, _stamp: int, resources_dir: Path) -> CareRules:
    return load_care_rules(file, resources_dir)
