"""The clients of load.py, from one asyncio process: the secretaries writing sessions and
attendance as fast as they are answered, and the department reading reports on a fixed
schedule; each call's latency and outcome counted per endpoint."""

import argparse
import asyncio
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from time import perf_counter

import httpx

from bench.measure import CpuMeter, Run
from bench.workload import STATUSES, records
from tests.server import Balancer, Server, spread

API = "/api/v1"

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
        key = (s.branch_id, turn % len(STATUSES))
        if key not in self.made:
            sets = [{"member_id": m, "status": st} for m, st in records(s.members, turn)]
            self.made[key] = json.dumps({"records": sets}).encode()
        return self.made[key]


# ---------------------------------------------------------------------------- the load


class Stats:
    """One Run (bench/measure.py) per endpoint: latencies of the answers as expected, and the
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
