from functools import lru_cache

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every setting has a default, so the service starts with none given."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    database_url: str = "sqlite:///./campaign.db"
    # Concurrent SQLite writers wait this long for the lock instead of failing at once.
    sqlite_busy_timeout_ms: int = 5000
    log_level: str = "INFO"


@lru_cache
def get_settings() -> Settings:
    return Settings()
