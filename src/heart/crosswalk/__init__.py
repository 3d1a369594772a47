"""The call-type vocabulary: every way a call type is read, in one place.

- ``taxonomy``  HEART's incident types and the Vera categories they belong to;
- ``words``     the city's call-type words file (``cities/<city>/crosswalks/call_type_words.yaml``);
- ``rules``     abbreviations, category and incident-type rules, danger words of a call type;
- ``guard``     the incident types an unarmed team may get, read from the loaded policies;
- ``files``     reviewed crosswalk files (``cad/crosswalks/``) and the CSV shapes around them;
- ``suggester`` suggestions for an unseen CAD's call types (a person reviews them);
- ``mapper``    THE mapper every intake path uses (screen, API, EIDO, CAD import, replay);
- ``reading``   how a screen reads a call type, with the closest types offered while it is unknown;
- ``cli``       ``heart crosswalk suggest | review | from-vera``.
"""
