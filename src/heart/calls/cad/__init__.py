"""A CAD's history, imported through a versioned profile.

- ``profiles``  import profiles (``cad/profiles/*.yaml``): a CAD's columns, time formats, zone and crosswalk;
- ``parse``     one CSV row read through a profile into a record, or rejected with file, line, column and why;
- ``columns``   a file read a block of rows at a time and converted a column at a time (Arrow, NumPy), each row
                answered as ``parse`` answers it (rows it cannot settle are read by ``parse``);
- ``importer``  streamed, chunked, idempotent import — ``executemany`` on SQLite, ``COPY`` on PostgreSQL — (and the
                same checks writing nothing);
- ``cli``       ``heart cad profiles | check | import | baseline`` (the baseline's figures: ``heart.metrics.baseline``,
                the dashboard's definitions over the imported rows).
"""
