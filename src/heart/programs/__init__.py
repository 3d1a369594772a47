"""A city's programs, units, crews and shifts, and which units are free now.

- ``models``; ``schemas`` (the configuration file's shape); ``service`` configuration loading, duty, and
  availability (``available_units``, ``unit_availability``); ``shifts`` schedules; ``scheduled`` the shift
  schedule the app runs every few seconds; ``api`` ``/api/programs``, ``/api/units``; ``pages`` units & shifts.
"""
