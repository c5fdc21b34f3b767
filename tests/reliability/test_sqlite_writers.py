"""SQLite under concurrent writers: four worker processes of a real server on one SQLite
file, each fed by its own client, write attendance as fast as they can for 20 seconds.

SQLite allows one writer at a time. The engine makes each writing request's transaction
BEGIN IMMEDIATE (app/db.py), so a second writer waits at its first statement, instead of
failing with "database is locked" when it tries to turn a read lock into a write lock; it
tries again every millisecond up to the busy timeout, because SQLite's own handler, trying
every 100 ms, kept missing the short gaps between the other writers' transactions (waits
of over 3 s seen here with four writers). WAL lets readers go on meanwhile.
"""

import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import httpx
import pytest
import sqlalchemy as sa

from app.config import get_settings
from app.db import create_db_engine, writer
from tests.reliability.conftest import on_postgres
from tests.reliability.world import (
    API,
    as_stored,
    attendance,
    count_rows,
    create_session,
    session_body,
    stored_set,
    study_branch,
    totals_differences,
)
from tests.server import connect_balanced, running_server

pytestmark = pytest.mark.skipif(
    on_postgres, reason="SQLite only; the PostgreSQL run has test_concurrency_postgres.py"
)

WRITERS = 4
DURATION_S = 20.0
SESSIONS_PER_WRITER = 3
POST_EVERY = 8  # every 8th write creates a session with its attendance inline


@pytest.fixture(scope="module")
def server(database: str, secret: str):
    with running_server(database, WRITERS, secret) as s:
        yield s


@dataclass
class Writer:
    """One client's loop and what it saw."""

    client: httpx.Client
    branch_id: int
    members: list[int]
    sessions: list[str]
    last_version: dict[str, int] = field(default_factory=dict)  # acknowledged sets
    created: int = 0
    writes: int = 0
    slowest: float = 0.0  # seconds, of a successful write
    outcomes: Counter = field(default_factory=Counter)  # failures: status or exception
    first_failure: str | None = None

    def run(self, start: threading.Barrier, until: list[float], serial: int) -> None:
        start.wait()
        version = 0
        while time.monotonic() < until[0]:
            version += 1
            if version % POST_EVERY == 0:
                body = session_body(self.branch_id, serial + version, attendance(self.members, 0))
                self.call(lambda b=body: self.client.post(f"{API}/sessions", json=b), 201)
                continue
            session_id = self.sessions[version % len(self.sessions)]
            body = {"records": attendance(self.members, version)}
            url = f"{API}/sessions/{session_id}/attendance"
            if self.call(lambda u=url, b=body: self.client.put(u, json=b), 200):
                self.last_version[session_id] = version

    def call(self, send, expected: int) -> bool:
        started = time.monotonic()
        try:
            answer = send()
        except httpx.HTTPError as exc:
            self.failed(type(exc).__name__, repr(exc))
            return False
        if answer.status_code != expected:
            self.failed(answer.status_code, answer.text[:500])
            return False
        self.writes += 1
        self.slowest = max(self.slowest, time.monotonic() - started)
        self.created += expected == 201
        return True

    def failed(self, what, detail: str) -> None:
        self.outcomes[what] += 1
        self.first_failure = self.first_failure or detail


def test_four_writer_processes_for_20_s_never_see_a_locked_database(db, secret, server):
    world = study_branch(db, secret, members=40)
    clients = connect_balanced(server, world.secretary, WRITERS, WRITERS)
    try:
        # Every writer writes sets of the same members: they share every totals row.
        writers = [
            Writer(
                c,
                world.branch_id,
                world.members,
                [
                    create_session(c, world.branch_id, n * SESSIONS_PER_WRITER + k)
                    for k in range(SESSIONS_PER_WRITER)
                ],
            )
            for n, c in enumerate(clients)
        ]
        start, until = threading.Barrier(WRITERS + 1), []
        threads = [
            threading.Thread(target=w.run, args=(start, until, 1000 * (n + 1)))
            for n, w in enumerate(writers)
        ]
        for t in threads:
            t.start()
        until.append(time.monotonic() + DURATION_S)
        start.wait()
        for t in threads:
            t.join(DURATION_S + 120)
    finally:
        for c in clients:
            c.close()

    writes = sum(w.writes for w in writers)
    failures = sum((w.outcomes for w in writers), Counter())
    print(
        f"\nSQLite, {WRITERS} worker processes, {DURATION_S:.0f} s: {writes} writes "
        f"({writes / DURATION_S:.1f}/s, {sum(w.created for w in writers)} sessions created), "
        f"slowest {max(w.slowest for w in writers):.2f} s, failures {dict(failures)}"
    )
    assert not failures, [w.first_failure for w in writers if w.first_failure]
    assert "locked" not in server.output()
    assert all(w.writes > 0 for w in writers)  # every process really wrote
    for w in writers:
        for session_id, version in w.last_version.items():
            assert stored_set(db, session_id) == as_stored(attendance(w.members, version))
    created = sum(w.created for w in writers) + WRITERS * SESSIONS_PER_WRITER
    assert count_rows(db) == created
    assert totals_differences(db) == []


@pytest.fixture
def short_timeout(tmp_path, monkeypatch):
    """Two engines on one SQLite file, with a busy timeout of 300 ms."""
    monkeypatch.setenv("SQLITE_BUSY_TIMEOUT_MS", "300")
    get_settings.cache_clear()
    url = f"sqlite:///{tmp_path / 'locks.db'}"
    engines = [create_db_engine(url) for _ in range(2)]
    with engines[0].begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (v INTEGER)")
    yield engines
    for e in engines:
        e.dispose()
    get_settings.cache_clear()


def _hold_write_lock(engine, seconds: float, held: threading.Event) -> None:
    with writer(engine).begin() as conn:
        conn.exec_driver_sql("INSERT INTO t VALUES (1)")
        held.set()
        time.sleep(seconds)


def test_a_writer_waits_for_the_lock_then_gives_up_after_the_busy_timeout(short_timeout):
    first, second = short_timeout
    held = threading.Event()
    holder = threading.Thread(target=_hold_write_lock, args=(first, 0.1, held))
    holder.start()
    held.wait(5)
    with writer(second).begin() as conn:  # waits out the 0.1 s, well within 0.3 s
        conn.exec_driver_sql("INSERT INTO t VALUES (2)")
    holder.join()

    held.clear()
    holder = threading.Thread(target=_hold_write_lock, args=(first, 1.0, held))
    holder.start()
    held.wait(5)
    started = time.monotonic()
    with pytest.raises(sa.exc.OperationalError, match="locked"), writer(second).begin():
        pass
    assert 0.25 < time.monotonic() - started < 0.9
    holder.join()
    with second.connect() as conn:  # the connection's own timeout is back after the tries
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 300
        assert conn.exec_driver_sql("SELECT count(*) FROM t").scalar() == 3
