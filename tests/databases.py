"""Fresh, empty databases for tests, on the backend TEST_DATABASE_URL names.

TEST_DATABASE_URL unset or ``sqlite`` means a SQLite file in a temporary folder; a
PostgreSQL URL names a server on which throwaway databases are created and dropped.
"""

import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url


def backend_url() -> str:
    return os.environ.get("TEST_DATABASE_URL", "sqlite")


@contextmanager
def fresh_database() -> Iterator[str]:
    """Yields the URL of a new, empty database, and removes it afterwards."""
    url = backend_url()
    if url.startswith("sqlite"):
        with tempfile.TemporaryDirectory(prefix="campaign-test-") as folder:
            yield f"sqlite:///{Path(folder) / 'test.db'}"
        return
    with throwaway_postgres(url) as pg_url:
        yield pg_url


@contextmanager
def throwaway_postgres(server_url: str, prefix: str = "campaign_test") -> Iterator[str]:
    """A new, empty database on the server ``server_url`` names; dropped afterwards."""
    server = make_url(server_url)
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        try:
            yield server.set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        admin.dispose()


@contextmanager
def migrated_database(kind: str, pg_server: str, prefix: str = "campaign_bench") -> Iterator[str]:
    """For benchmarks: a fresh database of ``kind`` (sqlite or postgresql) at the newest
    migration; removed afterwards."""
    from app.migrate import upgrade

    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix=f"{prefix}-") as folder:
            url = f"sqlite:///{Path(folder) / 'bench.db'}"
            upgrade(url)
            yield url
        return
    with throwaway_postgres(pg_server, prefix=prefix) as url:
        upgrade(url)
        yield url
