"""A CAD's history, imported through a versioned profile.

- ``profiles``  import profiles (``cad/profiles/*.yaml``): a CAD's columns, time formats, zone and crosswalk;
- ``parse``     one CSV row read through a profile into a record, or rejected with file, line, column and why;
- ``importer``  streamed, chunked, idempotent import (and the same checks writing nothing);
- ``cli``       ``heart cad profiles | check | import | baseline`` (the baseline's figures: ``heart.metrics.baseline``,
                the dashboard's definitions over the imported rows).
"""
