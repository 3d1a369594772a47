"""The demo's care navigation: every consented encounter of the simulated history gets its neighbor, consent and
follow-up, worked the way a navigator would — attempts, needs, referrals to services of the demo directory with
their closed loops, an outcome — and everything after *now* not yet happened. So the queue holds follow-ups in every
state (due soon, overdue and untouched, in contact with a referral waiting on the provider), and the figures have a
year behind them.

Rows are the ones the services would write (they obey the same rules: an outcome only where its rule holds, a
referral only after the neighbor was reached and with their consent to share), inserted in bulk like the history.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, func, insert, select, text
from sqlalchemy.orm import Session

from heart.demo.familiar import DemoPeople, records_for
from heart.encounters.models import Encounter
from heart.events import Event
from heart.navigation.followups.models import (
    ContactAttempt,
    FollowUp,
    FollowUpNeed,
    FollowUpStatus,
    Referral,
    ReferralStatus,
)
from heart.navigation.followups.rules import FOLLOW_UP, SHARE, CareRules
from heart.navigation.followups.service import alert_untouched
from heart.navigation.resources.models import Attribute, Organization, Service
from heart.neighbors.models import Consent, Neighbor, NeighborLink
from heart.programs.models import Program

BATCH = 5_000
PRONOUNS = ["she/her", "he/him", "they/them", None, None]
TIMES = ["weekday mornings", "after 3 pm", "evenings", "any time", "lunchtime", None]


@dataclass
class CareSummary:
    """What was built, for `heart demo` to print."""

    follow_ups: int = 0
    open: int = 0
    overdue: int = 0
    alerts: int = 0
    referrals: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    people: DemoPeople = field(default_factory=DemoPeople)  # who each neighbor record is (for the demo's reviewer)


@dataclass
class _Story:
    """What happens on one follow-up, at its times (the parts after now are left out)."""

    attempts: list[tuple[datetime, str]] = field(default_factory=list)  # (at, result)
    referrals: list[tuple[str, datetime, list[tuple[ReferralStatus, datetime]]]] = field(default_factory=list)
    outcome: tuple[str, datetime] | None = None


def build_care(*, session: Session, seed: int, now: datetime, rules: CareRules) -> CareSummary:
    """Follow-ups for every consented encounter of the history, as they stand at ``now``."""
    rng = random.Random(seed + 12)
    writer = _Writer(session)
    services = _services_by_need(session, rules)
    program_id = session.scalar(select(Program.id).where(Program.code == rules.config.program))
    summary = CareSummary()
    encounters = session.execute(select(Encounter.id, Encounter.call_id, Encounter.created_at, Encounter.needs)
                                 .where(Encounter.consent_to_follow_up, Encounter.created_at <= now)
                                 .order_by(Encounter.created_at, Encounter.id)).all()
    met = records_for([at for _, _, at, _ in encounters], seed=seed, now=now)
    for (encounter_id, call_id, at, needs), (person, record) in zip(encounters, met, strict=True):
        story = _story(rng, rules, at, [n for n in dict.fromkeys(map(rules.needs.resolve, needs)) if n], services)
        status = _add(writer, rng, rules, story, now, program_id, encounter_id, call_id, at, needs, services, record)
        summary.people.person_of_record[writer.next_id["neighbors"] - 1] = person
        summary.follow_ups += 1
        summary.by_status[status.value] = summary.by_status.get(status.value, 0) + 1
        summary.referrals += sum(1 for _, made, _ in story.referrals if made <= now)
    writer.flush(final=True)
    summary.open = summary.follow_ups - summary.by_status.get(FollowUpStatus.CLOSED.value, 0)
    summary.overdue = int(session.scalar(select(func.count()).select_from(FollowUp).where(
        FollowUp.status == FollowUpStatus.AWAITING_CONTACT, FollowUp.due_at < now)) or 0)
    summary.alerts = alert_untouched(session=session, now=now, rules=rules)
    return summary


@dataclass(frozen=True, slots=True)
class _Words:
    """The city's words for what the demo's navigators do (Durham's keys where the city has them, so a seeded Durham
    demo draws the same; else the city's own, in its file's order)."""

    reached: str
    not_reached: tuple[str, ...]
    unreachable: str
    connected: str
    closed: tuple[str, ...]
    methods: tuple[str, str, str]
    in_person: str

    @classmethod
    def of(cls, rules: CareRules) -> _Words:
        config = rules.config
        results, outcomes, methods = config.attempt_results, config.outcomes, config.contact_methods

        def durham_or(wanted: tuple[str, ...], found: list[str], pool: Mapping[str, object]) -> tuple[str, ...]:
            if all(w in pool for w in wanted) or not found:
                return wanted
            return tuple(found[i % len(found)] for i in range(len(wanted)))

        reached = "reached" if "reached" in results else next(k for k, r in results.items() if r.reached)
        on_reach = [k for k, o in outcomes.items() if o.when == "reached"]
        connected = "connected" if "connected" in outcomes else on_reach[0]
        phone = [k for k, m in methods.items() if m.needs_phone]
        other = [k for k, m in methods.items() if not m.needs_phone and not m.by_role]
        in_person = "visit" if "visit" in methods else (other or list(methods))[0]
        chosen = durham_or(("phone", "text", "visit"), [*phone, in_person], methods)
        return cls(reached=reached,
                   not_reached=durham_or(("no_answer", "left_message", "no_answer", "wrong_number"),
                                         [k for k, r in results.items() if not r.reached], results),
                   unreachable=rules.outcome_for("unreachable"), connected=connected,
                   closed=durham_or(("needs_met", "needs_met", "declined", "moved_away"),
                                    [k for k in on_reach if k != connected] or on_reach, outcomes),
                   methods=(chosen[0], chosen[1], chosen[2]), in_person=in_person)


def _story(rng: random.Random, rules: CareRules, opened: datetime, needs: list[str],
           services: dict[str, list[tuple[str, str, str, str]]]) -> _Story:
    """A navigator's work on one follow-up, from its opening; times may run past now (they are cut later)."""
    story = _Story()
    words = _Words.of(rules)
    hours = rules.config.follow_up_due_hours
    first = opened + timedelta(hours=rng.uniform(1, hours * 0.9) if rng.random() < 0.82
                               else rng.uniform(hours, hours * 2.5))
    reach_on = rng.choice([1, 1, 1, 2, 2, 3]) if rng.random() < 0.72 else None
    at = first
    for n in range(1, rules.attempts_before_unreachable + 1):
        reached = reach_on == n
        story.attempts.append((at, words.reached if reached else rng.choice(words.not_reached)))
        if reached:
            break
        at += timedelta(hours=rng.uniform(6, 30))
    if reach_on is None:
        story.outcome = (words.unreachable, at + timedelta(hours=rng.uniform(1, 24)))
        return story
    contact = story.attempts[-1][0]
    last = contact
    for need in needs:
        if not services.get(need) or rng.random() > 0.65:
            continue
        made = contact + timedelta(hours=rng.uniform(0.2, 30))
        steps: list[tuple[ReferralStatus, datetime]] = []
        roll = rng.random()
        if roll < 0.74:
            accepted = made + timedelta(hours=rng.uniform(2, 72))
            steps.append((ReferralStatus.ACCEPTED, accepted))
            if rng.random() < 0.72:
                steps.append((ReferralStatus.COMPLETED, accepted + timedelta(days=rng.uniform(1, 14))))
        elif roll < 0.87:
            steps.append((ReferralStatus.DECLINED, made + timedelta(hours=rng.uniform(2, 96))))
        else:
            steps.append((ReferralStatus.NO_RESPONSE, made + timedelta(days=rng.uniform(5, 10))))
        story.referrals.append((need, made, steps))
        last = max([last, made, *(when for _, when in steps)])
    outcome = words.connected if story.referrals else rng.choice(words.closed)
    story.outcome = (outcome, last + timedelta(hours=rng.uniform(2, 72)))
    return story


