from functools import lru_cache
from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Settings(BaseSettings):
    """Every setting has a default, so the service starts with none given."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    database_url: str = "sqlite:///./campaign.db"
    # Concurrent SQLite writers wait this long for the lock instead of failing at once.
    sqlite_busy_timeout_ms: int = 5000
    # PostgreSQL: a request's statement running longer is cancelled and answered 503, so one
    # slow query cannot hold a worker and a connection for ever. 0: no limit.
    statement_timeout_ms: int = Field(default=30_000, ge=0)
    # PostgreSQL: work_mem for the member-counting reports' transactions (SET LOCAL): at the
    # server's default, 4 MB, their member figures spill to temporary files from about ten
    # times the seed (some 45 MB of them there). Like work_mem itself it is a ceiling per
    # sort or hash node and per parallel worker (hashes may take hash_mem_multiplier times
    # it), taken only as far as the data needs: size it against the server's memory and the
    # reports that may run at once. 0: the server's own setting.
    report_work_mem_mb: int = Field(default=64, ge=0, le=2048)
    log_level: str = "INFO"
    # Browser origins (mobile web front-ends) allowed to call the API cross-origin, e.g.
    # CORS_ORIGINS=https://m.example.cn,https://h5.example.cn. Empty: CORS off.
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # Signs access tokens. Unset, a key is generated once and kept in the database, so that
    # every worker process agrees; set it to rotate keys or to share one across databases.
    secret_key: SecretStr | None = Field(default=None, min_length=32)
    # A working day: a secretary logs in once a day on the phone.
    access_token_minutes: int = 8 * 60
    # Failed logins per username within the window before further attempts are refused.
    login_max_failures: int = 5
    login_failure_window_minutes: int = 15

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value


@lru_cache
def get_settings() -> Settings:
    return Settings()
