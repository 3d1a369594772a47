"""Calls for service: intake on every path, screening answers, the call's record and its pages.

- ``models`` calls and imported CAD records; ``schemas``; ``service`` create a call, record answers and changes
  (the call type is read by ``heart.crosswalk.mapper``, the same on every path);
- ``api`` ``/api/calls``, ``/api/call-types/read``; ``pages`` the intake screen (``/calls/new``), the call list and
  a call's full story; ``eido`` / ``eido_api`` NENA EIDO documents;
- ``cad/`` a CAD's history imported through a profile (``heart cad``).
"""
