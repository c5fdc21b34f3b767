"""Benchmark of attendance PUTs through a real server against a raw psycopg executemany.

    python bench/ingest.py [--duration 30] [--clients 8] [--records 200] [--workers 2]

On a throwaway PostgreSQL database (migrated, seeded with the demo at a small scale, plus a
few large branches made here so that each has enough active members for one set), it starts
``campaign serve --workers N`` as a subprocess, mints a city admin's token and records one
study session per client and large branch through the API. Then ``--clients`` threads, each
with its own keep-alive ``httpx.Client`` and its own sessions, PUT attendance sets of
``--records`` records for ``--duration`` seconds; every PUT moves each record to the next
status (present, late, absent), so every call really replaces rows and moves totals.
Afterwards the running totals are checked against the attendance rows (none may differ).

In the same run, the same rows go to the same sessions with a plain psycopg ``executemany``,
from as many threads as there were clients and from one thread, for the same duration: the
raw limit the API is compared with. Two kinds (``--raw-kinds``): delete the session's rows
and insert the set, as a plain replace does; and upsert the set over the old rows, as the
API itself now writes changed records (which spares PostgreSQL the foreign-key checks of
new rows), so that the API is also held against raw SQL doing the same database work.

Before each timed run the database is vacuumed and analysed. The clients' connections are
spread evenly over the workers, and the CPU time the workers, the database backends and the
clients spent is read from /proc (both Linux only; elsewhere they are skipped)."""

import argparse
import json
import os
import secrets
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from time import perf_counter

import httpx
import psycopg
import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.audit.models import AuditEntry
from app.auth.tokens import issue_token
from app.db import create_db_engine, new_session
from app.demo import DEFAULT_SEED, seed_demo
from app.migrate import upgrade
from app.study import totals
from app.study.models import Attendance
from bench.measure import CpuMeter, Run, WaitSampler
from bench.workload import (
    STATUSES,
    create_large_branches,
    interrupt_on_sigterm,
    records,
    study_days,
    vacuum_analyze,
)
from tests.databases import throwaway_postgres
from tests.server import (
    ServerFailed,
    connect_balanced,
    running_server,
    spread,
)

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
API = "/api/v1"
SESSION_HOURS = Decimal(2)
TARGET_RATIO, TARGET_P95_MS = 0.5, 150.0


# ---------------------------------------------------------------------------- the data


@dataclass(frozen=True)
class Workload:
    """The large branches, their members, and each client's sessions (one per branch)."""

    branch_members: dict[int, list[int]]  # branch id -> the member ids a set names
    sessions: list[list[tuple[str, int]]] = field(default_factory=list)  # per client

    def all_sessions(self) -> list[tuple[str, int]]:
        return [s for own in self.sessions for s in own]


def create_sessions(
    client: httpx.Client,
    clients: int,
    branch_ids: Sequence[int],
    days: Sequence[date],
    per_client: int,
    shared: bool,
) -> list[list[tuple[str, int]]]:
    """Each client's sessions, through POST /sessions; held on varied days so that losing
    an attendance moves members' last attended dates.

    As secretaries work, each client writes ``per_client`` sessions of its own branch
    (clients beyond the branches share them round the table). ``shared``: the worst case
    instead, every client writes one session of every branch, so that all clients move the
    same members' totals at once and queue on their rows."""
    out: list[list[tuple[str, int]]] = []
    n = 0
    for c in range(clients):
        own = []
        mine = branch_ids if shared else [branch_ids[c % len(branch_ids)]] * per_client
        for branch_id in mine:
            body = {
                "branch_id": branch_id,
                "held_on": days[n % len(days)].isoformat(),
                "format": "collective_study",
                "hours": str(SESSION_HOURS),
                "topic": f"压测学习 {c + 1}-{branch_id}",
            }
            n += 1
            answer = client.post(f"{API}/sessions", json=body)
            if answer.status_code != 201:
                raise SystemExit(f"POST /sessions answered {answer.status_code}: {answer.text}")
            own.append((answer.json()["id"], branch_id))
        out.append(own)
    return out


Worker = Callable[[int, threading.Barrier, list[float], threading.Event, Run], None]


