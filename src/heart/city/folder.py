"""Which city HEART serves, and where each part of its configuration is.

A city is a folder, ``cities/<name>/``, holding a ``city.yaml``::

    name: Durham                      # shown on pages and in reports
    timezone: America/New_York        # the city's local time (programs, policy, pages)
    parts:                            # optional: a part kept somewhere else than PARTS says (relative to the folder)
      programs: programs.yaml

``HEART_CITY`` names the city (a folder under ``cities/``: ``durham``, the default, or ``riverton``) or gives a path
to a city folder anywhere. ``city_part("policies")`` is where one part of the city in force is: an override setting
of ``OVERRIDES`` when it is set (``HEART_POLICIES_DIR`` …, so every existing setting keeps working), else the folder's
``city.yaml`` ``parts``, else ``PARTS``. The settings (``heart.config.Settings``) use it as their defaults.

Files that are not one city's (import profiles of other cities' CAD data and the Vera Institute's crosswalks of their
call types) live at the top of the repository in ``cad/`` (``CAD_DIR``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from heart.yamlfile import YamlFileError, read_yaml

SOURCE_ROOT = Path(__file__).resolve().parents[3]
"""The repository (or the folder the package was installed from): where ``cities/`` and ``cad/`` are."""
CITIES_DIR = SOURCE_ROOT / "cities"
CAD_DIR = SOURCE_ROOT / "cad"
"""Not one city's: ``cad/profiles`` (import profiles of CAD histories) and ``cad/crosswalks`` (reviewed crosswalks)."""
DEFAULT_CITY = "durham"
CITY_FILE = "city.yaml"

PARTS: dict[str, str] = {
    "programs": "programs.yaml",            # programs (kind, hours, crew roles, vocabularies), units, staff
    "policies": "policies",                 # the triage policy (rules only) and its older versions
    "crosswalks": "crosswalks",             # the city's call-type words (call_type_words.yaml)
    "care_navigation": "care_navigation.yaml",  # follow-ups, case programs, familiar neighbors
    "resources": "resources",               # needs → HSDS taxonomy (needs.yaml) and the demo resource directory
    "scenarios": "scenarios",               # capacity scenarios and the model of demand (model.yaml)
    "demo": "demo.yaml",                    # what the demo's simulated history needs beyond the model
    "public": "public",                     # the public site's texts
    "places": "places.yaml",                # named places of the city
    "map": "map",                           # the city's map layers
    "addresses": "addresses",               # address points
    "desk": "desk.yaml",                    # the call-taker's desk
}
"""Each part of a city and where it is, relative to the city's folder, unless its ``city.yaml`` says otherwise."""

OVERRIDES: dict[str, str] = {
    "programs": "HEART_PROGRAMS_FILE",
    "policies": "HEART_POLICIES_DIR",
    "crosswalks": "HEART_CROSSWALKS_DIR",
    "care_navigation": "HEART_CARE_NAVIGATION_FILE",
    "resources": "HEART_RESOURCES_DIR",
    "scenarios": "HEART_SCENARIOS_DIR",
    "public": "HEART_PUBLIC_DIR",
    "places": "HEART_PLACES_FILE",
    "desk": "HEART_DESK_FILE",
}
"""Settings that point one part of the city elsewhere (a test's copy, a trial policy); unset, the city decides."""


class CityError(YamlFileError):
    """A city that cannot be used: an unknown name, a missing or malformed ``city.yaml``."""


@dataclass(frozen=True, slots=True, eq=False)  # one object per read of the file: hashed by identity
class CitySettings:
    """A city's ``city.yaml``."""

    folder: Path
    key: str
    """the folder's name (``durham``): what names the city in file names (``heart-<key>.db``) and scenarios"""
    name: str
    timezone: str
    parts: dict[str, str] = field(default_factory=dict)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def part(self, part: str) -> Path:
        """Where ``part`` of this city is (no override applies here)."""
        if part not in PARTS:
            raise KeyError(f"unknown part of a city {part!r} (known: {', '.join(PARTS)})")
        return self.folder / self.parts.get(part, PARTS[part])


