"""Measuring a server under load: a run's calls and latencies, the CPU time the server's
workers, the database's backends and the clients spent (read from /proc), and what the
database's busy backends were doing."""

import os
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from math import ceil
from pathlib import Path

import psycopg

from tests.server import Server, worker_connections


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU time a process has used so far; None once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class CpuUse:
    """CPU seconds spent during a run by the server's workers, by the database's backends
    and by this process (the clients), and the calls they served."""

    server: float
    database: float
    clients: float
    calls: int

    def per_call_ms(self, seconds: float) -> float:
        return 1000 * seconds / self.calls if self.calls else float("nan")


class CpuMeter:
    """Reads /proc before and after a run (Linux; elsewhere it reports nothing)."""

    def __init__(self, server: Server, dsn: str) -> None:
        self.server, self.dsn = server, dsn
        self.enabled = Path("/proc/self/stat").exists()

    def _pids(self) -> tuple[list[int], list[int]]:
        workers = list(worker_connections(self.server) or {})
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            backends = [
                pid
                for (pid,) in conn.execute(
                    "SELECT pid FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            ]
        return workers, backends

    def _read(self) -> tuple[dict[int, float], dict[int, float], float]:
        workers, backends = self._pids()
        server = {p: c for p in workers if (c := _cpu_seconds(p)) is not None}
        database = {p: c for p in backends if (c := _cpu_seconds(p)) is not None}
        return server, database, time.process_time()

    def __enter__(self) -> "CpuMeter":
        if self.enabled:
            self.before = self._read()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.enabled and exc[0] is None:
            self.after = self._read()

    def use(self, calls: int) -> CpuUse | None:
        if not self.enabled or not hasattr(self, "after"):
            return None

        def spent(before: dict[int, float], after: dict[int, float]) -> float:
            # A backend that started during the run counts from zero; one that ended is lost.
            return sum(c - before.get(p, 0.0) for p, c in after.items())

        (s0, d0, c0), (s1, d1, c1) = self.before, self.after
        return CpuUse(spent(s0, s1), spent(d0, d1), c1 - c0, calls)


class WaitSampler:
    """Samples, every ``every`` seconds, what the database's busy backends are doing:
    running, waiting for a lock another transaction holds, or waiting for the application
    to send its next statement in an open transaction ("idle in transaction")."""

    QUERY = (
        "SELECT state, wait_event_type FROM pg_stat_activity "
        "WHERE datname = current_database() AND pid <> pg_backend_pid() "
        "AND backend_type = 'client backend' AND state <> 'idle'"
    )

    def __init__(self, dsn: str, every: float = 0.1) -> None:
        self.dsn, self.every = dsn, every
        self.seen: Counter = Counter()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            while not self.stop.wait(self.every):
                for state, wait in conn.execute(self.QUERY):
                    if state == "idle in transaction":
                        self.seen["waiting for the app"] += 1
                    elif wait == "Lock":
                        self.seen["waiting for a lock"] += 1
                    elif wait is None:
                        self.seen["running"] += 1
                    else:
                        self.seen[f"waiting ({wait})"] += 1

    def __enter__(self) -> "WaitSampler":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(5)

    def shares(self) -> str:
        total = sum(self.seen.values())
        if not total:
            return "no busy backend seen"
        return ", ".join(f"{what} {100 * n / total:.0f}%" for what, n in self.seen.most_common())


@dataclass
class Run:
    label: str
    threads: int
    rows_per_call: int
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)  # successful calls only
    outcomes: Counter = field(default_factory=Counter)  # status code or exception name
    first_error: str | None = None

    @property
    def ok(self) -> int:
        return len(self.latencies)

    @property
    def errors(self) -> int:
        return sum(self.outcomes.values()) - self.ok

    @property
    def calls_per_s(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0

    @property
    def rows_per_s(self) -> float:
        return self.calls_per_s * self.rows_per_call

    def percentile_ms(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return 1000 * ordered[max(0, ceil(p / 100 * len(ordered)) - 1)]
