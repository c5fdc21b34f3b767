from functools import lru_cache

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every setting has a default, so the service starts with none given."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    database_url: str = "sqlite:///./campaign.db"
    # Concurrent SQLite writers wait this long for the lock instead of failing at once.
    sqlite_busy_timeout_ms: int = 5000
    log_level: str = "INFO"
    # Signs access tokens. Unset, a key is generated once and kept in the database, so that
    # every worker process agrees; set it to rotate keys or to share one across databases.
    secret_key: SecretStr | None = Field(default=None, min_length=32)
    # A working day: a secretary logs in once a day on the phone.
    access_token_minutes: int = 8 * 60
    # Failed logins per username within the window before further attempts are refused.
    login_max_failures: int = 5
    login_failure_window_minutes: int = 15


@lru_cache
def get_settings() -> Settings:
    return Settings()
