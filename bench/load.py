"""Load benchmark: branch secretaries write sessions and attendance while the department
reads the coverage and gap reports, through a real server with several workers.

    python bench/load.py [--duration 60] [--secretaries 8] [--report-rate 20] [--workers 2]

On a throwaway PostgreSQL database (migrated, seeded with the demo at ``--scale``, plus one
large branch per secretary so that a set can hold ``--records`` members), it starts
``campaign serve --workers N`` and runs, for ``--duration`` seconds, from one asyncio
process with httpx:

- ``--secretaries`` clients, each a branch secretary with a token for their own branch, as
  fast as the server answers: ``POST /sessions`` (a new session), then ``--puts-per-session``
  ``PUT /sessions/{id}/attendance`` of ``--records`` records (the first set, then
  corrections: each moves every record's status, so every PUT replaces rows and moves
  totals); and again.
- the department (a city admin) reading reports at a fixed ``--report-rate`` per second,
  whatever the answers' speed (an open loop): coverage by unit, coverage by district, and
  one branch's gaps, in turn, sent by ``--readers`` clients. A read's latency counts from
  its scheduled moment, so reads queued behind slow ones show their wait.

It prints requests/s and latency p50/p95/p99/max per endpoint, errors (any answer but the
expected status, or no answer), the targets, and a check of the running totals against
the attendance rows afterwards.
"""

import argparse
import asyncio
import json
import os
import secrets
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from time import perf_counter

import httpx
import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.auth.models import User
from app.auth.tokens import issue_token
from app.campaign.models import UnitProgress
from app.db import create_db_engine, new_session
from app.demo import DEFAULT_SEED, seed_demo
from app.migrate import upgrade
from app.org.models import Branch
from app.study import totals
from bench.measure import CpuMeter, Run
from bench.workload import (
    create_large_branches,
    interrupt_on_sigterm,
    records,
    study_days,
    vacuum_analyze,
)
from tests.databases import throwaway_postgres
from tests.server import Balancer, Server, ServerFailed, running_server, spread

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
API = "/api/v1"
TARGET_PUTS_PER_S, TARGET_READS_PER_S, TARGET_P95_MS = 100.0, 20.0, 200.0

POST_SESSION = "POST /sessions"
PUT_ATTENDANCE = "PUT /sessions/{id}/attendance"
COVERAGE_UNIT = "GET /reports/coverage?level=unit"
COVERAGE_DISTRICT = "GET /reports/coverage?level=district"
GAPS_BRANCH = "GET /reports/gaps?branch_id="
READS = (COVERAGE_UNIT, COVERAGE_DISTRICT, GAPS_BRANCH)
JSON = {"Content-Type": "application/json"}


# ---------------------------------------------------------------------------- the data


@dataclass(frozen=True)
class Secretary:
    branch_id: int
    headers: dict[str, str]
    members: list[int]  # the ones a set names


def make_users(engine: Engine, branch_ids: Sequence[int]) -> list[int]:
    """One branch secretary per branch; never a valid password hash: tokens are minted."""
    with new_session(engine, write=True) as session:
        made = [
            User(
                username=f"bench_secretary_{b}",
                display_name=f"压测支部书记{b}",
                role="branch_secretary",
                branch_id=b,
                password_hash="!",
            )
            for b in branch_ids
        ]
        session.add_all(made)
        session.commit()
        return [u.id for u in made]


def gap_branches(engine: Engine, limit: int = 200) -> list[int]:
    """Demo branches of units in study: the ones whose gaps the department looks at."""
    with new_session(engine, write=False) as session:
        return list(
            session.scalars(
                sa.select(Branch.id)
                .join(UnitProgress, UnitProgress.unit_id == Branch.unit_id)
                .where(UnitProgress.state == "study")
                .order_by(Branch.id)
                .limit(limit)
            )
        )


def read_urls(branch_ids: Sequence[int]) -> list[tuple[str, str]]:
    """The department's reads in turn: (endpoint, URL); the gaps of a different branch each
    time round."""
    out = []
    for b in branch_ids:
        out += [
            (COVERAGE_UNIT, f"{API}/reports/coverage?level=unit"),
            (COVERAGE_DISTRICT, f"{API}/reports/coverage?level=district"),
            (GAPS_BRANCH, f"{API}/reports/gaps?branch_id={b}"),
        ]
    return out


class Bodies:
    """Each branch's set at each status step, encoded once: the clients stay cheap."""

    def __init__(self) -> None:
        self.made: dict[tuple[int, int], bytes] = {}

    def __call__(self, s: Secretary, turn: int) -> bytes:
        key = (s.branch_id, turn % 3)
        if key not in self.made:
            sets = [{"member_id": m, "status": st} for m, st in records(s.members, turn)]
            self.made[key] = json.dumps({"records": sets}).encode()
        return self.made[key]


