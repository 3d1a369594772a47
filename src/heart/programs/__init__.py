"""The programs HEART runs, their units, crews and shifts, and which units are free now.

A city writes its programs in ``cities/<city>/programs.yaml`` (THE program type and its reading:
``heart.city.programs``); this package keeps the ones HEART runs (field, phone, case) in the database and operates them.

- ``models``; ``schemas`` (the admin API's shapes); ``service`` configuration loading, duty, and
  availability (``available_units``, ``unit_availability``); ``shifts`` schedules; ``scheduled`` the shift
  schedule the app runs every few seconds; ``api`` ``/api/programs``, ``/api/units``; ``pages`` units & shifts.
"""