def _add(writer: _Writer, rng: random.Random, rules: CareRules, story: _Story, now: datetime, program_id: int | None,
         encounter_id: int, call_id: int, opened: datetime, needs: list[str],
         services: dict[str, list[tuple[str, str, str, str]]], record: dict[str, Any]) -> FollowUpStatus:
    """Write one follow-up as it stands at ``now`` (its neighbor's record as the responder wrote it); its status."""
    words = _Words.of(rules)
    method = rng.choices(words.methods, weights=[70, 15, 15])[0] if record.get("phone") else words.in_person
    neighbor = writer.row(
        "neighbors", **record, language="Spanish" if rng.random() < 0.12 else None, contact_method=method,
        contact_times=rng.choice(TIMES), pronouns=rng.choice(PRONOUNS), created_at=opened, created_by_id=None,
        merged_into_id=None, restricted_to_program_id=None)
    writer.event("neighbor.created", "neighbor", neighbor, opened, None,
                 {"fields": [name for name, value in record.items() if value] + ["contact_method"]})
    writer.row("neighbor_links", neighbor_id=neighbor, call_id=call_id, encounter_id=encounter_id, linked_at=opened,
               linked_by_id=None)
    consent = writer.row("neighbor_consents", neighbor_id=neighbor, purpose=FOLLOW_UP, provider_name=None,
                         provider_organization_id=None, encounter_id=encounter_id, given_at=opened,
                         recorded_by_id=None, withdrawn_at=None, withdrawn_by_id=None)
    attempts = [(at, result) for at, result in story.attempts if at <= now]
    reached = any(rules.reached(result) for _, result in attempts)
    closed = story.outcome if story.outcome and story.outcome[1] <= now else None
    status = FollowUpStatus.CLOSED if closed else (FollowUpStatus.IN_CONTACT if reached
                                                   else FollowUpStatus.AWAITING_CONTACT)
    follow_up = writer.row(
        "follow_ups", neighbor_id=neighbor, encounter_id=encounter_id, program_id=program_id, consent_id=consent,
        status=status.value, opened_at=opened, opened_by_id=None, due_at=opened + rules.due_after,
        outcome=closed[0] if closed else None, closed_at=closed[1] if closed else None, closed_by_id=None,
        supervisor_alerted_at=None, alert_acknowledged_at=None, alert_acknowledged_by_id=None)
    writer.event("follow_up.opened", "follow_up", follow_up, opened, call_id,
                 {"status": "awaiting_contact", "due_at": (opened + rules.due_after).isoformat(),
                  "encounter_id": encounter_id})
    for need in dict.fromkeys(filter(None, map(rules.needs.resolve, needs))):
        writer.row("follow_up_needs", follow_up_id=follow_up, need=need, source="handoff", noted_at=opened,
                   noted_by_id=None)
    for n, (at, result) in enumerate(attempts):
        attempt = writer.row("contact_attempts", follow_up_id=follow_up, at=at, method=method, result=result,
                             reached=rules.reached(result), by_id=None, recorded_at=at, client_token=f"demo-{n}")
        writer.event("follow_up.attempted", "follow_up", follow_up, at, None,
                     {"attempt_id": attempt, "method": method, "result": result, "reached": rules.reached(result)})
    shared: dict[str, int] = {}
    for n, (need, made, steps) in enumerate(story.referrals):
        if made > now:
            continue
        service_id, name, organization_id, organization = rng.choice(services[need])
        if organization_id not in shared:
            shared[organization_id] = writer.row(
                "neighbor_consents", neighbor_id=neighbor, purpose=SHARE, provider_name=organization,
                provider_organization_id=organization_id, encounter_id=None, given_at=made, recorded_by_id=None,
                withdrawn_at=None, withdrawn_by_id=None)
        done = [(step, when) for step, when in steps if when <= now]
        times = {f"{step.value}_at": when for step, when in done}
        referral = writer.row(
            "referrals", follow_up_id=follow_up, need=need, service_id=service_id, service_name=name,
            organization_id=organization_id, organization_name=organization, consent_id=shared[organization_id],
            status=(done[-1][0] if done else ReferralStatus.MADE).value, made_at=made, made_by_id=None,
            accepted_at=times.get("accepted_at"), completed_at=times.get("completed_at"),
            declined_at=times.get("declined_at"), no_response_at=times.get("no_response_at"),
            client_token=f"demo-{n}")
        writer.event("referral.made", "referral", referral, made, None,
                     {"follow_up_id": follow_up, "service_id": service_id, "status": "made"})
        for step, when in done:
            writer.event(f"referral.{step.value}", "referral", referral, when, None,
                         {"status": step.value, "follow_up_id": follow_up})
    if closed:
        writer.event("follow_up.closed", "follow_up", follow_up, closed[1], None,
                     {"status": "closed", "outcome": closed[0]})
    return status