# ---------------------------------------------------------------------------- the load


class Stats:
    """One Run (bench/ingest.py) per endpoint: latencies of the answers as expected, and the
    outcome of every call."""

    def __init__(self, labels: Sequence[str]) -> None:
        self.runs = {label: Run(label, 1, 0) for label in labels}
        self.unsent: Counter = Counter()  # reads still queued when the time was up

    def record(self, label: str, took: float, outcome: int | str, ok: bool, detail: str) -> None:
        run = self.runs[label]
        run.outcomes[outcome] += 1
        if ok:
            run.latencies.append(took)
        else:
            run.first_error = run.first_error or detail[:300]


async def call(
    stats: Stats, label: str, request, expected: int, since: float | None = None
) -> httpx.Response | None:
    """Awaits ``request``; records its latency (from ``since`` if given) and outcome."""
    started = perf_counter() if since is None else since
    try:
        answer = await request
    except httpx.HTTPError as exc:
        stats.record(label, 0.0, type(exc).__name__, False, repr(exc))
        return None
    ok = answer.status_code == expected
    stats.record(label, perf_counter() - started, answer.status_code, ok, answer.text)
    return answer if ok else None


async def secretary_loop(
    client: httpx.AsyncClient,
    s: Secretary,
    days: Sequence[date],
    puts: int,
    bodies: Bodies,
    stats: Stats,
    deadline: float,
    once: bool = False,
) -> None:
    """POST a session, PUT its set ``puts`` times; again until the deadline (or ``once``)."""
    n, turn = 0, 0
    while perf_counter() < deadline and not (once and n):
        n += 1
        body = {
            "branch_id": s.branch_id,
            "held_on": days[n % len(days)].isoformat(),
            "format": "collective_study",
            "hours": "2",
            "topic": f"压测学习 {s.branch_id}-{n}",
        }
        created = await call(stats, POST_SESSION, client.post(f"{API}/sessions", json=body), 201)
        if created is None:
            continue
        url = f"{API}/sessions/{created.json()['id']}/attendance"
        for _ in range(puts):
            if perf_counter() >= deadline:
                return
            turn += 1
            put = client.put(url, content=bodies(s, turn), headers=JSON)
            await call(stats, PUT_ATTENDANCE, put, 200)


async def schedule_reads(
    queue: asyncio.Queue, rate: float, urls: Sequence[tuple[str, str]], deadline: float
) -> None:
    """Puts one read on the queue every 1/rate seconds until the deadline (an open loop:
    the schedule does not wait for the answers)."""
    due, i = perf_counter(), 0
    while due < deadline:
        await asyncio.sleep(max(0.0, due - perf_counter()))
        queue.put_nowait((due, urls[i % len(urls)]))
        i += 1
        due += 1 / rate


async def reader_loop(
    client: httpx.AsyncClient, queue: asyncio.Queue, stats: Stats, deadline: float
) -> None:
    """Sends the reads as they fall due; once the time is up, what is still queued is
    counted as unsent instead of being waited for."""
    while True:
        due, (label, url) = await queue.get()
        try:
            if perf_counter() < deadline:
                await call(stats, label, client.get(url), 200, since=due)
            else:
                stats.unsent[label] += 1
        finally:
            queue.task_done()


async def connect(
    server: Server,
    headers: Sequence[dict[str, str]],
    workers: int,
    connected: Sequence[httpx.AsyncClient] = (),
) -> list[httpx.AsyncClient]:
    """One keep-alive client per headers, spread evenly over the workers. Looking up which
    worker took a connection reads /proc and is slow on a busy machine, and the server closes
    a connection idle for 5 s (its client's next one may land anywhere): so the clients made
    so far, and those already ``connected``, are kept busy every 2 s meanwhile."""
    balancer = Balancer(server, len(headers), workers)
    clients: list[httpx.AsyncClient] = []
    pinged = perf_counter()
    for h in headers:
        for attempt in range(Balancer.ATTEMPTS):
            if perf_counter() - pinged > 2:
                await asyncio.gather(*(c.get("/healthz") for c in (*connected, *clients)))
                pinged = perf_counter()
            client = httpx.AsyncClient(base_url=server.base, headers=h, timeout=60)
            if balancer.keep(await client.get("/healthz"), attempt):
                clients.append(client)
                break
            await client.aclose()
    return clients


