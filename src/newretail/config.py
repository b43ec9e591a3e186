"""Settings from NEWRETAIL_* environment variables; every path lives under NEWRETAIL_HOME."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

Engine = Literal["duckdb", "spark"]


class Settings(BaseSettings):
    """One place for configuration; read once through :func:`get_settings`."""

    model_config = SettingsConfigDict(env_prefix="NEWRETAIL_", extra="ignore")

    home: Path = Path(".newretail")
    engine: Engine = "duckdb"
    secret_key: SecretStr | None = None
    demo: bool = False

    @property
    def lake_dir(self) -> Path:
        return self.home / "lake"

    @property
    def key_file(self) -> Path:
        return self.home / "secret.key"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings; tests clear the cache with ``get_settings.cache_clear()``."""
    return Settings()
