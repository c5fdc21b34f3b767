"""Concurrent writers on PostgreSQL, through a real server with two worker processes: the
clients' connections are spread over both workers, so every race below crosses processes
and only the database can settle it."""

import threading
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
import sqlalchemy as sa

from app.campaign.models import PhaseMove, UnitProgress
from app.idempotency.service import REPLAYED_HEADER
from app.study.models import StudySession
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
from tests.server import connect_balanced

pytestmark = pytest.mark.skipif(
    not on_postgres,
    reason="PostgreSQL only (TEST_DATABASE_URL is not PostgreSQL); on SQLite, "
    "test_sqlite_writers.py runs the concurrent writers instead",
)

WORKERS = 2


def together(clients: list[httpx.Client], call: Callable[[httpx.Client, int], httpx.Response]):
    """``call(client, n)`` from one thread per client, released at the same moment."""
    start = threading.Barrier(len(clients))

    def run(n: int) -> httpx.Response:
        start.wait()
        return call(clients[n], n)

    with ThreadPoolExecutor(len(clients)) as pool:
        return list(pool.map(run, range(len(clients))))


@pytest.fixture
def clients(server):
    """``clients(headers, count)``: keep-alive clients spread evenly over the workers."""
    made: list[httpx.Client] = []

    def make(headers: dict[str, str], count: int) -> list[httpx.Client]:
        new = connect_balanced(server, headers, count, WORKERS)
        made.extend(new)
        return new

    yield make
    for c in made:
        c.close()


def test_one_idempotency_key_sent_20_times_at_once_creates_one_session(db, secret, clients):
    world = study_branch(db, secret, members=10)
    body = session_body(world.branch_id, 1, attendance(world.members, 0))
    key = str(uuid.uuid4())

    answers = together(
        clients(world.secretary, 20),
        lambda c, _: c.post(f"{API}/sessions", json=body, headers={"Idempotency-Key": key}),
    )

    outcomes = Counter(
        "replayed" if a.headers.get(REPLAYED_HEADER) == "true" else a.status_code for a in answers
    )
    assert outcomes[201] == 1, outcomes
    assert set(outcomes) <= {201, "replayed", 409}, outcomes
    made = [a.json()["id"] for a in answers if a.status_code == 201]
    assert len(set(made)) == 1  # every replay answers the one session created
    assert count_rows(db, StudySession.branch_id == world.branch_id) == 1
    assert stored_set(db, made[0]) == as_stored(attendance(world.members, 0))
    # Sent again once the storm is over: the first answer, replayed.
    again = clients(world.secretary, 1)[0].post(
        f"{API}/sessions", json=body, headers={"Idempotency-Key": key}
    )
    assert again.status_code == 201 and again.headers[REPLAYED_HEADER] == "true"
    assert again.json()["id"] == made[0]


def test_8_attendance_puts_at_once_to_one_branch_lose_nothing(db, secret, clients):
    """Eight sessions of one branch share every member's totals row; three rounds of eight
    simultaneous PUTs (each round moves every record's status) must all count."""
    world = study_branch(db, secret, members=40)
    writers = clients(world.secretary, 8)
    sessions = [create_session(writers[0], world.branch_id, n) for n in range(8)]

    for version in range(1, 4):
        answers = together(
            writers,
            lambda c, n, v=version: c.put(
                f"{API}/sessions/{sessions[n]}/attendance",
                json={"records": attendance(world.members, v + n)},
            ),
        )
        assert [a.status_code for a in answers] == [200] * 8, [a.text for a in answers]

    for n, session_id in enumerate(sessions):
        assert stored_set(db, session_id) == as_stored(attendance(world.members, 3 + n))
    assert totals_differences(db) == []


def test_two_advances_of_one_unit_at_once_exactly_one_moves_it(db, secret, clients):
    """Four units, each raced by two clients on different workers."""
    units = [study_branch(db, secret, members=3, min_hours=0) for _ in range(4)]
    admins = clients(units[0].admin, 2)

    for world in units:
        answers = together(
            admins,
            lambda c, _, u=world.unit_id: c.post(
                f"{API}/units/{u}/advance", json={"to": "evaluation"}
            ),
        )
        assert sorted(a.status_code for a in answers) == [200, 409], [a.text for a in answers]
        assert count_rows(db, PhaseMove.unit_id == world.unit_id, entity=PhaseMove) == 1
        with db.connect() as conn:
            state = conn.scalar(
                sa.select(UnitProgress.state).where(UnitProgress.unit_id == world.unit_id)
            )
        assert state == "evaluation"


def test_sessions_of_one_branch_created_and_deleted_at_once_never_deadlock(db, secret, clients):
    """Creates with attendance, date edits and deletes of one branch's sessions, all at once
    and naming the same members: each writer moves the members' totals and the branch's
    session totals, always in that order, so none waits on another in a cycle (PostgreSQL
    would break one with a deadlock error, a 500). Three rounds of four of each."""
    world = study_branch(db, secret, members=30)
    writers = clients(world.admin, 12)
    live = [
        create_session(writers[0], world.branch_id, n, attendance(world.members, n))
        for n in range(8)
    ]

    for round_ in range(3):
        doomed, moved = live[:4], live[4:8]

        def call(c: httpx.Client, n: int, doomed=doomed, moved=moved, r=round_) -> httpx.Response:
            if n < 4:
                body = session_body(world.branch_id, n + 3, attendance(world.members, n))
                return c.post(f"{API}/sessions", json=body)
            if n < 8:
                day = session_body(world.branch_id, n + r)["held_on"]
                return c.patch(f"{API}/sessions/{moved[n - 4]}", json={"held_on": day})
            return c.delete(f"{API}/sessions/{doomed[n - 8]}")

        answers = together(writers, call)
        statuses = [a.status_code for a in answers]
        assert statuses == [201] * 4 + [200] * 4 + [204] * 4, [a.text for a in answers]
        live = moved + [a.json()["id"] for a in answers[:4]]
    assert count_rows(db, StudySession.branch_id == world.branch_id) == 8
    assert totals_differences(db) == []
