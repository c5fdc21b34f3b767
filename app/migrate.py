"""Alembic, driven from code: the CLI, readiness and the tests all use these."""

from functools import lru_cache
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from app.config import get_settings

_PACKAGE = Path(__file__).resolve().parent


def _find(name: str) -> Path:
    # Inside an installed wheel the files sit in the package; in a checkout, beside it.
    for candidate in (_PACKAGE / name, _PACKAGE.parent / name):
        if candidate.exists():
            return candidate
    raise FileNotFoundError(f"{name} not found beside the app package")


def alembic_config(url: str | None = None) -> Config:
    cfg = Config(str(_find("alembic.ini")))
    cfg.set_main_option("script_location", str(_find("migrations")))
    cfg.set_main_option("sqlalchemy.url", url or get_settings().database_url)
    return cfg


def upgrade(url: str | None = None, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


@lru_cache
def script_heads() -> frozenset[str]:
    return frozenset(ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads())


def database_at_head(engine: sa.Engine) -> tuple[bool, str]:
    """(ready, why not): the database answers and its schema is the code's newest."""
    try:
        with engine.connect() as conn:
            current = frozenset(MigrationContext.configure(conn).get_current_heads())
    except sa.exc.SQLAlchemyError as exc:
        return False, f"database unreachable ({type(exc).__name__})"
    if current != script_heads():
        return False, "database schema is not at the newest migration; run `campaign migrate`"
    return True, ""
