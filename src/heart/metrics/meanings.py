"""What each figure means, in words: one text for the internal dashboard, the public figures and the open data.

The words restate ``heart.metrics.definitions`` (the code that computes the figures); a test checks that every
published figure has its words here.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Meaning:
    label: str
    meaning: str


_COUNTED = ("responses cleared in the period (local date of the program) that reached the scene, were not "
            "cancelled, and have dispatch, arrival and clear times in order")

MEANINGS: dict[str, Meaning] = {
    "responses": Meaning("Responses", f"The number of {_COUNTED}."),
    "avg_minutes_to_scene": Meaning("Average minutes to scene",
                                    "The mean time from dispatch to arrival on scene, over those responses."),
    "avg_minutes_on_scene": Meaning("Average minutes on scene",
                                    "The mean time from arrival on scene to clearing, over those responses."),
    "avg_total_minutes": Meaning("Average total minutes",
                                 "The mean time from dispatch to clearing (to scene plus on scene)."),
    "pct_needed_transport": Meaning("Needed transport",
                                    "The share of those responses in which the team transported the neighbor."),
    "pct_needed_pd_backup_for_team_safety": Meaning(
        "Needed PD backup for team safety", "The share of those responses in which the team called police for "
                                            "its own safety."),
    "pct_needed_ems_support": Meaning("Needed EMS support",
                                      "The share of those responses in which the team called EMS."),
    "pct_team_felt_safe": Meaning(
        "The team felt safe", "Of the in-person responses whose crew answered the question on the clear form, the "
                              "share in which the team felt safe."),
    "team_safety_answered": Meaning("Crews who answered",
                                    "In-person responses whose crew answered whether the team felt safe."),
    "by_month": Meaning("Responses by month", "Responses by the local month in which they cleared, with their "
                                              "average minutes."),
    "by_call_type": Meaning("Responses by call type",
                            "Responses by the call's type in HEART's taxonomy (read from the CAD's call type)."),
    "by_hour": Meaning("Responses by hour of day", "Responses by the local hour (0-23) in which the team was "
                                                   "dispatched."),
    "by_beat": Meaning("Responses by beat", "Responses by the police beat of the call's location."),
    "eligible_calls": Meaning(
        "Eligible calls", "Calls received in the period (local date) that the triage policy found eligible for the "
                          "program before its hours and unit availability, or whose type the program takes but that "
                          "an exclusion kept from it (a weapon, a risk or a priority the team cannot take, as "
                          "screened when the call was decided), and that are closed."),
    "reached_calls": Meaning("Reached", "Eligible calls that a unit of the program reached on scene."),
    "pct_reached": Meaning("Reach", "Reached ÷ eligible calls."),
    "outcomes": Meaning("Eligible calls by outcome", "Reached, or missed under exactly one reason: the one "
                                                     "recorded when it happened (the program was closed; no unit "
                                                     "on duty and free; no free unit could arrive in time; not "
                                                     "dispatched in time while units were free), else an "
                                                     "exclusion that held (the team cannot take such a call), else "
                                                     "sent elsewhere by a person, else its unit was called off, else "
                                                     "other."),
    "in_progress": Meaning("Eligible calls still open", "Eligible calls not yet closed (in no figure above)."),
    "resolved_by_phone": Meaning(
        "Calls resolved by phone", "Calls routed to the phone program that its clinician resolved by phone, by the "
                                   "local date resolved."),
    "phone_by_month": Meaning("Calls resolved by phone, by month", "By the local month resolved."),
    "phone_by_call_type": Meaning("Calls resolved by phone, by call type", "By the call's type."),
    "phone_by_hour": Meaning("Calls resolved by phone, by hour of day", "By the local hour the call was received."),
    "consented_encounters": Meaning(
        "Consented encounters", "Encounters (a field team's, or a phone clinician's contact) in the period whose "
                                "neighbor agreed to a follow-up by Care Navigation."),
    "followed_up_in_time": Meaning(
        "Followed up in time", "Of those, the ones whose follow-up had a first contact attempt at or before its due "
                               "time (the city's configured hours after the encounter)."),
    "pct_followed_up_in_time": Meaning("% followed up in time", "Followed up in time ÷ consented encounters."),
    "referrals_made": Meaning("Referrals made", "Referrals to a community service made in the period."),
    "referrals_completed": Meaning("Referrals completed", "Of those, the ones the service completed (the loop "
                                                          "closed with the neighbor served)."),
    "pct_referrals_completed": Meaning("% of referrals completed", "Referrals completed ÷ referrals made."),
    "referrals_by_need": Meaning("Referrals by need", "Referrals made in the period, by the need they answer."),
    "neighbors_served": Meaning(
        "Neighbors served", "People named on a call in the period (records linked to the same person counted "
                            "once; records of a members-only program left out)."),
    "familiar_neighbors": Meaning(
        "Familiar neighbors", "Neighbors named on at least the city's lowest flag count of calls in the period."),
    "pct_familiar_of_neighbors": Meaning("Familiar neighbors' share of neighbors",
                                         "Familiar neighbors ÷ neighbors served."),
    "responses_to_neighbors": Meaning("Calls naming a neighbor", "Each neighbor's distinct calls in the period, "
                                                                 "added up over neighbors."),
    "responses_to_familiar": Meaning("Calls naming a familiar neighbor", "The same, over familiar neighbors."),
    "pct_familiar_of_responses": Meaning("Familiar neighbors' share of responses",
                                         "Calls naming a familiar neighbor ÷ calls naming a neighbor."),
}
"""Every figure's label and meaning, keyed like the JSON of ``heart metrics`` and the public figures."""

def label(key: str) -> str:
    """The figure's label (the key itself for one without words yet)."""
    found = MEANINGS.get(key)
    return found.label if found else key.replace("_", " ")
