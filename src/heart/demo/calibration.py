"""The demo's model of Durham: what is published, and what we assumed to fill the gaps.

The values live in ``cities/durham/scenarios/model.yaml`` (shared with the capacity scenarios, one copy);
this module gives them the names the demo's simulation uses, and keeps what only the demo needs: its own
travel model, and the words of its story (nature codes, dispositions, needs, streets).

Published (``../shared/data/reference/durham_published.json``): the dashboard figures the history must
reproduce (CRT 7,746 responses, 11.26 / 33.49 / 44.74 min, 7.41 % / 0.05 % / 1.02 %; Co-Response 3,488,
12.04 / 47.57 / 59.61 min, 8.31 % / 0.00 % / 0.63 %), the 2024 response mix (trespass / unwanted 2,146,
mental health crisis 1,443, non-urgent welfare check 1,373 of 11,612), the eligible call types (about
18,710 calls a year), about 1,000 involuntary-commitment calls a year, and the hours.

Assumed (no public source; change freely): the rest of the call mix, the arrival profile by hour of week
and season, how often each screening answer is "yes", call-processing and turnout times, travel speed,
the spread of the time distributions, cancellations, CCD phone time and escalation.

Calibrated: ``CALLS_PER_YEAR`` so that the triage of the simulated calls yields the published number of
responses; ``TRAVEL_KM_PER_HOUR`` per program so that the simulated travel from where units are yields the
published minutes to scene; the on-scene base so that base + transport + EMS time gives the published mean.
"""

from __future__ import annotations

from dataclasses import dataclass

from heart.simulation.model import load_city_model

MODEL = load_city_model("durham")
"""Durham's demand and response times, shared with the capacity scenarios (cities/durham/scenarios/model.yaml)."""

# --- calls --------------------------------------------------------------------------------------------------

CALL_MIX: dict[str, float] = dict(MODEL.calls.mix)
"""Share of each type among the calls the alternative-response programs could take."""
HEART_CALLS_PER_YEAR = MODEL.calls.heart_calls_per_year
OTHER_CALLS_PER_YEAR: dict[str, float] = dict(MODEL.calls.other_calls_per_year)
CALLS_PER_YEAR: dict[str, float] = MODEL.calls.per_year()
VOLUME_SCALE = MODEL.calls.volume_scale
"""Multiplies every volume."""

NATURE_CODES: dict[str, str] = {
    "trespass_unwanted": "TRESPASS/UNWANTED SUBJECT", "mental_health_crisis": "MENTAL HEALTH CASE",
    "welfare_check": "CHECK WELFARE", "assist_person": "ASSIST PERSON", "suicide_threat": "SUICIDAL SUBJECT",
    "follow_up": "FOLLOW UP", "intoxicated_person": "INTOXICATED PERSON", "panhandling": "PANHANDLING",
    "indecency": "INDECENT EXPOSURE", "verbal_disturbance": "VERBAL DISTURBANCE",
    "ivc_order": "IVC PAPER SERVICE", "disturbance": "DISTURBANCE", "suspicious_person": "SUSPICIOUS PERSON",
    "noise_complaint": "NOISE COMPLAINT", "overdose": "OVERDOSE", "assault": "ASSAULT",
}

PRIORITIES = dict(MODEL.calls.priorities)
SOURCES = dict(MODEL.calls.sources)

# Relative call volume by local hour (0–23); weekends start later and run later.
WEEKDAY_HOURS = MODEL.arrivals.weekday_hours
WEEKEND_HOURS = MODEL.arrivals.weekend_hours
WEEKDAY_FACTORS = MODEL.arrivals.weekday_factors  # Monday … Sunday
MONTH_FACTORS = MODEL.arrivals.month_factors  # January … December

# Probability of "yes" to each screening question, by incident type (missing: the "other" row).
SCREENING_YES: dict[str, dict[str, float]] = {kind: dict(answers)
                                             for kind, answers in MODEL.calls.screening_yes.items()}
QUESTIONS = ("weapon", "medical_intervention", "imminent_risk_to_others", "violent_history", "ivc_order",
             "phone_ok")
UNKNOWN_ANSWER = MODEL.calls.unknown_answer
"""Share of answers the call-taker could not get (unknown is never taken as no)."""

