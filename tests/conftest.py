from collections.abc import Callable, Iterator

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session
from typer.testing import CliRunner

from app.auth.models import User
from app.auth.principal import Role
from app.config import get_settings
from app.db import create_db_engine, get_engine
from app.main import create_app
from app.migrate import upgrade
from app.models import metadata
from tests.auth import factories as auth_factories
from tests.databases import fresh_database


@pytest.fixture(scope="session")
def migrated_url() -> Iterator[str]:
    """One database per test run, built the way production builds it: through Alembic."""
    with fresh_database() as url:
        upgrade(url)
        yield url


@pytest.fixture(scope="session")
def _engine(migrated_url: str) -> Iterator[Engine]:
    engine = create_db_engine(migrated_url)
    yield engine
    engine.dispose()


@pytest.fixture
def engine(_engine: Engine) -> Iterator[Engine]:
    """The test database; every table is emptied after each test, so tests share no data."""
    yield _engine
    _empty_all_tables(_engine)


def _empty_all_tables(engine: Engine) -> None:
    tables = metadata.sorted_tables
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in tables)
            conn.exec_driver_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
        else:
            for table in reversed(tables):
                conn.execute(table.delete())
            if conn.execute(
                sa.text("SELECT name FROM sqlite_master WHERE name='sqlite_sequence'")
            ).first():
                conn.exec_driver_sql("DELETE FROM sqlite_sequence")


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session for arranging data and checking what the API wrote."""
    with Session(engine, expire_on_commit=False) as s:
        yield s


@pytest.fixture
def app(engine: Engine):
    return create_app(engine)


@pytest.fixture
def anon(app) -> Iterator[TestClient]:
    """A client without a token."""
    with TestClient(app) as c:
        yield c


@pytest.fixture
def city_admin(session: Session) -> User:
    return auth_factories.user(session, Role.city_admin, username="city")


@pytest.fixture
def client(app, engine: Engine, city_admin: User) -> Iterator[TestClient]:
    """A client logged in as a city admin, who may do everything."""
    with TestClient(app, headers=auth_factories.bearer(engine, city_admin)) as c:
        yield c


@pytest.fixture
def client_as(app, engine: Engine) -> Iterator[Callable[[User], TestClient]]:
    """``client_as(user)``: a client carrying that user's token."""
    clients: list[TestClient] = []

    def make(user: User) -> TestClient:
        c = TestClient(app, headers=auth_factories.bearer(engine, user))
        clients.append(c)
        return c

    yield make
    for c in clients:
        c.close()


@pytest.fixture
def cli_runner(engine: Engine, migrated_url: str, monkeypatch) -> Iterator[CliRunner]:
    """Runs the ``campaign`` command against the test database."""
    monkeypatch.setenv("DATABASE_URL", migrated_url)
    get_settings.cache_clear()
    get_engine.cache_clear()
    try:
        yield CliRunner()
    finally:
        get_engine().dispose()
        get_engine.cache_clear()
        get_settings.cache_clear()
