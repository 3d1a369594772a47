"""The city's demo program (``HEART_CITY``: Durham's by default, Riverton's …): its configuration, staff, one login
per role, and a simulated history.

- ``calibration`` the city's demo model (``scenarios/model.yaml`` and ``demo.yaml``); ``simulate`` a year of calls
  decided by the real policy; ``history`` written in bulk; ``care`` follow-ups as they stand; ``pilots`` the case
  programs' staff and cases; ``familiar`` neighbors as people; ``setup`` programs, crews, logins;
  ``cli`` ``heart demo``.
"""