async def warm_up(
    server: Server,
    secretaries: Sequence[Secretary],
    department: dict[str, str],
    days: Sequence[date],
    urls: Sequence[tuple[str, str]],
    bodies: Bodies,
) -> None:
    """One session and set per secretary and one read of each kind, one after the other:
    both workers' pools and caches warm, every body encoded."""
    warm = Stats([POST_SESSION, PUT_ATTENDANCE, *READS])
    for s in secretaries:
        async with httpx.AsyncClient(base_url=server.base, headers=s.headers, timeout=60) as c:
            await secretary_loop(c, s, days, 1, bodies, warm, perf_counter() + 1e9, once=True)
    async with httpx.AsyncClient(base_url=server.base, headers=department, timeout=60) as c:
        for label, url in urls[: len(READS)]:
            await call(warm, label, c.get(url), 200)
    failed = {r.label: r.first_error for r in warm.runs.values() if r.errors}
    if failed:
        raise SystemExit(f"warm-up failed: {failed}")


async def run_load(
    server: Server,
    args: argparse.Namespace,
    secretaries: Sequence[Secretary],
    department: dict[str, str],
    days: Sequence[date],
    urls: Sequence[tuple[str, str]],
) -> tuple[Stats, float, list[int] | None]:
    """Warm-up (untimed: one round of every kind of call), then the timed run; answers the
    stats, the run's length and the connections per worker seen half way."""
    bodies = Bodies()
    await warm_up(server, secretaries, department, days, urls, bodies)
    # Connected after the warm-up, just before the run: an idle keep-alive connection is
    # closed by the server after 5 s, and its client's next one may land anywhere.
    writers = await connect(server, [s.headers for s in secretaries], args.workers)
    readers = await connect(server, [department] * args.readers, args.workers, writers)
    try:
        stats = Stats([POST_SESSION, PUT_ATTENDANCE, *READS])
        queue: asyncio.Queue = asyncio.Queue()
        started = perf_counter()
        deadline = started + args.duration
        tasks = [
            asyncio.create_task(
                secretary_loop(c, s, days, args.puts_per_session, bodies, stats, deadline)
            )
            for c, s in zip(writers, secretaries, strict=True)
        ]
        readers_running = [
            asyncio.create_task(reader_loop(c, queue, stats, deadline)) for c in readers
        ]
        if args.report_rate > 0:
            tasks.append(
                asyncio.create_task(schedule_reads(queue, args.report_rate, urls, deadline))
            )
        with CpuMeter(server, args.dsn) as meter:
            await asyncio.sleep(args.duration / 2)
            half_way = spread(server)
            await asyncio.gather(*tasks)
            await queue.join()
        seconds = perf_counter() - started
        args.cpu = meter.use(sum(r.ok for r in stats.runs.values()))
        for r in readers_running:
            r.cancel()
        return stats, seconds, half_way
    finally:
        for c in (*writers, *readers):
            await c.aclose()


# ---------------------------------------------------------------------------- the report


def print_report(
    args: argparse.Namespace, stats: Stats, seconds: float, half_way, differing: int
) -> None:
    print(
        f"\nPostgreSQL, {args.workers} uvicorn workers, demo scale {args.scale:g}; "
        f"{args.secretaries} secretaries (POST a session, then {args.puts_per_session} PUTs of "
        f"{args.records} records, as fast as answered); the department reading "
        f"{args.report_rate:g} reports/s through {args.readers} clients; {seconds:.1f} s"
    )
    print(
        f"machine: {os.cpu_count()} CPUs; 1-minute load average before the run "
        f"{args.load_before:.2f}, after {args.load_after:.2f} (other jobs skew every figure)"
    )
    if half_way is not None:
        print(f"keep-alive connections per worker, mid-run: {' / '.join(map(str, half_way))}")
    header = (
        f"{'endpoint':<38} {'calls':>7} {'per s':>7} {'p50 ms':>7} {'p95 ms':>7} "
        f"{'p99 ms':>7} {'max ms':>7} {'errors':>6} {'unsent':>6}"
    )
    print(header)
    print("-" * len(header))
    for r in stats.runs.values():
        print(
            f"{r.label:<38} {r.ok:>7,} {r.ok / seconds:>7.1f} {r.percentile_ms(50):>7.1f} "
            f"{r.percentile_ms(95):>7.1f} {r.percentile_ms(99):>7.1f} "
            f"{1000 * max(r.latencies, default=0):>7.1f} {r.errors:>6} "
            f"{stats.unsent[r.label]:>6}"
        )
    print(
        "(report reads: latency from the moment they were due, queueing included; unsent:\n"
        "due but still queued when the time was up, the server being behind)"
    )
    if (cpu := args.cpu) is not None:
        busy = (cpu.server + cpu.database + cpu.clients) / seconds
        print(
            f"CPU per call, all endpoints: server workers {cpu.per_call_ms(cpu.server):.1f} ms, "
            f"PostgreSQL backends {cpu.per_call_ms(cpu.database):.1f} ms, clients "
            f"{cpu.per_call_ms(cpu.clients):.1f} ms; {busy:.2f} of {os.cpu_count()} CPUs busy "
            f"with this run on average"
        )

    def verdict(ok: bool) -> str:
        return "ok" if ok else "MISSED"

    puts = stats.runs[PUT_ATTENDANCE].ok / seconds
    reads = sum(stats.runs[label].ok for label in READS) / seconds
    worst = max(stats.runs.values(), key=lambda r: r.percentile_ms(95) if r.ok else 0)
    errors = sum(r.errors for r in stats.runs.values())
    print(
        f"\nattendance PUTs/s: {puts:.1f}  ({puts * args.records:,.0f} records/s; "
        f"target >= {TARGET_PUTS_PER_S:.0f}: {verdict(puts >= TARGET_PUTS_PER_S)})"
    )
    print(
        f"report reads/s: {reads:.1f}  (target >= {TARGET_READS_PER_S:.0f}: "
        f"{verdict(reads >= TARGET_READS_PER_S * 0.98)})"
    )
    p95 = worst.percentile_ms(95)
    print(
        f"worst p95: {p95:.1f} ms, {worst.label}  (target < {TARGET_P95_MS:.0f} on every "
        f"endpoint: {verdict(p95 < TARGET_P95_MS)})"
    )
    print(f"errors: {errors}  (target 0: {verdict(errors == 0)})")
    for r in stats.runs.values():
        if r.errors:
            print(f"  {r.label}: {dict(r.outcomes)}; first: {r.first_error}")
    print(
        f"totals differing from the attendance rows afterwards: {differing}  "
        f"(must be 0: {verdict(differing == 0)})"
    )


