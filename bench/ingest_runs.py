"""What ingest.py's timed runs share: the workload (the large branches' members, each
client's sessions) and the threads that write it together until a shared deadline, for the
API clients (ingest_clients.py) and the raw writers (ingest_raw.py) alike."""

import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from time import perf_counter

from bench.measure import Run

SESSION_HOURS = Decimal(2)


@dataclass(frozen=True)
class Workload:
    """The large branches, their members, and each client's sessions (one per branch)."""

    branch_members: dict[int, list[int]]  # branch id -> the member ids a set names
    sessions: list[list[tuple[str, int]]] = field(default_factory=list)  # per client

    def all_sessions(self) -> list[tuple[str, int]]:
        return [s for own in self.sessions for s in own]


Worker = Callable[[int, threading.Barrier, list[float], threading.Event, Run], None]


def in_turn(
    own: Sequence[tuple[str, int]],
    turns: dict[str, int],
    stop: threading.Event,
    deadline: list[float],
) -> Iterator[tuple[str, int, int]]:
    """A writer's sessions one after the other, each with its next turn (the set's status
    step), until stopped or past the shared deadline: ``(session id, branch id, turn)``."""
    i = 0
    while not stop.is_set() and perf_counter() < deadline[0]:
        session_id, branch_id = own[i % len(own)]
        i += 1
        turn = turns[session_id] = turns[session_id] + 1
        yield session_id, branch_id, turn


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
