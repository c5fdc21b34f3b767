"""The API side of ingest.py: each client's sessions, made through POST /sessions, and its
loop of attendance PUTs, every set one status step on."""

import json
import threading
from collections.abc import Sequence
from datetime import date
from time import perf_counter

import httpx

from bench.ingest_runs import SESSION_HOURS, Worker, Workload, in_turn
from bench.measure import Run
from bench.workload import STATUSES, records

API = "/api/v1"


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
        for session_id, branch_id, turn in in_turn(own, turns, stop, deadline):
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
