"""Settings read from the environment (prefix ``HEART_``), validated once.

Where the city's files are is ``heart.city``'s to say: ``HEART_CITY`` (a name under ``cities/`` or a path; Durham by
default) chooses the city, and each part's setting (``HEART_POLICIES_DIR``, ``HEART_CARE_NAVIGATION_FILE`` …) still
points that one part elsewhere when set (``heart.city.folder.OVERRIDES``).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from heart.city.folder import DEFAULT_CITY, SOURCE_ROOT, city_part, city_settings
from heart.db import SqliteSynchronous

OSM_TILES = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
DEVELOPMENT_SECRET_KEY = "development-only-secret-key-do-not-use-in-production"
__all__ = ["SOURCE_ROOT", "InsecureSettings", "Settings", "get_settings"]


class InsecureSettings(ValueError):
    """A setting that is only acceptable in development was used elsewhere."""


class Settings(BaseSettings):
    """Everything HEART reads from its environment."""

    model_config = SettingsConfigDict(env_prefix="HEART_", extra="ignore")

    env: Literal["production", "development", "test"] = "production"
    database_url: str = "sqlite:///heart.db"
    secret_key: str = DEVELOPMENT_SECRET_KEY
    session_hours: float = 12.0
    cookie_secure: bool | None = None
    city: str = DEFAULT_CITY  # a city under cities/ or the path of a city folder (heart.city.folder)
    timezone: str = Field(default_factory=lambda data: city_settings(data["city"]).timezone)  # its city.yaml's
    programs_file: Path = Field(default_factory=lambda data: city_part("programs", data["city"]))  # programs, units
    policies_dir: Path = Field(default_factory=lambda data: city_part("policies", data["city"]))  # triage policy
    crosswalks_dir: Path = Field(default_factory=lambda data: city_part("crosswalks", data["city"]))  # call types
    resources_dir: Path = Field(default_factory=lambda data: city_part("resources", data["city"]))  # needs, HSDS
    care_navigation_file: Path = Field(default_factory=lambda data: city_part("care_navigation", data["city"]))
    scenarios_dir: Path = Field(default_factory=lambda data: city_part("scenarios", data["city"]))  # model.yaml
    desk_file: Path = Field(default_factory=lambda data: city_part("desk", data["city"]))  # incident numbers, notes…
    # The public site (heart.public): the city's texts, the open-data files' cache, the forms' guards, and how long
    # a resident's contact details are kept after their request or sign-up closed.
    public_dir: Path = Field(default_factory=lambda data: city_part("public", data["city"]))  # its texts
    public_cache_dir: Path = Field(  # one per city: two cities served from one checkout never share figures
        default_factory=lambda data: SOURCE_ROOT / "var" / "public-cache" / Path(data["city"]).name)
    public_cache_minutes: float = Field(default=60.0, ge=0)  # figures and open data are recomputed this often
    public_form_min_seconds: float = Field(default=3.0, ge=0)  # a form sent sooner after it was shown is refused
    public_form_max_hours: float = Field(default=12.0, gt=0)  # a form older than this is shown again, kept
    public_form_limit: int = Field(default=5, ge=1)  # forms one client may send per hour
    engagement_retention_days: int = Field(default=180, ge=1)
    shared_data: Path = SOURCE_ROOT.parent / "shared" / "data"
    vendor_dir: Path = SOURCE_ROOT / "node_modules"
    chromium_path: Path = Path("/usr/bin/chromium")
    # The map's tile source, fetched by HEART and served from /map/tiles (empty: no tiles, the city's outline and
    # beats only). Tests default to none.
    map_tiles_url: str = OSM_TILES
    places_file: Path = Field(default_factory=lambda data: city_part("places", data["city"]))  # duplicates, notes…
    addresses_file: Path = Field(  # the address points the demo loads (a city may ship none)
        default_factory=lambda data: city_part("addresses", data["city"]) / "demo.csv")
    map_outline_file: Path = Field(  # drawn under the map, when the city gives it
        default_factory=lambda data: city_part("map", data["city"]) / "outline.geojson")
    map_beats_file: Path = Field(  # beats: drawn, and a pin's beat, when the city gives them
        default_factory=lambda data: city_part("map", data["city"]) / "beats.geojson")
    geocoder_url: str = ""  # an outside geocoding service ({query} in a Nominatim-style search URL); empty: off
    log_level: str = "INFO"
    max_body_bytes: int = Field(default=2**20, ge=1024)  # a request body over this gets 413 (heart.body_limit)
    max_eido_body_bytes: int = Field(default=5 * 2**20, ge=1024)  # ... and over this on POST /api/eido
    # SQLite's fsync discipline (see heart.db.make_engine): FULL in production, so that an acknowledged write
    # survives a power cut; NORMAL in development and tests, which survives a crash of HEART but not of the
    # machine. Unset means that default for the environment.
    sqlite_synchronous: SqliteSynchronous | None = None

    @model_validator(mode="before")
    @classmethod
    def _no_tiles_in_tests(cls, data: Any) -> Any:
        """Tests never reach the internet: their map has no tile source unless one is given."""
        if isinstance(data, dict) and data.get("env") == "test" and "map_tiles_url" not in data:
            return {**data, "map_tiles_url": ""}
        return data

    @model_validator(mode="after")
    def _refuse_insecure_defaults(self) -> Settings:
        if self.secret_key == DEVELOPMENT_SECRET_KEY and self.env == "production":
            raise InsecureSettings(
                "HEART_SECRET_KEY is the development default; set a long random HEART_SECRET_KEY "
                "or HEART_ENV=development"
            )
        if self.env == "production" and len(self.secret_key) < 32:
            raise InsecureSettings("HEART_SECRET_KEY must be at least 32 characters")
        return self

    @property
    def sqlite_sync(self) -> SqliteSynchronous:
        """The SQLite synchronous mode in force: the setting, or FULL in production and NORMAL elsewhere."""
        if self.sqlite_synchronous is not None:
            return self.sqlite_synchronous
        return "FULL" if self.env == "production" else "NORMAL"

    @property
    def secure_cookies(self) -> bool:
        """Cookies are Secure except in development over plain http, unless set explicitly."""
        if self.cookie_secure is not None:
            return self.cookie_secure
        return self.env == "production"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (tests clear the cache to change them)."""
    return Settings()