def run_threads(
    run: Run,
    worker: Worker,
    duration: float,
    stop: threading.Event,
    probe: Callable[[], object] | None = None,
) -> tuple[Run, object]:
    """Starts ``run.threads`` workers together; each loops until the shared deadline. The
    run lasts from the start to the last call's end. ``probe`` is called once, half way
    through; the run and what it answered are returned."""
    barrier = threading.Barrier(run.threads + 1)
    deadline: list[float] = []  # set before we, the last party, reach the barrier
    ends = [0.0] * run.threads
    lock = threading.Lock()

    def body(n: int) -> None:
        part = Run(run.label, 1, run.rows_per_call)
        try:
            worker(n, barrier, deadline, stop, part)
        except threading.BrokenBarrierError:
            return
        except Exception as exc:  # a worker that died is an error, not a silent gap
            part.outcomes[type(exc).__name__] += 1
            part.first_error = part.first_error or repr(exc)
            barrier.abort()  # if before the start: nobody waits for it forever
        ends[n] = perf_counter()
        with lock:
            run.latencies += part.latencies
            run.outcomes += part.outcomes
            run.first_error = run.first_error or part.first_error

    threads = [threading.Thread(target=body, args=(n,), daemon=True) for n in range(run.threads)]
    for t in threads:
        t.start()
    started = perf_counter()
    deadline.append(started + duration)
    probed = None
    try:
        barrier.wait()
        if probe is not None:
            stop.wait(duration / 2)
            probed = probe()
        for t in threads:
            while t.is_alive():  # a timed join, so that Ctrl-C reaches us
                t.join(0.2)
    except threading.BrokenBarrierError:
        for t in threads:
            t.join(60)
        failed = f"{run.label}: a worker failed before the start: {run.first_error}"
        raise SystemExit(failed) from None
    finally:
        stop.set()
        barrier.abort()
    run.seconds = max(ends) - started
    return run, probed


def put_url(session_id: str) -> str:
    return f"{API}/sessions/{session_id}/attendance"


class Bodies:
    """The JSON of each session's set at each step, made once: the clients stay cheap."""

    def __init__(self, workload: Workload) -> None:
        self.workload = workload
        self.made: dict[tuple[str, int], bytes] = {}

    def __call__(self, session_id: str, branch_id: int, turn: int) -> bytes:
        key = (session_id, turn % len(STATUSES))
        if key not in self.made:
            members = self.workload.branch_members[branch_id]
            sets = [{"member_id": m, "status": s} for m, s in records(members, turn)]
            self.made[key] = json.dumps({"records": sets}).encode()
        return self.made[key]


def warm_up(client: httpx.Client, workload: Workload, bodies: Bodies, turns: dict) -> None:
    """One untimed PUT per session, one after the other: each session's first set written
    (an insert only), and both workers' pools and caches warm."""
    for session_id, branch_id in workload.all_sessions():
        turn = turns[session_id] = turns[session_id] + 1
        answer = client.put(put_url(session_id), content=bodies(session_id, branch_id, turn))
        if answer.status_code != 200:
            raise SystemExit(f"warm-up PUT answered {answer.status_code}: {answer.text[:300]}")


def api_worker(
    clients: Sequence[httpx.Client], workload: Workload, bodies: Bodies, turns: dict[str, int]
) -> Worker:
    """A client's loop: PUT its sessions in turn, every set one status step on."""

    def worker(
        n: int, barrier: threading.Barrier, deadline: list[float], stop: threading.Event, run: Run
    ) -> None:
        own, client = workload.sessions[n], clients[n]
        barrier.wait()
        i = 0
        while not stop.is_set() and perf_counter() < deadline[0]:
            session_id, branch_id = own[i % len(own)]
            i += 1
            turn = turns[session_id] = turns[session_id] + 1
            content = bodies(session_id, branch_id, turn)
            started = perf_counter()
            try:
                answer = client.put(put_url(session_id), content=content)
            except httpx.HTTPError as exc:
                run.outcomes[type(exc).__name__] += 1
                run.first_error = run.first_error or repr(exc)
                continue
            took = perf_counter() - started
            run.outcomes[answer.status_code] += 1
            if answer.status_code == 200:
                run.latencies.append(took)
            else:
                run.first_error = run.first_error or f"{answer.status_code} {answer.text[:300]}"

    return worker


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
            i = 0
            while not stop.is_set() and perf_counter() < deadline[0]:
                session_id, branch_id = own[i % len(own)]
                i += 1
                turn = turns[session_id] = turns[session_id] + 1
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


# ---------------------------------------------------------------------------- the checks


@dataclass(frozen=True)
class Checks:
    totals_differing: int
    attendance_rows: int
    expected_rows: int
    audit_rows: int
    expected_audit_rows: int


def check(engine: Engine, workload: Workload, records_per_set: int, puts: int) -> Checks:
    """After the API run: the running totals against a recomputation from the rows, each
    session holding one full set, and one audit row per attendance write that succeeded."""
    ids = [sid for sid, _ in workload.all_sessions()]
    with new_session(engine, write=False) as session:
        differing = len(totals.differences(session))
        rows = session.scalar(
            sa.select(sa.func.count()).select_from(Attendance).where(Attendance.session_id.in_(ids))
        )
        audits = session.scalar(
            sa.select(sa.func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "attendance", AuditEntry.entity_id.in_(ids))
        )
    return Checks(differing, rows or 0, len(ids) * records_per_set, audits or 0, puts)


