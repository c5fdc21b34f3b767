"""Crash safety: the server is killed with SIGKILL while clients stream attendance writes,
then started again on the same database. Every write that was answered 2xx must be there,
and every set must be whole: the one last acknowledged, or the one in flight at the kill
(it may have committed before its answer could leave), never a mix, never a partial set.
Runs on the test run's backend: a SQLite file, or a PostgreSQL database.
"""

import random
import threading
import time
import uuid
from dataclasses import dataclass, field

import httpx

from tests.reliability.world import (
    API,
    as_stored,
    attendance,
    attendance_audits,
    create_session,
    session_body,
    study_branch,
    totals_differences,
)
from tests.server import connect_balanced, running_server

PUT_STREAMS = 3
STREAM_S = 2.0  # at least this long, and at least MIN_ACKS per stream, before the kill
MIN_ACKS = 3
MEMBERS = 40


@dataclass
class Stream:
    """What one client sent and what it was told. Its requests go one after the other, so
    at most one is in flight when the server dies."""

    acked: list = field(default_factory=list)  # versions (PUT) or session ids (POST)
    in_flight: object = None
    unexpected: list[str] = field(default_factory=list)  # answers neither 2xx nor a cut

    def send(self, what, call, expected: int) -> bool:
        self.in_flight = what
        try:
            answer = call()
        except httpx.TransportError:
            return False  # the server is gone; ``what`` may or may not have committed
        if answer.status_code != expected:
            self.unexpected.append(f"{answer.status_code} {answer.text[:300]}")
            return False
        self.acked.append(what)
        self.in_flight = None
        return True


def put_stream(client: httpx.Client, session_id: str, members: list[int], log: Stream) -> None:
    version = 0  # the session was created with version 0 inline
    while True:
        version += 1
        body = {"records": attendance(members, version)}
        url = f"{API}/sessions/{session_id}/attendance"
        if not log.send(version, lambda u=url, b=body: client.put(u, json=b), 200):
            return


def post_stream(client: httpx.Client, branch_id: int, members: list[int], log: Stream) -> None:
    n = 100
    while True:
        n += 1
        session_id = uuid.uuid4()
        body = session_body(branch_id, n, attendance(members, n), client_id=session_id)
        if not log.send(
            (str(session_id), n), lambda b=body: client.post(f"{API}/sessions", json=b), 201
        ):
            return


def test_sigkill_mid_stream_loses_no_acknowledged_write_and_leaves_no_half_set(
    database, db, secret
):
    world = study_branch(db, secret, members=MEMBERS)
    members = world.members
    puts = [Stream() for _ in range(PUT_STREAMS)]
    posts = Stream()

    with running_server(database, 2, secret) as server:
        clients = connect_balanced(server, world.secretary, PUT_STREAMS + 1, 2)
        sessions = [
            create_session(clients[0], world.branch_id, n, attendance(members, 0))
            for n in range(PUT_STREAMS)
        ]
        threads = [
            threading.Thread(target=put_stream, args=(c, s, members, log), daemon=True)
            for c, s, log in zip(clients[:PUT_STREAMS], sessions, puts, strict=True)
        ]
        threads.append(
            threading.Thread(
                target=post_stream, args=(clients[-1], world.branch_id, members, posts), daemon=True
            )
        )
        for t in threads:
            t.start()
        started = time.monotonic()
        while time.monotonic() - started < 60 and (
            time.monotonic() - started < STREAM_S
            or any(len(s.acked) < MIN_ACKS for s in (*puts, posts))
        ):
            time.sleep(0.05)
        time.sleep(random.uniform(0, 0.3))  # anywhere in a request's life
        server.kill()
        for t in threads:
            t.join(30)
        for c in clients:
            c.close()

    acknowledged = sum(len(s.acked) for s in (*puts, posts))
    cut = sum(s.in_flight is not None for s in (*puts, posts))
    assert not any(s.unexpected for s in (*puts, posts)), [s.unexpected for s in (*puts, posts)]
    assert all(len(s.acked) >= MIN_ACKS for s in (*puts, posts))

    with (
        running_server(database, 2, secret) as again,
        httpx.Client(base_url=again.base, headers=world.admin, timeout=30) as client,
    ):

        def stored(session_id: str) -> set[tuple[int, str]] | None:
            answer = client.get(f"{API}/sessions/{session_id}")
            if answer.status_code == 404:
                return None
            assert answer.status_code == 200, answer.text
            return as_stored(answer.json()["attendance"])

        committed_in_flight = 0
        for session_id, log in zip(sessions, puts, strict=True):
            found = stored(session_id)
            last = log.acked[-1]
            if found == as_stored(attendance(members, last)):
                writes = len(log.acked)
            else:
                assert log.in_flight is not None, f"session {session_id}: not its last set"
                assert found == as_stored(attendance(members, log.in_flight)), (
                    f"session {session_id}: neither set {last} nor {log.in_flight}, "
                    f"{len(found or ())} records"
                )
                writes, committed_in_flight = len(log.acked) + 1, committed_in_flight + 1
            # One audit row per committed change: the creation's set, then each PUT.
            assert attendance_audits(db, session_id) == 1 + writes

        for session_id, n in posts.acked:
            assert stored(session_id) == as_stored(attendance(members, n))
        if posts.in_flight is not None:
            session_id, n = posts.in_flight
            found = stored(session_id)
            assert found in (None, as_stored(attendance(members, n)))
            committed_in_flight += found is not None

        assert totals_differences(db) == []
        # The database takes writes again: no lock or journal left behind by the dead.
        answer = client.put(
            f"{API}/sessions/{sessions[0]}/attendance",
            json={"records": attendance(members, 999)},
        )
        assert answer.status_code == 200, answer.text

    print(
        f"\ncrash ({db.dialect.name}): {acknowledged} writes acknowledged before SIGKILL, all "
        f"present; {cut} in flight, of which {committed_in_flight} committed whole, the rest "
        f"absent whole"
    )