def city_dir(city: str | None = None) -> Path:
    """The folder of ``city`` (a name under ``cities/`` or a path), by default the one ``HEART_CITY`` names."""
    return _folder(_chosen(city))


def _chosen(city: str | None) -> str:
    return city if city is not None else (os.environ.get("HEART_CITY") or DEFAULT_CITY)


@lru_cache(maxsize=32)
def _folder(chosen: str) -> Path:
    """A city's folder, found once per name (every decision asks where the policy is: this keeps it cheap)."""
    if "/" in chosen or chosen.startswith("."):
        return Path(chosen).resolve()
    folder = CITIES_DIR / chosen
    if not folder.is_dir():
        known = sorted(p.name for p in CITIES_DIR.iterdir() if (p / CITY_FILE).is_file()) if CITIES_DIR.is_dir() else []
        raise CityError(CITIES_DIR, None, f"there is no city named {chosen!r} (known: {', '.join(known) or 'none'}; "
                                          "HEART_CITY may also be the path of a city folder)")
    return folder


@lru_cache(maxsize=32)
def _city_file(chosen: str) -> tuple[Path, str]:
    path = _folder(chosen) / CITY_FILE
    return path, str(path)


def city_settings(city: str | None = None) -> CitySettings:
    """The ``city.yaml`` of ``city`` (default: ``HEART_CITY``), read again when it changes."""
    path, name = _city_file(_chosen(city))
    try:
        stamp = os.stat(name).st_mtime_ns
    except OSError:
        stamp = -1  # _read names the missing file
    return _read(path, stamp)


@lru_cache(maxsize=16)
def _read(path: Path, _stamp: int) -> CitySettings:
    document = read_yaml(path)
    data = document.data
    if not isinstance(data, dict):
        raise CityError(path, document.line_of(()), "a city.yaml is a mapping with name, timezone and parts")
    unknown = sorted(set(data) - {"name", "timezone", "parts"})
    if unknown:
        raise CityError(path, document.line_of((unknown[0],)), f"{unknown[0]}: unknown key (a city.yaml has name, "
                                                               "timezone and parts)")
    for key in ("name", "timezone"):
        if not isinstance(data.get(key), str) or not data[key].strip():
            raise CityError(path, document.line_of((key,)), f"{key}: required, a text")
    try:
        ZoneInfo(data["timezone"])
    except (ZoneInfoNotFoundError, ValueError):
        raise CityError(path, document.line_of(("timezone",)),
                        f"timezone: unknown time zone {data['timezone']!r} (a name like America/New_York)") from None
    parts = data.get("parts") or {}
    if not isinstance(parts, dict):
        raise CityError(path, document.line_of(("parts",)), "parts: a mapping of part → path in the city's folder")
    for part, where in parts.items():
        if part not in PARTS:
            raise CityError(path, document.line_of(("parts", part)),
                            f"parts.{part}: unknown part (known: {', '.join(PARTS)})")
        if not isinstance(where, str) or Path(where).is_absolute() or ".." in Path(where).parts:
            raise CityError(path, document.line_of(("parts", part)),
                            f"parts.{part}: a path inside the city's folder")
    return CitySettings(folder=path.parent, key=path.parent.name, name=data["name"].strip(),
                        timezone=data["timezone"], parts=dict(parts))


def city_part(part: str, city: str | None = None) -> Path:
    """Where ``part`` of the city in force (or of ``city``) is: its override setting (``OVERRIDES``) when set, else
    the city's."""
    if part not in PARTS:
        raise KeyError(f"unknown part of a city {part!r} (known: {', '.join(PARTS)})")
    override = os.environ.get(OVERRIDES.get(part, ""), "")
    if override:
        return _path(override)
    return _part(city_settings(city), part)


@lru_cache(maxsize=64)
def _path(text: str) -> Path:
    return Path(text)


@lru_cache(maxsize=256)
def _part(settings: CitySettings, part: str) -> Path:
    return settings.part(part)