# ---------------------------------------------------------------------------- main


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load")
    parser.add_argument(
        "--secretaries", type=int, default=8, help="concurrent writing clients (0: reads only)"
    )
    parser.add_argument("--records", type=int, default=200, help="records per attendance set")
    parser.add_argument("--puts-per-session", type=int, default=3, help="PUTs after each POST")
    parser.add_argument(
        "--report-rate", type=float, default=20.0, help="report reads per second (0: writes only)"
    )
    parser.add_argument("--readers", type=int, default=4, help="clients sending the reads")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument(
        "--pg-url", default=DEFAULT_PG, help="a PostgreSQL server to make a throwaway database on"
    )
    parser.add_argument("--scale", type=float, default=1.0, help="demo seed scale")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--log-level", default="WARNING", help="the server's LOG_LEVEL")
    args = parser.parse_args(argv)
    interrupt_on_sigterm()

    def say(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    try:
        with throwaway_postgres(args.pg_url, prefix="campaign_bench_load") as url:
            upgrade(url)
            engine = create_db_engine(url)
            try:
                seeded = seed_demo(engine, scale=args.scale, seed=args.seed)
                say(f"demo scale {args.scale:g}: {seeded.members:,} members")
                members, admin_id = create_large_branches(
                    engine, args.secretaries, args.records + 50
                )
                branch_ids = list(members)
                secretary_ids = make_users(engine, branch_ids)
                days = study_days(engine, branch_ids) if branch_ids else []
                urls = read_urls(gap_branches(engine))
                dsn = (
                    make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
                )
                vacuum_analyze(dsn)
                args.dsn = dsn
                secret = secrets.token_urlsafe(48)

                def bearer(user_id: int) -> dict[str, str]:
                    return {"Authorization": f"Bearer {issue_token(user_id, 0, secret)[0]}"}

                secretaries = [
                    Secretary(b, bearer(u), members[b][: args.records])
                    for b, u in zip(branch_ids, secretary_ids, strict=True)
                ]
                with running_server(url, args.workers, secret, args.log_level) as server:
                    say(f"server ready at {server.base} ({args.workers} workers)")
                    say(f"load: {args.duration:g} s")
                    args.load_before = os.getloadavg()[0]
                    stats, seconds, half_way = asyncio.run(
                        run_load(server, args, secretaries, bearer(admin_id), days, urls)
                    )
                    args.load_after = os.getloadavg()[0]
                with new_session(engine, write=False) as session:
                    differing = len(totals.differences(session))
            finally:
                engine.dispose()
    except KeyboardInterrupt:
        say("interrupted: the server was stopped and the database dropped")
        raise SystemExit(130) from None
    except ServerFailed as exc:
        raise SystemExit(str(exc)) from None
    print_report(args, stats, seconds, half_way, differing)


if __name__ == "__main__":
    main()
