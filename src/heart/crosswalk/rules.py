"""The words behind crosswalk suggestions: abbreviations, category rules, incident-type rules, safety guard.

CAD nature codes are terse ("104D_Alarm Resid Burg/Intru", "DIST - IP/JO - DV DIST - NO ASLT"), so a raw
call type is first rewritten into plain words (`plain_words`), and every rule below reads those words.
Rules are tried from top to bottom: the first that fits decides, so specific rules come first
("ALARM ... BURGLARY" is an alarm, not a burglary). Patterns are matched against the words joined by
single spaces with a space on each side, so `" DOG "` is a whole word.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from heart.crosswalk.words import CallTypeWords, call_type_words

ABBREVIATIONS: dict[str, str] = {
    "ABAND": "ABANDONED", "ACC": "ACCIDENT", "ADM": "ADMINISTRATIVE", "ADMIN": "ADMINISTRATIVE",
    "ADMN": "ADMINISTRATIVE", "AGG": "AGGRAVATED", "ALARMS": "ALARM", "ALRM": "ALARM", "ASLT": "ASSAULT",
    "ASSAULTS": "ASSAULT", "ATT": "ATTEMPT", "BMV": "BURGLARY MOTOR VEHICLE", "BSN": "BUSINESS",
    "BURG": "BURGLARY", "BUS": "BUSINESS", "BUSN": "BUSINESS", "CHK": "CHECK", "CIRCUM": "CIRCUMSTANCES",
    "CK": "CHECK", "COM": "COMMERCIAL", "COMM": "COMMERCIAL", "COMMER": "COMMERCIAL",
    "CRCMSTNCS": "CIRCUMSTANCES", "CRIM": "CRIMINAL", "DEST": "DESTRUCTION", "DIP": "DRUNK IN PUBLIC",
    "DISORDR": "DISORDER", "DIST": "DISTURBANCE", "DISTRB": "DISTURBANCE", "DISTURB": "DISTURBANCE",
    "DISTURBNCE": "DISTURBANCE", "DOM": "DOMESTIC", "DRUGS": "DRUG", "DUI": "DRIVING UNDER INFLUENCE",
    "DV": "DOMESTIC VIOLENCE", "DWI": "DRIVING WHILE INTOXICATED", "EDP": "EMOTIONALLY DISTURBED PERSON",
    "FAM": "FAMILY", "GLA": "GRAND LARCENY AUTO", "GSW": "GUNSHOT WOUND", "HARAS": "HARASSMENT",
    "HARASS": "HARASSMENT", "HARRASSMENT": "HARASSMENT", "HAZ": "HAZARD", "HOLDUP": "HOLD UP",
    "HR": "HIT AND RUN", "INFO": "INFORMATION", "INJ": "INJURY", "INTOX": "INTOXICATED",
    "INTOXIC": "INTOXICATED", "JUV": "JUVENILE", "LIQ": "LIQUOR", "MH": "MENTAL HEALTH", "MIS": "MISCHIEF",
    "MISC": "MISCELLANEOUS", "MISCH": "MISCHIEF", "MV": "MOTOR VEHICLE", "MVA": "MOTOR VEHICLE ACCIDENT",
    "MVC": "MOTOR VEHICLE COLLISION", "NARC": "NARCOTICS", "NARCOTIC": "NARCOTICS", "NARCS": "NARCOTICS",
    "OD": "OVERDOSE", "OFC": "OFFICER", "OFCR": "OFFICER", "PERS": "PERSON", "PERSN": "PERSON",
    "PKG": "PARKING", "POSS": "POSSESSION", "PROP": "PROPERTY", "PSYCH": "PSYCHIATRIC", "PUB": "PUBLIC",
    "RES": "RESIDENTIAL", "RESID": "RESIDENTIAL", "SBI": "SERIOUS BODILY INJURY", "SUBJ": "SUBJECT",
    "SUSP": "SUSPICIOUS", "SUSPIC": "SUSPICIOUS", "SVC": "SERVICE", "SVCS": "SERVICE", "TFC": "TRAFFIC",
    "THREATS": "THREAT", "THRT": "THREAT", "TRAF": "TRAFFIC", "TRESP": "TRESPASS", "TRESPASSING": "TRESPASS",
    "TRNSPORT": "TRANSPORT", "UNK": "UNKNOWN", "UNKN": "UNKNOWN", "UNKWN": "UNKNOWN", "UNWNTED": "UNWANTED",
    "UNWTED": "UNWANTED", "UUMV": "UNAUTHORIZED USE MOTOR VEHICLE", "VAND": "VANDALISM", "VEH": "VEHICLE",
    "VIOLNT": "VIOLENT", "VIOLS": "VIOLATIONS", "WALKIN": "WALK IN", "WEAP": "WEAPON", "WEAPN": "WEAPON",
    "WEAPONS": "WEAPON", "WELF": "WELFARE", "WP": "WEAPON", "WPN": "WEAPON", "WPNS": "WEAPON",
}  # fmt: skip

# Filler that tells when or how big, not what: dropped so that neighbours match on the substance.
STOPWORDS = frozenset(
    {
        "A", "ALL", "AN", "AND", "AT", "BUT", "BY", "ETC", "EXCEPT", "FOR", "GENERAL", "IN", "INCL", "INCLS",
        "IP", "JO", "JUST", "LARGE", "LG", "LRGE", "N", "NON", "NOT", "O", "OCC", "OCCUR", "OCCURRE", "OCCURRED",
        "OF", "ON", "ONLY", "OR", "OTHER", "PAST", "PROG", "PROGR", "PROGRES", "PROGRESS", "SM", "SMALL", "THE",
        "TO", "URGENT", "URGNT", "W", "WITH",
    }
)  # fmt: skip

_SPELLED_OUT = (
    (re.compile(r"H&R"), " HIT AND RUN "),
    (re.compile(r"\bW/(?:O|OUT)\b"), " WITHOUT "),
    (re.compile(r"\bW/"), " WITH "),
    (re.compile(r"\bON[- ]VIEW\b"), " ONVIEW "),
)
_TOKEN = re.compile(r"[A-Z0-9]+")
# "NO ASLT", "(NO WEAPONS)", "NO WELFARE CHK OR DV ORDER": the words after NO/WITHOUT up to the next
# punctuation describe what the call is not.
_NEGATED = re.compile(r"\b(?:NO|WITHOUT|OTHER THAN)\b[^()\-,/]*|\bNON[- ][A-Z]+")


def plain_words(raw: str, *, drop_negated: bool = False, keep_filler: bool = False) -> tuple[str, ...]:
    """The words of a raw call type, abbreviations spelled out, codes (and filler, unless kept) dropped."""
    text = raw.upper()
    for short, long in _SPELLED_OUT:
        text = short.sub(long, text)
    if drop_negated:
        text = _NEGATED.sub(" ", text)
    words: list[str] = []
    for token in _TOKEN.findall(text):
        if token != "911" and any(ch.isdigit() for ch in token):
            continue  # "104D", "11V", "6X": the CAD's own code numbers
        for word in ABBREVIATIONS.get(token, token).split():
            if keep_filler or word not in STOPWORDS:
                words.append(word)
    if not words and not keep_filler:  # "40 - OTHER": the filler is all there is
        return plain_words(raw, drop_negated=drop_negated, keep_filler=True)
    return tuple(words)


def padded(words: tuple[str, ...]) -> str:
    """Words as the rules read them: joined by single spaces, one space on each side."""
    return " " + " ".join(words) + " "


# What EMS call types say (ALS / BLS: the level of life support sent); no police call type says these.
MEDICAL_WORDS = (
    r"| ALS | BLS | CPR | CHEST PAIN| HEART PROBLEM| STROKE| SEIZURE| DIABETIC| ALLERGIC| CHOKING| BLEEDING"
    r"| HEMORRHAGE| LACERATION| PAIN | HEADACHE| FALL | PREGNAN| CHILDBIRTH| ALTERED LOC| FAINT| DROWNING"
    r"| TRAUMATIC| HEAT EXPOSURE| COLD EXPOSURE"
)


@dataclass(frozen=True, slots=True)
class Rule:
    """A named pattern that points at a category or an incident type."""

    name: str
    pattern: re.Pattern[str]
    target: str
    strength: float = 1.0


def _rules(*rows: tuple[str, str, str] | tuple[str, str, str, float]) -> tuple[Rule, ...]:
    return tuple(Rule(row[0], re.compile(row[1]), *row[2:]) for row in rows)


CATEGORY_RULES: tuple[Rule, ...] = _rules(
    ("assist another agency", r" ASSIST (ON |OTHER |OUTSIDE |ANOTHER )?(AGENCY|FIRE|MEDIC|EMS|AMBULANCE)"
     r"| REQUESTED FIRE | SFD ", "Statuses", 0.9),
    ("officer needs help", r" OFFICER (NEEDS|DOWN)| (ASSIST|ASSISTANCE|HELP)( THE)? OFFICER | OFFICER ASSIST",
     "Officer Needs Help"),
    ("alarm", r" ALARM ", "Alarms"),
    ("911 call issue", r" (HANG UP|HANGUP|OPEN LINE|ABANDONED CALL|MISDIAL)", "Call Related Issues"),
    ("domestic", r" DOMESTIC | FAMILY (VERBAL|PHYSICAL|DISTURBANCE|DISPUTE|VIOLENCE|FIGHT)| DISTURBANCE FAMILY"
     r"| CHILD (ABUSE|ABUSED"
     r"|NEGLECT|ABANDONED|ENDANGERMENT)| VULNERABLE ADULT| ELDER ABUSE", "Domestic Violence"),
    ("mental health / suicide", r" SUICID| MENTAL | MENTALLY | EMOTIONAL| BEHAVIORAL| PSYCHIATRIC| CRISIS "
     r"| EMOTIONALLY DISTURBED| JUMPER | OVERDOSE| INVOLUNTARY COMMITMENT", "Behavioral Health"),
    ("sex offender registration", r" REGISTER ", "Status Offenses"),
    ("lost property", r" PROPERTY (LOST )?MISSING| MISSING PROPERTY| LOST PROPERTY",
     "Complaints/Environmental Conditions", 0.8),
    ("missing person", r" MISSING | RUNAWAY | LOST PERSON| AWOL | AMBER ", "Missing Persons", 0.9),
    ("recovered property", r" RECOVERY | RECOVERED ", "Statuses", 0.8),
    ("suspicious", r" SUSPICIOUS ", "Suspicion"),
    ("warrant", r" WARRANT| WANTED PERSON| CAPIAS| FUGITIVE", "Warrants"),
    ("sex offence", r" RAPE | SEX | SEXUAL| INDECEN| LEWD| EXPOSURE| MOLEST| PEEPING| URINAT"
     r"| PORNOGRAPH", "Sex Offenses"),
    ("liquor", r" LIQUOR | ALCOHOL| OPEN CONTAINER", "Liquor Violations"),
    ("drugs", r" NARCOTICS | DRUG | MARIJUANA| COCAINE| HEROIN| CONTROLLED SUBSTANCE| CONT SUB "
     r"| PARAPHERNALIA| OPEN AIR DRUG", "Drugs"),
    ("robbery / homicide", r" ROBBERY | HOLD UP | HOMICIDE| MURDER| KIDNAP| ABDUCT| HOSTAGE| CARJACK"
     r"| DEADLY CONDUCT| STABBING| CUTTING | MANSLAUGHTER", "Violent Crime"),
    ("assault", r" ASSAULT ", "Violent Crime", 0.7),
    ("fraud", r" FRAUD| FORGERY| COUNTERFEIT| IDENTITY THEFT| BUNCO| SCAM", "Other Crimes", 0.9),
    ("property crime", r" THEFT | BURGLARY | LARCENY | SHOPLIFT| STOLEN | VANDALISM| PROPERTY (DAMAGE|DESTRUCTION)"
     r"| DESTRUCTION PROPERTY| ARSON | UNAUTHORIZED USE| CAR PROWL| EMBEZZLE| GRAFFITI| CRIMINAL MISCHIEF"
     r"| RECKLESS DAMAGE", "Property Crime"),
    ("vehicle collision", r" COLLISION| HIT AND RUN| MOTOR VEHICLE ACCIDENT| TRAFFIC ACCIDENT| CRASH ",
     "Accidents/Traffic Safety"),
    ("fire", r" FIRE | SMOKE | BURN | EXPLOSION| GAS LEAK| HAZMAT ", "Fire", 0.8),
    ("animal", r" ANIMAL | ANIMALS | DOG | DOGS | CAT | WILDLIFE | LIVESTOCK ", "Complaints/Environmental Conditions",
     0.9),
    ("injured / sick person", r" INJURED | INJURIES | SICK | MEDICAL | UNCONSCIOUS| UNRESPONSIVE| CARDIAC| BREATHING"
     + MEDICAL_WORDS, "Medical Emergencies", 0.8),
    ("trespass", r" TRESPASS | PROWLER | UNWANTED ", "Other Crimes", 0.9),
    ("traffic stop", r" (TRAFFIC|VEHICLE|BICYCLE) STOP ", "Accidents/Traffic Safety"),
    ("person struck", r" (PEDESTRIAN|BICYCLIST|PERSON) STRUCK", "Accidents/Traffic Safety"),
    ("found property / death", r" FOUND PROPERTY| DEATH | DECEASED | DOA ", "Statuses", 0.7),
    ("impaired driving / disorderly", r" DRIVING UNDER| DRIVING WHILE| DISORDERLY ", "Other Crimes", 0.9),
    ("patrol request", r" (REQUEST|REQUESTED) PATROL | PATROL REQUEST", "Assisting the Public", 0.9),
    ("officer activity", r" PREMISE CHECK| DIRECTED PATROL| PREDICTIVE POLICING| OFFICER INITIATED| ONVIEW "
     r"| ASSIGNED DUTY| DETAIL | OFF DUTY| FOLLOW UP | SUPPLEMENTAL| ADMINISTRATIVE | PRISONER"
     r"| ROUTINE INVESTIGATION| MESSAGE DELIVER| WALK IN | CRIME PREVENTION| REQUEST WATCH| BULLETIN| BOLO "
     r"| TRAINING| PATROL ", "Statuses", 0.9),
    ("traffic", r" TRAFFIC | COLLISION| PARKING | PARKED | MOTORIST| HIT AND RUN| SPEEDING| BLOCKAGE"
     r"| FREEWAY| ROAD | BOOT | ABANDONED (VEHICLE|CAR)| STALLED| RECKLESS DRIV| MOTOR VEHICLE ACCIDENT| TOW ",
     "Accidents/Traffic Safety", 0.9),
    ("vehicle accident", r" ACCIDENT ", "Accidents/Traffic Safety", 0.5),
    ("public assistance", r" ASSIST PUBLIC| PUBLIC SERVICE| LOCK (IN|OUT)| LOCKOUT| ESCORT| KEEP PEACE"
     r"| STANDBY| WELFARE | PERSON DOWN| DOWN PERSON| CITIZEN ASSIST| ASSIST CITIZEN", "Assisting the Public",
     0.9),
    ("disturbance / nuisance", r" DISTURBANCE| NOISE | NUISANCE| ANIMAL | DOG | LOUD | PARTY | HAZARD"
     r"| HARASSMENT| LITTER| DUMPING| FIREWORK| PANHANDL| LOITER| ABANDONED PROPERTY| LOST PROPERTY"
     r"| COMPLAINT| INTOXICATED | INTOXICATION | DRUNK ", "Complaints/Environmental Conditions", 0.8),
    ("fight", r" FIGHT ", "Other Crimes", 0.8),
    ("other crime", r" WEAPON | FIREARM| THREAT | THREATENING| EVADING| RESIST| PURSUIT| GAMBLING| ESCAPE"
     r"| OFFENSE| SHOOTING| SHOTS | GUN ", "Other Crimes", 0.6),
)  # fmt: skip

INCIDENT_TYPE_RULES: tuple[Rule, ...] = _rules(
    ("officer needs help", r" OFFICER (NEEDS|DOWN)| (ASSIST|ASSISTANCE|HELP)( THE)? OFFICER | OFFICER ASSIST",
     "officer_needs_help"),
    ("assist another agency", r" ASSIST (ON |OTHER |OUTSIDE |ANOTHER )?(AGENCY|FIRE|MEDIC|EMS|AMBULANCE)"
     r"| REQUESTED FIRE | SFD ", "assist_agency"),
    ("alarm", r" ALARM ", "alarm"),
    ("911 call issue", r" (HANG UP|HANGUP|OPEN LINE|ABANDONED CALL|MISDIAL)", "hang_up_911"),
    ("shots", r" SHOTS ", "shots_fired"),
    ("shooting", r" SHOOTING | SHOOTER | GUNSHOT| SHOT ", "shooting"),
    ("stabbing", r" STAB| CUTTING ", "stabbing"),
    ("robbery", r" ROBBERY | HOLD UP | CARJACK", "robbery"),
    ("domestic", r" DOMESTIC | FAMILY (VERBAL|PHYSICAL|DISTURBANCE|DISPUTE|VIOLENCE|FIGHT)| DISTURBANCE FAMILY",
     "domestic_violence"),
    ("abuse / neglect", r" ABUSE| ABUSED | NEGLECT| VULNERABLE ADULT| ENDANGER", "child_abuse_neglect"),
    ("sexual assault", r" RAPE | SEXUAL ASSAULT| SEX ASSAULT| MOLEST| SEXUAL OFFENSE", "sexual_assault"),
    ("kidnapping / hostage", r" KIDNAP| ABDUCT| HOSTAGE| LURING ", "caller_in_danger"),
    ("homicide / assault", r" ASSAULT | HOMICIDE| MURDER| MANSLAUGHTER| DEADLY CONDUCT| BATTERY ", "assault"),
    ("involuntary commitment", r" IVC | INVOLUNTARY COMMITMENT| COMMITMENT ", "ivc_order"),
    ("overdose", r" OVERDOSE| POISONING", "overdose"),
    ("suicide attempt", r" SUICID\w* ATTEMPT| ATTEMPT\w* SUICID| JUMPER | SUICID.* (INJURY|INJURED|PILLS|OVERDOSE"
     r"|HANGING|BLEEDING) ", "suicide_attempt"),
    ("suicide threat", r" SUICID", "suicide_threat"),
    ("mental health", r" MENTAL | MENTALLY | EMOTIONAL| BEHAVIORAL| PSYCHIATRIC| CRISIS | EMOTIONALLY DISTURBED",
     "mental_health_crisis"),
    ("theft of a firearm", r" (THEFT|STOLEN) (FIREARM|GUN)", "theft"),
    ("weapon", r" WEAPON | ARMED | GUN | GUNS | FIREARM| KNIFE | BRANDISH", "person_with_weapon"),
    ("lost / found property", r" PROPERTY (LOST )?MISSING| MISSING PROPERTY| LOST PROPERTY| FOUND PROPERTY"
     r"| ABANDONED PROPERTY", "found_property"),
    ("missing person", r" MISSING | RUNAWAY | LOST PERSON| AWOL | AMBER ", "missing_person"),
    ("warrant", r" WARRANT| CAPIAS| FUGITIVE", "warrant_service"),
    ("impaired driving", r" DRIVING UNDER| DRIVING WHILE| IMPAIRED DRIV", "dui"),
    ("traffic accident", r" ACCIDENT | COLLISION| HIT AND RUN| CRASH| STRUCK ", "traffic_accident"),
    ("animal", r" ANIMAL | ANIMALS | DOG | DOGS | CAT | BITE | BARKING | WILDLIFE ", "animal"),
    ("injured person", r" INJURED | INJURY | INJURIES | ACCIDENTAL | FALL | LACERATION", "injured_person"),
    ("medical", r" SICK | MEDICAL | UNCONSCIOUS| UNRESPONSIVE| CARDIAC| BREATHING| CASUALTY" + MEDICAL_WORDS,
     "medical_emergency"),
    ("fire", r" FIRE | BURN | ARSON | SMOKE | EXPLOSION| GAS LEAK| HAZMAT ", "fire"),
    ("vehicle theft", r" GRAND LARCENY AUTO| AUTO THEFT| VEHICLE THEFT| STOLEN VEHICLE| UNAUTHORIZED USE"
     r"| THEFT VEHICLE", "vehicle_theft"),
    ("fraud", r" FRAUD| FORGERY| COUNTERFEIT| IDENTITY| SCAM| BUNCO", "fraud"),
    ("burglary", r" BURGLARY | BREAK IN", "burglary"),
    ("theft", r" THEFT | SHOPLIFT| STOLEN | LARCENY| EMBEZZLE| CAR PROWL", "theft"),
    ("property damage", r" VANDALISM| CRIMINAL MISCHIEF| DAMAGE | GRAFFITI| PROPERTY DEST", "property_damage"),
    ("drug sale", r" (DRUG|NARCOTICS|MARIJUANA|COCAINE|HEROIN) .*(SALE|SALES|SELL|SELLING|DEAL|DELIVERY)"
     r"| OPEN AIR DRUG", "drug_sale"),
    ("drugs", r" NARCOTICS | DRUG | MARIJUANA| COCAINE| HEROIN| CONTROLLED SUBSTANCE| PARAPHERNALIA",
     "drug_use"),
    ("intoxicated person", r" INTOXICATED PERSON| DRUNK | PUBLIC INTOXICATION| INTOXICATED SUBJECT",
     "intoxicated_person"),
    ("liquor", r" LIQUOR | ALCOHOL| OPEN CONTAINER", "liquor_violation"),
    ("intoxicated", r" INTOXICATED | INTOXICATION ", "intoxicated_person"),
    ("trespass", r" TRESPASS | UNWANTED ", "trespass_unwanted"),
    ("prostitution", r" PROSTITUT| VICE ", "prostitution"),
    ("indecency", r" INDECEN| LEWD| EXPOSURE| URINAT", "indecency"),
    ("panhandling", r" PANHANDL| SOLICITING | SOLICITATION ", "panhandling"),
    ("welfare check", r" WELFARE | WELL CHECK | PERSON DOWN| DOWN PERSON", "welfare_check"),
    ("lockout", r" LOCK (IN|OUT)| LOCKOUT| LOCKED ", "lockout"),
    ("keep the peace", r" KEEP PEACE| STANDBY | CIVIL | ESCORT", "keep_the_peace"),
    ("assist motorist", r" MOTORIST| DISABLED VEHICLE| STALLED", "assist_motorist"),
    ("follow-up", r" FOLLOW UP | FOLLOWUP | SUPPLEMENTAL| CALLBACK | CALL BACK ", "follow_up"),
    ("verbal disturbance", r" VERBAL | ARGUMENT", "verbal_disturbance"),
    ("noise", r" NOISE | LOUD | PARTY ", "noise_complaint"),
    ("harassment", r" HARASSMENT | THREAT | THREATENING | STALKING ", "harassment"),
    ("encampment", r" ENCAMPMENT| CAMP | CAMPING | HOMELESS ", "encampment"),
    ("sleeping", r" SLEEPING ", "sleeping_in_public"),
    ("loitering", r" LOITER", "loitering"),
    ("suspicious vehicle", r" SUSPICIOUS VEHICLE", "suspicious_vehicle"),
    ("suspicious person", r" SUSPICIOUS PERSON| PROWLER | WANTED PERSON", "suspicious_person"),
    ("suspicious", r" SUSPICIOUS | SUSPICION ", "suspicious_circumstances"),
    ("disturbance", r" DISTURBANCE | FIGHT | NUISANCE | DISORDERLY | MISCHIEF | RIOT ", "disturbance"),
    ("death", r" DEATH | DECEASED | DOA | BODY ", "deceased_person"),
    ("traffic stop", r" (TRAFFIC|VEHICLE|BICYCLE) STOP ", "traffic_stop"),
    ("traffic", r" TRAFFIC | PARKING | PARKED | ROAD | BLOCKAGE| SPEEDING| ABANDONED VEHICLE| TOW ",
     "traffic_hazard"),
    ("officer activity", r" PREMISE CHECK| PATROL | OFFICER INITIATED| ADMINISTRATIVE | DETAIL | OFF DUTY"
     r"| PRISONER| TRANSPORT | MESSAGE | BULLETIN| INVESTIGATION| TRAINING| WALK IN | REQUEST WATCH"
     r"| CRIME PREVENTION| PREDICTIVE| BOLO | ONVIEW ", "administrative"),
    ("assist person", r" ASSIST PUBLIC| PUBLIC SERVICE| ASSIST CITIZEN| CITIZEN ASSIST| ASSIST PERSON",
     "assist_person"),
)  # fmt: skip

# When no incident-type rule fits (or the safety guard refused the ones that did): a type that no
# unarmed team is sent to on its own, so an unknown call is never routed to one by default.
CATEGORY_DEFAULT_TYPES: dict[str, str] = {
    "Accidents/Traffic Safety": "traffic_hazard",
    "Alarms": "alarm",
    "Call Related Issues": "hang_up_911",
    "Complaints/Environmental Conditions": "disturbance",
    "Domestic Violence": "domestic_violence",
    "Drugs": "drug_use",
    "Fire": "fire",
    "Liquor Violations": "liquor_violation",
    "Medical Emergencies": "medical_emergency",
    "Missing Persons": "missing_person",
    "Officer Needs Help": "officer_needs_help",
    "Property Crime": "theft",
    "Statuses": "administrative",
    "Suspicion": "suspicious_circumstances",
    "Violent Crime": "assault",
    "Warrants": "warrant_service",
}

# Words that mean a weapon, violence, an overdose or a threat to life come from the call-type words file
# (the city's crosswalks/call_type_words.yaml, section `danger`). Read on the whole call type, negations included:
# "(NO WEAPONS)" still keeps the call away from unarmed teams (unknown is never no).


def _danger_text(raw: str, *, drop_negated: bool = False) -> tuple[str, CallTypeWords]:
    words = call_type_words()
    text = padded(plain_words(raw, keep_filler=True, drop_negated=drop_negated))
    if words.not_danger is not None:
        text = words.not_danger.sub(" ", text)
    return text, words


def danger_words(raw: str) -> list[str]:
    """Weapon / violence / overdose / threat-to-life words found in a raw call type (empty when none)."""
    text, words = _danger_text(raw)
    return [match.group(0) for match in words.any_danger.finditer(text)]


def danger_kinds(raw: str) -> dict[str, tuple[str, ...]]:
    """The kinds of danger a call type names, with the words that name them (``{"weapon": ("KNIFE",)}``).

    Words after NO / WITHOUT are left out here: "NO WEAPONS" is not a report of a weapon (it still keeps the
    unarmed-team incident types away, see ``danger_words``).
    """
    text, words = _danger_text(raw, drop_negated=True)
    found = {kind: tuple(dict.fromkeys(m.group(0) for m in pattern.finditer(text)))
             for kind, pattern in words.danger.items()}
    return {kind: found_words for kind, found_words in found.items() if found_words}


POLICE_CATEGORIES = frozenset({"Violent Crime", "Domestic Violence", "Officer Needs Help"})
