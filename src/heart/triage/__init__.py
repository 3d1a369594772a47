"""Triage: the policy (a versioned YAML document), the engine that decides, and the decisions on record.

- ``policy`` the policy model and loader (rules only, naming the city's programs by code: ``heart.city.programs``);
  ``engine`` the pure decision; ``safety`` the exclusion check before an unarmed team; ``compiler`` the policy as
  one vectorized expression; ``replay`` a policy over CAD history;
- ``models`` decisions and stored policy texts; ``schemas`` (the one ``DecisionPublic``); ``service`` records every
  decision (the policy's, a re-decision, an override, a fallback) through one policy-version check, and the
  call-taker's next steps; ``flows`` a changed fact: recorded, decided again, the team alerted;
- ``explain`` "Why didn't HEART come?"; ``api``; ``pages`` a call's triage screen; ``cli`` ``heart triage``.
The call-type vocabulary it reads is ``heart.crosswalk``.
"""
