"""A database and a real multi-worker server of the module's own: the tests here are about
processes sharing a database, which TestClient (one process, in-process) cannot show."""

import secrets
from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine

from app.db import create_db_engine
from app.migrate import upgrade
from tests.databases import backend_url, fresh_database
from tests.server import Server, running_server

on_postgres = backend_url().startswith("postgresql")


@pytest.fixture(scope="module")
def database() -> Iterator[str]:
    """A fresh database on the run's backend, migrated to head; dropped after the module."""
    with fresh_database() as url:
        upgrade(url)
        yield url


@pytest.fixture(scope="module")
def db(database: str) -> Iterator[Engine]:
    """The test's own engine on the server's database: to arrange data and to check it."""
    engine = create_db_engine(database)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def secret() -> str:
    """The server's SECRET_KEY: tokens are minted with it, nobody logs in."""
    return secrets.token_urlsafe(48)


@pytest.fixture(scope="module")
def server(database: str, secret: str) -> Iterator[Server]:
    """``campaign serve --workers 2`` on the module's database."""
    with running_server(database, 2, secret) as s:
        yield s
