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
import os
import secrets
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

import httpx
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.auth.tokens import issue_token
from app.db import create_db_engine
from app.demo import DEFAULT_SEED, seed_demo
from app.migrate import upgrade
from bench.ingest_clients import Bodies, api_worker, create_sessions, warm_up
from bench.ingest_raw import RAW_KINDS, raw_worker
from bench.ingest_report import check, print_report
from bench.ingest_runs import Workload, run_threads
from bench.measure import CpuMeter, Run, WaitSampler
from bench.workload import (
    create_large_branches,
    interrupt_on_sigterm,
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