# ---------------------------------------------------------------------------- the report


def print_report(args: argparse.Namespace, api: Run, raws: Sequence[Run], checks: Checks) -> None:
    header = (
        f"{'side':<16} {'threads':>7} {'seconds':>7} {'calls':>7} {'calls/s':>8} "
        f"{'rows/s':>8} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'max ms':>7} {'errors':>6}"
    )
    layout = (
        "one session per client and branch (shared: every client writes every branch)"
        if args.shared
        else f"{args.sessions} sessions per client, all of its own branch"
    )
    print(
        f"\nPostgreSQL, {args.workers} uvicorn workers, {args.records} records per set, "
        f"{args.branches} branches of {args.members} members, {layout}"
        f"\n(VACUUM ANALYZE before each run; the server's autovacuum is {args.autovacuum})"
    )
    print(
        f"machine: {os.cpu_count()} CPUs; 1-minute load average when the API run began: "
        f"{args.load:.2f}"
    )
    if args.spread is not None:
        balanced = "balanced" if args.balance else "as accepted, not balanced"
        spread_text = " / ".join(map(str, args.spread))
        print(f"API keep-alive connections per worker, mid-run ({balanced}): {spread_text}")
    print(header)
    print("-" * len(header))
    for r in (api, *raws):
        print(
            f"{r.label:<16} {r.threads:>7} {r.seconds:>7.1f} {r.ok:>7,} {r.calls_per_s:>8.1f} "
            f"{r.rows_per_s:>8,.0f} {r.percentile_ms(50):>7.1f} {r.percentile_ms(95):>7.1f} "
            f"{r.percentile_ms(99):>7.1f} {1000 * max(r.latencies, default=0):>7.1f} "
            f"{r.errors:>6}"
        )
    if (cpu := args.cpu) is not None:
        total = cpu.server + cpu.database + cpu.clients
        print(
            f"\nAPI run, CPU per PUT: server workers {cpu.per_call_ms(cpu.server):.1f} ms, "
            f"PostgreSQL backends {cpu.per_call_ms(cpu.database):.1f} ms, "
            f"bench clients {cpu.per_call_ms(cpu.clients):.1f} ms; "
            f"{total / api.seconds:.2f} CPUs busy on average"
        )
    print(f"API run, busy database backends (sampled every 0.1 s): {args.waits}")
    print(
        "\ncalls: API = PUT /sessions/{id}/attendance answered 200; raw = one transaction"
        "\n(delete+insert: delete the session's rows, executemany the set; upsert: executemany"
        "\nthe set as INSERT ... ON CONFLICT DO UPDATE; then commit). Latency is per call."
    )

    def verdict(ok: bool) -> str:
        return "ok" if ok else "MISSED"

    print()
    for raw in raws:
        ratio = api.rows_per_s / raw.rows_per_s if raw.rows_per_s else float("nan")
        target = (
            f"  (target >= {TARGET_RATIO}: {verdict(ratio >= TARGET_RATIO)})"
            if raw.threads == api.threads
            else ""
        )
        print(f"API / {raw.label} rows/s, {raw.threads} thread(s): {ratio:.2f}{target}")
    p95 = api.percentile_ms(95)
    print(f"API p95: {p95:.1f} ms  (target < {TARGET_P95_MS:.0f}: {verdict(p95 < TARGET_P95_MS)})")
    errors = api.errors + sum(r.errors for r in raws)
    print(f"errors: {errors}  (target 0: {verdict(errors == 0)})")
    for r in (api, *raws):
        if r.errors:
            print(f"  {r.label}: {dict(r.outcomes)}; first: {r.first_error}")
    print(
        f"totals differing from the attendance rows after the API run: "
        f"{checks.totals_differing}  (must be 0: {verdict(checks.totals_differing == 0)})"
    )
    print(
        f"attendance rows of the bench sessions: {checks.attendance_rows:,} "
        f"(expected {checks.expected_rows:,}); attendance audit rows: {checks.audit_rows:,} "
        f"(expected one per successful PUT, {checks.expected_audit_rows:,})"
    )


