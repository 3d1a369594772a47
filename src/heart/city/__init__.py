"""A city: one folder of configuration, ``cities/<name>/`` (Durham's is the default; ``HEART_CITY`` chooses another).

- ``folder.py``: which city is in force (``HEART_CITY``: a name under ``cities/`` or a path), its ``city.yaml`` (name,
  time zone, where each part is), the table of parts (``PARTS``) and of the settings that still point one part
  elsewhere (``OVERRIDES``), and ``city_part("<part>")``, which the settings use as their defaults.
- ``programs.py``: THE program type (code, name, kind, unarmed, crew roles, hours, safety timers, maximum wait, the
  encounter vocabularies, who sees its cases) and the reading of a city's ``programs.yaml`` (programs, units, staff),
  checked with file, line and field.

This package is part of the base: it imports no domain, and every domain reads its city through it.
"""

from heart.city.folder import CityError, city_dir, city_part, city_settings
from heart.city.programs import CityPrograms, Program, city_programs, load_programs_file

__all__ = ["CityError", "CityPrograms", "Program", "city_dir", "city_part", "city_programs", "city_settings",
           "load_programs_file"]
