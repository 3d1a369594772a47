"""The demo's model of Durham: what is published, and what we assumed to fill the gaps.

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

# --- calls --------------------------------------------------------------------------------------------------

CALL_MIX: dict[str, float] = {
    # published shares of 2024 (trespass / unwanted 2,146, mental health crisis 1,443, welfare check 1,373
    # of 11,612): the three largest types
    "trespass_unwanted": 0.185,
    "mental_health_crisis": 0.124,
    "welfare_check": 0.118,
    # assumed: the rest of the eligible types, and involuntary-commitment orders for Co-Response
    "suicide_threat": 0.115,
    "assist_person": 0.105,
    "intoxicated_person": 0.095,
    "ivc_order": 0.0755,
    "follow_up": 0.065,
    "verbal_disturbance": 0.055,
    "panhandling": 0.045,
    "indecency": 0.0175,
}
"""Share of each type among the calls the alternative-response programs could take."""

HEART_CALLS_PER_YEAR = 20_150
"""Calls of the types above a year (calibrated; the planning study counts 18,710 for nine of them)."""

OTHER_CALLS_PER_YEAR: dict[str, float] = {
    # calls the call-takers screen that go to police or EMS (a sample, to show triage at work)
    "disturbance": 900, "suspicious_person": 700, "noise_complaint": 400, "overdose": 300, "assault": 200,
}
CALLS_PER_YEAR: dict[str, float] = {
    **{kind: share * HEART_CALLS_PER_YEAR for kind, share in CALL_MIX.items()}, **OTHER_CALLS_PER_YEAR}
VOLUME_SCALE = 1.0
"""Multiplies every volume."""

NATURE_CODES: dict[str, str] = {
    "trespass_unwanted": "TRESPASS/UNWANTED SUBJECT", "mental_health_crisis": "MENTAL HEALTH CASE",
    "welfare_check": "CHECK WELFARE", "assist_person": "ASSIST PERSON", "suicide_threat": "SUICIDAL SUBJECT",
    "follow_up": "FOLLOW UP", "intoxicated_person": "INTOXICATED PERSON", "panhandling": "PANHANDLING",
    "indecency": "INDECENT EXPOSURE", "verbal_disturbance": "VERBAL DISTURBANCE",
    "ivc_order": "IVC PAPER SERVICE", "disturbance": "DISTURBANCE", "suspicious_person": "SUSPICIOUS PERSON",
    "noise_complaint": "NOISE COMPLAINT", "overdose": "OVERDOSE", "assault": "ASSAULT",
}

PRIORITIES = {"P": 0.004, "1": 0.05, "2": 0.26, "3": 0.55, "4": 0.136}
SOURCES = {"911": 0.78, "phone": 0.22}

# Relative call volume by local hour (0–23); weekends start later and run later.
WEEKDAY_HOURS = (0.9, 0.7, 0.55, 0.45, 0.4, 0.45, 0.7, 1.1, 1.6, 2.0, 2.3, 2.5,
                 2.6, 2.6, 2.6, 2.5, 2.4, 2.3, 2.1, 1.9, 1.7, 1.5, 1.3, 1.1)
WEEKEND_HOURS = (1.2, 1.0, 0.85, 0.65, 0.5, 0.45, 0.55, 0.8, 1.1, 1.5, 1.9, 2.2,
                 2.4, 2.4, 2.4, 2.3, 2.3, 2.2, 2.1, 2.0, 1.8, 1.6, 1.5, 1.3)
WEEKDAY_FACTORS = (1.04, 1.03, 1.03, 1.02, 1.03, 0.93, 0.92)  # Monday … Sunday
MONTH_FACTORS = (0.90, 0.90, 0.97, 1.01, 1.06, 1.08, 1.10, 1.07, 1.03, 1.00, 0.95, 0.93)  # January … December

# Probability of "yes" to each screening question, by incident type (missing: the "other" row).
SCREENING_YES: dict[str, dict[str, float]] = {
    "mental_health_crisis": {"weapon": 0.12, "medical_intervention": 0.03, "imminent_risk_to_others": 0.06,
                             "violent_history": 0.55, "ivc_order": 0.05, "phone_ok": 0.24},
    "suicide_threat": {"weapon": 0.14, "medical_intervention": 0.05, "imminent_risk_to_others": 0.03,
                       "violent_history": 0.50, "ivc_order": 0.04, "phone_ok": 0.22},
    "welfare_check": {"weapon": 0.01, "medical_intervention": 0.04, "imminent_risk_to_others": 0.01,
                      "violent_history": 0.03, "phone_ok": 0.30},
    "assist_person": {"weapon": 0.01, "medical_intervention": 0.03, "imminent_risk_to_others": 0.01,
                      "violent_history": 0.03, "phone_ok": 0.30},
    "follow_up": {"weapon": 0.005, "medical_intervention": 0.01, "imminent_risk_to_others": 0.005,
                  "violent_history": 0.03, "phone_ok": 0.45},
    "trespass_unwanted": {"weapon": 0.05, "medical_intervention": 0.02, "imminent_risk_to_others": 0.03,
                          "violent_history": 0.05},
    "intoxicated_person": {"weapon": 0.02, "medical_intervention": 0.22, "imminent_risk_to_others": 0.02,
                           "violent_history": 0.04},
    "verbal_disturbance": {"weapon": 0.03, "medical_intervention": 0.01, "imminent_risk_to_others": 0.04,
                           "violent_history": 0.06},
    "ivc_order": {"weapon": 0.04, "medical_intervention": 0.02, "imminent_risk_to_others": 0.05,
                  "violent_history": 0.15, "ivc_order": 0.97},
    "other": {"weapon": 0.02, "medical_intervention": 0.02, "imminent_risk_to_others": 0.02,
              "violent_history": 0.04},
}
QUESTIONS = ("weapon", "medical_intervention", "imminent_risk_to_others", "violent_history", "ivc_order",
             "phone_ok")
UNKNOWN_ANSWER = 0.03
"""Share of answers the call-taker could not get (unknown is never taken as no)."""

CALL_PROCESSING_MINUTES = (2.4, 0.45)
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
"""Road distance ÷ straight-line distance in a gridded city."""

RESPONSE_MODELS: dict[str, ResponseModel] = {
    # CRT on scene: 33.49 = base + 7.41 % × 24 min transport + 1.02 % × 12 min EMS
    "CRT": ResponseModel(turnout_minutes=3.98, travel_km_per_hour=30.0, travel_spread=0.35,
                         on_scene_minutes=33.49 - 0.0741 * 24.0 - 0.0102 * 12.0, on_scene_spread=0.55,
                         transport_minutes=24.0, ems_extra_minutes=12.0,
                         transport=0.0741, pd_backup_for_safety=0.0005, ems_support=0.0102, cancelled=0.04),
    # COR on scene: 47.57 = base + 8.31 % × 32 min transport (to a facility, often IVC) + 0.63 % × 12 min EMS
    "COR": ResponseModel(turnout_minutes=1.7, travel_km_per_hour=30.0, travel_spread=0.35,
                         on_scene_minutes=47.57 - 0.0831 * 32.0 - 0.0063 * 12.0, on_scene_spread=0.5,
                         transport_minutes=32.0, ems_extra_minutes=12.0,
                         transport=0.0831, pd_backup_for_safety=0.0, ems_support=0.0063, cancelled=0.03),
}

CCD_PHONE_MINUTES = (19.0, 0.5)
CCD_ESCALATES_TO_CRT = 0.14
"""Share of CCD phone contacts after which the clinician sends a Community Response Team."""

DISPOSITIONS = {"resolved on scene": 0.62, "referred to services": 0.24, "neighbor declined services": 0.09,
                "gone on arrival": 0.05}
NEEDS = ("behavioral health", "housing", "substance use", "food", "transportation", "medical", "benefits")
SERVICES = ("de-escalation", "safety planning", "resource referral", "transport", "basic needs supplies",
            "peer support")
CONSENT_TO_FOLLOW_UP = 0.38

# --- geography (Durham, NC) ---------------------------------------------------------------------------------

CITY_CENTER = (35.9940, -78.8986)
CITY_BOUNDS = ((35.905, 36.075), (-79.005, -78.790))
# (lat, lon, weight, spread in km): where calls come from
CALL_CLUSTERS = (
    (35.9960, -78.9020, 0.30, 1.2),  # downtown
    (35.9880, -78.8700, 0.16, 1.6),  # east Durham
    (36.0200, -78.9000, 0.14, 2.0),  # north
    (35.9700, -78.9300, 0.12, 1.8),  # southwest
    (35.9450, -78.8800, 0.12, 2.2),  # south
    (36.0050, -78.9450, 0.10, 1.6),  # west / Duke
    (35.9900, -78.8300, 0.06, 2.5),  # far east
)
FACILITIES = {
    "Durham Recovery Response Center": (35.9860, -78.8790),
    "Duke Regional Hospital": (36.0336, -78.9005),
    "Duke University Hospital": (36.0073, -78.9378),
    "Urban Ministries of Durham": (35.9882, -78.8966),
}
STREETS = ("N Mangum St", "E Main St", "W Chapel Hill St", "Fayetteville St", "N Roxboro St", "Holloway St",
           "Alston Ave", "Angier Ave", "Guess Rd", "Hillandale Rd", "University Dr", "NC Hwy 55", "Miami Blvd",
           "Broad St", "Duke St", "Morehead Ave", "Cornwallis Rd", "Riddle Rd", "Liberty St", "Hardee St",
           "Club Blvd", "Ninth St", "Lakewood Ave", "Old Oxford Rd", "Geer St", "Driver St")
