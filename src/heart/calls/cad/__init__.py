"""A CAD's history, imported through a versioned profile, and the baseline of how its agencies answer today.

- ``profiles``  import profiles (``profiles/*.yaml``): a CAD's columns, time formats, zone and crosswalk;
- ``parse``     one CSV row read through a profile into a record, or rejected with file, line, column and why;
- ``importer``  streamed, chunked, idempotent import (and the same checks writing nothing);
- ``baseline``  per-agency figures of imported history, through the dashboard's metric definitions;
- ``cli``       ``heart cad profiles | check | import | baseline``.
"""