# ---------------------------------------------------------------------------- main


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=30.0, help="seconds per timed run")
    parser.add_argument("--clients", type=int, default=8, help="concurrent API clients")
    parser.add_argument("--records", type=int, default=200, help="records per attendance set")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument(
        "--pg-url", default=DEFAULT_PG, help="a PostgreSQL server to make a throwaway database on"
    )
    parser.add_argument(
        "--branches",
        type=int,
        default=None,
        help="large branches written to (default: one per client)",
    )
    parser.add_argument(
        "--sessions", type=int, default=4, help="sessions per client, all of its own branch"
    )
    parser.add_argument(
        "--shared",
        action="store_true",
        help="worst case: every client writes one session of every branch (--sessions ignored)",
    )
    parser.add_argument(
        "--members", type=int, default=None, help="active members per large branch (>= records)"
    )
    parser.add_argument("--scale", type=float, default=0.2, help="demo seed scale")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument(
        "--raw-threads",
        type=int,
        nargs="*",
        default=None,
        help="threads of the raw executemany runs (default: as many as clients, and 1)",
    )
    parser.add_argument(
        "--raw-kinds",
        nargs="+",
        choices=list(RAW_KINDS),
        default=list(RAW_KINDS),
        help="raw writes to run: delete+insert of the set, and an upsert of it (default: both)",
    )
    parser.add_argument("--log-level", default="INFO", help="the server's LOG_LEVEL")
    parser.add_argument(
        "--no-balance",
        dest="balance",
        action="store_false",
        help="keep the connections where the kernel puts them (often all on one worker)",
    )
    args = parser.parse_args(argv)
    args.branches = args.branches or args.clients
    args.members = args.members or args.records + 50
    if args.members < args.records:
        parser.error("--members must be at least --records")
    raw_threads = args.raw_threads if args.raw_threads is not None else [args.clients, 1]
    interrupt_on_sigterm()

    def say(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    try:
        with throwaway_postgres(args.pg_url, prefix="campaign_bench_ingest") as url:
            upgrade(url)
            engine = create_db_engine(url)
            try:
                seeded = seed_demo(engine, scale=args.scale, seed=args.seed)
                say(f"demo scale {args.scale:g}: {seeded.members:,} members")
                members, admin_id = create_large_branches(engine, args.branches, args.members)
                days = study_days(engine, list(members))
                dsn = (
                    make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
                )
                args.autovacuum = "on" if vacuum_analyze(dsn) else "off"
                secret = secrets.token_urlsafe(48)
                token, _ = issue_token(admin_id, 0, secret)
                headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
                with running_server(url, args.workers, secret, args.log_level) as server:
                    say(f"server ready at {server.base} ({args.workers} workers)")
                    with httpx.Client(base_url=server.base, headers=headers, timeout=60) as client:
                        sessions = create_sessions(
                            client, args.clients, list(members), days, args.sessions, args.shared
                        )
                        set_members = {b: ms[: args.records] for b, ms in members.items()}
                        workload = Workload(set_members, sessions)
                        turns = {sid: 0 for sid, _ in workload.all_sessions()}
                        bodies = Bodies(workload)
                        warm_up(client, workload, bodies, turns)
                    vacuum_analyze(dsn)  # the sessions and sets just made
                    clients = connect_balanced(
                        server, headers, args.clients, args.workers, args.balance
                    )
                    try:
                        say(f"API: {args.clients} clients for {args.duration:g} s")
                        args.load = os.getloadavg()[0]
                        with CpuMeter(server, dsn) as meter, WaitSampler(dsn) as waits:
                            api, args.spread = run_threads(
                                Run("API PUT", args.clients, args.records),
                                api_worker(clients, workload, bodies, turns),
                                args.duration,
                                threading.Event(),
                                probe=lambda: spread(server),
                            )
                        args.cpu = meter.use(api.ok)
                        args.waits = waits.shares()
                    finally:
                        for c in clients:
                            c.close()
                warm = len(workload.all_sessions())
                checks = check(engine, workload, args.records, api.ok + warm)
                raws = []
                for kind, threads in ((k, t) for k in args.raw_kinds for t in raw_threads):
                    vacuum_analyze(dsn)  # the same start as the API's: no dead rows
                    say(f"{RAW_KINDS[kind]}: {threads} thread(s) for {args.duration:g} s")
                    raw, _ = run_threads(
                        Run(RAW_KINDS[kind], threads, args.records),
                        raw_worker(dsn, workload, threads, turns, kind),
                        args.duration,
                        threading.Event(),
                    )
                    raws.append(raw)
            finally:
                engine.dispose()
    except KeyboardInterrupt:
        say("interrupted: the server was stopped and the database dropped")
        raise SystemExit(130) from None
    except ServerFailed as exc:
        raise SystemExit(str(exc)) from None
    print_report(args, api, raws, checks)


if __name__ == "__main__":
    main()