CALL_PROCESSING_MINUTES = (MODEL.call_processing_minutes.mean, MODEL.call_processing_minutes.spread)
"""Call received → unit dispatched for a free unit: lognormal (mean, log-spread)."""


# --- responses ----------------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class ResponseModel:
    """How one field program's responses unfold."""

    turnout_minutes: float  # dispatched → en route (mean)
    travel_km_per_hour: float  # effective speed over the road distance (calibrated)
    travel_spread: float  # lognormal log-spread of travel time around distance/speed
    on_scene_minutes: float  # on scene, before any transport or EMS wait (mean)
    on_scene_spread: float
    transport_minutes: float  # transport start → cleared (mean)
    ems_extra_minutes: float  # added on scene while waiting for or handing over to EMS
    transport: float  # published shares
    pd_backup_for_safety: float
    ems_support: float
    cancelled: float  # dispatched, then called off before arrival (assumed)


ROAD_FACTOR = 1.35
"""Road distance ÷ straight-line distance in a gridded city (the demo's own travel model; the capacity
simulator uses the dispatch board's estimator instead)."""

# The demo's travel model, calibrated so the simulated travel from where units are yields the published minutes
# to scene: (turnout minutes, km/h, log-spread of travel time).
DEMO_TRAVEL = {"CRT": (3.98, 30.0, 0.35), "COR": (1.7, 30.0, 0.35)}


def _response_model(code: str) -> ResponseModel:
    times = MODEL.responses[code]
    turnout, speed, spread = DEMO_TRAVEL[code]
    return ResponseModel(turnout_minutes=turnout, travel_km_per_hour=speed, travel_spread=spread,
                         on_scene_minutes=times.base_on_scene_minutes, on_scene_spread=times.on_scene_spread,
                         transport_minutes=times.transport_minutes, ems_extra_minutes=times.ems_extra_minutes,
                         transport=times.transport, pd_backup_for_safety=times.pd_backup_for_safety,
                         ems_support=times.ems_support, cancelled=times.cancelled)


RESPONSE_MODELS: dict[str, ResponseModel] = {code: _response_model(code) for code in DEMO_TRAVEL}

CCD_PHONE_MINUTES = (MODEL.phone["CCD"].minutes.mean, MODEL.phone["CCD"].minutes.spread)
CCD_ESCALATES_TO_CRT = MODEL.phone["CCD"].escalates
"""Share of CCD phone contacts after which the clinician sends a Community Response Team."""

DISPOSITIONS = {"resolved on scene": 0.62, "referred to services": 0.24, "neighbor declined services": 0.09,
                "gone on arrival": 0.05}
NEEDS = ("behavioral health", "housing", "substance use", "food", "transportation", "medical", "benefits")
SERVICES = ("de-escalation", "safety planning", "resource referral", "transport", "basic needs supplies",
            "peer support")
CONSENT_TO_FOLLOW_UP = 0.38
TEAM_FELT_SAFE = 0.99
"""Share of in-person responses after which the crew answers that the team felt safe (Durham reports 99 %)."""

# --- geography (Durham, NC) ---------------------------------------------------------------------------------

CITY_CENTER = MODEL.geography.center
CITY_BOUNDS = MODEL.geography.bounds
# (lat, lon, weight, spread in km): where calls come from
CALL_CLUSTERS = MODEL.geography.clusters
FACILITIES = {name: (lat, lon) for name, (lat, lon, _) in MODEL.geography.facilities.items()}
FACILITY_WEIGHTS = [weight for _, _, weight in MODEL.geography.facilities.values()]
STREETS = ("N Mangum St", "E Main St", "W Chapel Hill St", "Fayetteville St", "N Roxboro St", "Holloway St",
           "Alston Ave", "Angier Ave", "Guess Rd", "Hillandale Rd", "University Dr", "NC Hwy 55", "Miami Blvd",
           "Broad St", "Duke St", "Morehead Ave", "Cornwallis Rd", "Riddle Rd", "Liberty St", "Hardee St",
           "Club Blvd", "Ninth St", "Lakewood Ave", "Old Oxford Rd", "Geer St", "Driver St")