def _services_by_need(session: Session, rules: CareRules) -> dict[str, list[tuple[str, str, str, str]]]:
    """For each need: (service id, name, organization id, organization name) of the directory's active services."""
    terms = rules.needs.terms_by_need(session)
    rows = session.execute(select(Attribute.taxonomy_term_id, Service.id, Service.name, Organization.id,
                                  Organization.name)
                           .join(Service, Service.id == Attribute.link_id)
                           .join(Organization, Organization.id == Service.organization_id)
                           .where(Service.status == "active").order_by(Service.name)).all()
    found: dict[str, list[tuple[str, str, str, str]]] = defaultdict(list)
    for need, term_ids in terms.items():
        seen = set()
        for term_id, service_id, name, organization_id, organization in rows:
            if term_id in term_ids and service_id not in seen:
                seen.add(service_id)
                found[need].append((service_id, name, organization_id, organization))
    return dict(found)


class _Writer:
    """Rows with ids of their own, inserted in batches, parents first."""

    TABLES: tuple[Table, ...] = tuple(model.__table__ for model in (  # type: ignore[misc]
        Neighbor, NeighborLink, Consent, FollowUp, ContactAttempt, FollowUpNeed, Referral, Event))

    def __init__(self, session: Session) -> None:
        self.session = session
        self.rows: dict[str, list[dict[str, Any]]] = {table.name: [] for table in self.TABLES}
        self.next_id = {table.name: (session.scalar(select(func.max(table.c.id))) or 0) + 1 for table in self.TABLES}

    def row(self, table: str, **values: Any) -> int:
        identity = self.next_id[table]
        self.next_id[table] += 1
        self.rows[table].append({"id": identity, **values})
        if len(self.rows[table]) >= BATCH:
            self.flush()
        return identity

    def event(self, kind: str, subject_type: str, subject_id: int, at: datetime, call_id: int | None,
              after: dict[str, Any]) -> None:
        self.row("events", at=at, actor_id=None, kind=kind, subject_type=subject_type, subject_id=subject_id,
                 call_id=call_id, before=None, after=after)

    def flush(self, final: bool = False) -> None:
        for table in self.TABLES:
            rows, self.rows[table.name] = self.rows[table.name], []
            for chunk in _chunks(rows, BATCH):
                self.session.execute(insert(table), chunk)
        if final and self.session.get_bind().dialect.name == "postgresql":
            for table in self.TABLES:  # explicit ids: move each sequence past them
                self.session.execute(text(f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                                          f"(SELECT coalesce(max(id), 1) FROM {table.name}))"))


def _chunks(rows: list[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    for index in range(0, len(rows), size):
        yield rows[index:index + size]
