"""The raw side of ingest.py: the same sets for the same sessions, written with psycopg
alone (no API, no checks, no totals, no audit), the limit the API is held against."""

import threading
from decimal import Decimal
from time import perf_counter

import psycopg

from bench.ingest_runs import SESSION_HOURS, Worker, Workload, in_turn
from bench.measure import Run
from bench.workload import STATUSES, records

INSERT = (
    "INSERT INTO attendance (session_id, member_id, status, hours, credited, is_guest) "
    "VALUES (%s, %s, %s, %s, %s, %s)"
)
DELETE = "DELETE FROM attendance WHERE session_id = %s"
# What the API's write does with a set whose every record changed: update each in place.
UPSERT = (
    INSERT + " ON CONFLICT (session_id, member_id) DO UPDATE SET status = excluded.status, "
    "hours = excluded.hours, credited = excluded.credited, is_guest = excluded.is_guest"
)
RAW_KINDS = {
    "replace": "raw delete+insert",  # the set's rows deleted, the new set inserted
    "upsert": "raw upsert",  # the new set upserted over the old rows
}


def raw_worker(
    dsn: str, workload: Workload, threads: int, turns: dict[str, int], kind: str
) -> Worker:
    """The same sets written with psycopg alone, one transaction each: ``replace`` deletes
    the session's rows and executemanys its new set (psycopg 3 pipelines the statements);
    ``upsert`` executemanys the set as INSERT ... ON CONFLICT DO UPDATE, as the API writes
    changed records (without the API's reading, checking, totals and audit)."""
    rows_of: dict[tuple[str, int], list[tuple]] = {}

    def rows(session_id: str, branch_id: int, turn: int) -> list[tuple]:
        key = (session_id, turn % len(STATUSES))
        if key not in rows_of:
            members = workload.branch_members[branch_id]
            rows_of[key] = [
                (session_id, m, s, None, SESSION_HOURS if s != "absent" else Decimal(0), False)
                for m, s in records(members, turn)
            ]
        return rows_of[key]

    def worker(
        n: int, barrier: threading.Barrier, deadline: list[float], stop: threading.Event, run: Run
    ) -> None:
        # The clients' layout: thread n writes the sessions of clients n, n + threads, ...
        own = [s for c, mine in enumerate(workload.sessions) if c % threads == n for s in mine]
        if not own:
            raise RuntimeError(f"{threads} raw threads, only {len(workload.sessions)} clients")
        with psycopg.connect(dsn) as conn, conn.cursor() as cursor:
            barrier.wait()
            for session_id, branch_id, turn in in_turn(own, turns, stop, deadline):
                batch = rows(session_id, branch_id, turn)
                started = perf_counter()
                try:
                    with conn.transaction():
                        if kind == "replace":
                            cursor.execute(DELETE, (session_id,))
                        cursor.executemany(UPSERT if kind == "upsert" else INSERT, batch)
                except psycopg.Error as exc:
                    run.outcomes[type(exc).__name__] += 1
                    run.first_error = run.first_error or repr(exc)
                    continue
                run.latencies.append(perf_counter() - started)
                run.outcomes["ok"] += 1

    return worker
