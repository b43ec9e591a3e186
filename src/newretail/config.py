"""Settings from NEWRETAIL_* environment variables; every path lives under NEWRETAIL_HOME."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

Engine = Literal["duckdb", "spark"]


class Settings(BaseSettings):
    """One place for configuration; read once through :func:`get_settings`."""

    model_config = SettingsConfigDict(env_prefix="NEWRETAIL_", extra="ignore")

    home: Path = Path(".newretail")
    engine: Engine = "duckdb"
    secret_key: SecretStr | None = None
    demo: bool = False
    # The OLTP store; None means a SQLite file in NEWRETAIL_HOME. Secret: a server URL holds a password.
    database_url: SecretStr | None = None
    session_max_age_minutes: int = Field(default=12 * 60, gt=0)
    session_idle_minutes: int = Field(default=30, gt=0)
    # Redis for the event stream, dedupe and real-time counters; unset means the embedded twins.
    redis_url: str | None = None
    # Flash sales, at the door: attempts per person and per client address each second, and callers
    # a sale admits each second (all server processes together) before its waiting room fills.
    flashsale_person_per_second: int = Field(default=5, gt=0)
    flashsale_address_per_second: int = Field(default=50, gt=0)
    flashsale_admit_per_second: int = Field(default=10_000, gt=0)

    @property
    def lake_dir(self) -> Path:
        return self.home / "lake"

    @property
    def key_file(self) -> Path:
        return self.home / "secret.key"

    @property
    def oltp_file(self) -> Path:
        return self.home / "oltp.sqlite3"

    @property
    def index_dir(self) -> Path:
        """The tag snapshots (bitmap indexes), one directory per entity."""
        return self.home / "index"

    @property
    def exports_dir(self) -> Path:
        """Audience files handed to marketing tools and ad platforms."""
        return self.home / "exports"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings; tests clear the cache with ``get_settings.cache_clear()``."""
    return Settings()
