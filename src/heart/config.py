"""Settings read from the environment (prefix ``HEART_``), validated once."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from heart.db import SqliteSynchronous

DEVELOPMENT_SECRET_KEY = "development-only-secret-key-do-not-use-in-production"
SOURCE_ROOT = Path(__file__).resolve().parents[2]


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
    timezone: str = "America/New_York"
    policies_dir: Path = SOURCE_ROOT / "policies"
    resources_dir: Path = SOURCE_ROOT / "cities" / "durham" / "resources"  # needs map, demo HSDS directory
    care_navigation_file: Path = SOURCE_ROOT / "cities" / "durham" / "care_navigation.yaml"  # follow-up rules
    desk_file: Path = SOURCE_ROOT / "cities" / "durham" / "desk.yaml"  # incident numbers, notes, out of service
    shared_data: Path = SOURCE_ROOT.parent / "shared" / "data"
    vendor_dir: Path = SOURCE_ROOT / "node_modules"
    chromium_path: Path = Path("/usr/bin/chromium")
    map_tiles_url: str = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    log_level: str = "INFO"
    max_body_bytes: int = Field(default=2**20, ge=1024)  # a request body over this gets 413 (heart.body_limit)
    max_eido_body_bytes: int = Field(default=5 * 2**20, ge=1024)  # ... and over this on POST /api/eido
    # SQLite's fsync discipline (see heart.db.make_engine): FULL in production, so that an acknowledged write
    # survives a power cut; NORMAL in development and tests, which survives a crash of HEART but not of the
    # machine. Unset means that default for the environment.
    sqlite_synchronous: SqliteSynchronous | None = None

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
