"""Groups the public figures gain from other domains, protected by the same suppression rule
(``heart.metrics.public.groups.Provider``): Care Navigation's follow-ups in time and referrals completed, and the
familiar neighbors' share of neighbors and of responses. Both are published under the care navigation program of
the city's configuration (Durham: CN), whose staff do that work.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, sessionmaker

from heart.metrics.backends import MetricsSource
from heart.metrics.definitions import Period
from heart.metrics.public.groups import Provider, RawGroup, RawTable, Share
from heart.metrics.service import care_metrics
from heart.navigation.followups.rules import CareRules
from heart.neighbors.familiar.flags import served_per_neighbor


def care_provider(program: str) -> Provider:
    """Consented encounters followed up in time, and referrals made and completed (by need), per year."""

    def provide(*, source: MetricsSource, period: Period) -> list[RawGroup]:
        care = care_metrics(source=source, period=period)
        if care is None or period.since is None:
            return []
        year = period.since.year
        figures = care.all
        groups = [RawGroup(
            program=program, year=year, group="care", total_key="consented_encounters",
            total=figures.consented_encounters, parts={"followed_up_in_time": figures.followed_up_in_time},
            shares={"pct_followed_up_in_time": Share(figures.followed_up_in_time, figures.consented_encounters)})]
        made = {need: counts.made for need, counts in care.referrals_by_need.items()}
        completed = sum(counts.completed for counts in care.referrals_by_need.values())
        if made:
            groups.append(RawGroup(
                program=program, year=year, group="referrals", total_key="referrals_made", total=sum(made.values()),
                tables={"referrals_by_need": RawTable(cells=made)},
                parts={"referrals_completed": completed},
                shares={"pct_referrals_completed": Share(completed, sum(made.values()))}))
        return groups

    return provide


def familiar_provider(sessions: sessionmaker[Session], rules: CareRules, timezone: str) -> Provider | None:
    """Neighbors served and the familiar ones among them (named on at least the lowest flag count of calls in the
    year), and the calls naming each; None when the city configures no familiar neighbors."""
    config = rules.familiar_neighbors
    if config is None:
        return None
    at_least, program, zone = config.flag_at[0], rules.config.program, ZoneInfo(timezone)

    def provide(*, source: MetricsSource, period: Period) -> list[RawGroup]:
        if period.since is None or period.until is None:
            return []
        since = datetime.combine(period.since, time(), zone)
        until = datetime.combine(period.until + timedelta(days=1), time(), zone)
        with sessions() as session:
            counts = [int(count) for _, count in session.execute(served_per_neighbor(since, until))]
        if not counts:
            return []
        familiar = [count for count in counts if count >= at_least]
        year = period.since.year
        return [
            RawGroup(program=program, year=year, group="familiar", total_key="neighbors_served", total=len(counts),
                     parts={"familiar_neighbors": len(familiar)},
                     shares={"pct_familiar_of_neighbors": Share(len(familiar), len(counts))}),
            RawGroup(program=program, year=year, group="familiar_responses", total_key="responses_to_neighbors",
                     total=sum(counts), parts={"responses_to_familiar": sum(familiar)},
                     shares={"pct_familiar_of_responses": Share(sum(familiar), sum(counts))}),
        ]

    return provide


def public_providers(sessions: sessionmaker[Session], rules: CareRules, timezone: str) -> Callable[[], list[Provider]]:
    """The providers for the site (the care rules as they stand when a report is computed)."""

    def build() -> list[Provider]:
        found: list[Provider] = [care_provider(rules.config.program)]
        familiar = familiar_provider(sessions, rules, timezone)
        if familiar is not None:
            found.append(familiar)
        return found

    return build
