"""A real server: ``campaign serve --workers N`` in a subprocess, for the tests and the
benchmarks that need several worker processes sharing one database (TestClient runs the
app in-process, one worker, and cannot be killed mid-write).

The server runs in its own process group (uvicorn's supervisor and its workers), so that
the whole group can be stopped, or killed at once with SIGKILL as a crashing machine would.
Linux and macOS only (process groups; the /proc look-ups below are Linux only).
"""

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from math import ceil
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


class ServerFailed(RuntimeError):
    """The server exited or never became ready; the message ends with its log's tail."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def campaign_command() -> list[str]:
    script = Path(sys.executable).with_name("campaign")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from app.cli import main; main()"]


def stop_group(process: subprocess.Popen) -> None:
    """SIGTERM to the server's whole process group (uvicorn's supervisor and its workers),
    then SIGKILL to whatever is left after a grace period."""
    if process.poll() is not None:
        return
    for sig, grace in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(grace)
            return
        except subprocess.TimeoutExpired:
            continue


@dataclass(frozen=True)
class Server:
    base: str
    port: int
    pid: int  # uvicorn's supervisor, leader of the server's process group
    process: subprocess.Popen = field(repr=False, compare=False)
    log: Path = field(repr=False, compare=False)  # its output; gone once it has stopped

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL to every process of the server at once: no shutdown, no rollback, open
        transactions cut off wherever they were."""
        with suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGKILL)
        self.process.wait(10)


@contextmanager
def running_server(
    url: str,
    workers: int,
    secret: str,
    log_level: str = "WARNING",
    env: dict[str, str] | None = None,
) -> Iterator[Server]:
    """``campaign serve`` on ``url``'s database, in its own process group, until /readyz
    answers. The group is stopped on the way out, whatever happens (Ctrl-C included).
    Raises ServerFailed with the log's tail if the server exits or is not ready in time."""
    port = free_port()
    environment = {
        **os.environ,
        "DATABASE_URL": url,
        # Set, so that the workers share one key instead of racing to store one.
        "SECRET_KEY": secret,
        "LOG_LEVEL": log_level,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        **(env or {}),
    }
    command = [*campaign_command(), "serve", "--workers", str(workers), "--port", str(port)]
    with tempfile.NamedTemporaryFile(prefix="campaign-server-", suffix=".log") as log:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            wait_ready(base, process, Path(log.name))
            yield Server(base, port, process.pid, process, Path(log.name))
        finally:
            stop_group(process)


def wait_ready(base: str, process: subprocess.Popen, log: Path, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServerFailed(f"the server exited ({process.returncode}):\n{tail(log)}")
        try:
            if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise ServerFailed(f"the server was not ready after {timeout:.0f} s:\n{tail(log)}")


def tail(log: Path, lines: int = 30) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


# Which worker holds which connection, from /proc (Linux). Uvicorn's workers share one
# listening socket, and asyncio accepts every pending connection at one wake-up, so clients
# that connect together mostly land on one worker: with keep-alive they stay there, and a
# run would load one worker, not all of them.


def _tcp_sockets(port: int) -> dict[int, tuple[str, int]]:
    """inode -> (state, remote port) of the TCP sockets whose local port is ``port``."""
    out = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            f = line.split()
            if int(f[1].rsplit(":", 1)[1], 16) == port:
                out[int(f[9])] = (f[3], int(f[2].rsplit(":", 1)[1], 16))
    return out


def _socket_inodes(pid: int) -> set[int]:
    inodes = set()
    try:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(int(target[8:-1]))
    except OSError:
        pass
    return inodes


def worker_connections(server: Server) -> dict[int, set[int]] | None:
    """Per worker pid, the client ports of its established connections; None off Linux."""
    if not Path("/proc/net/tcp").exists():
        return None
    sockets = _tcp_sockets(server.port)
    listening = {i for i, (state, _) in sockets.items() if state == "0A"}
    out: dict[int, set[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == server.pid:
            continue
        try:
            # Fields after the command's closing parenthesis: state, ppid, pgrp, ...
            pgrp = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[2])
        except (OSError, IndexError, ValueError):
            continue
        if pgrp != server.pid:
            continue
        inodes = _socket_inodes(int(entry.name))
        if inodes & listening:  # a worker (not the multiprocessing resource tracker)
            out[int(entry.name)] = {
                sockets[i][1] for i in inodes if i in sockets and sockets[i][0] == "01"
            }
    return out


def spread(server: Server) -> list[int] | None:
    """Established connections per worker, most loaded first."""
    found = worker_connections(server)
    return None if found is None else sorted((len(c) for c in found.values()), reverse=True)


def local_port(answer: httpx.Response) -> int:
    """The client-side port of the connection that carried ``answer`` (sync or async)."""
    return answer.extensions["network_stream"].get_extra_info("socket").getsockname()[1]


def worker_of(server: Server, answer: httpx.Response) -> int | None:
    """The pid of the worker holding the connection ``answer`` came on; None if unknown."""
    port = local_port(answer)
    holders = worker_connections(server) or {}
    return next((pid for pid, ports in holders.items() if port in ports), None)


class Balancer:
    """Spreads ``count`` keep-alive connections evenly over ``workers``: a connection is
    kept unless its worker already holds its share; then the caller connects again (at
    most ATTEMPTS times, then it takes what it got). ``balance=False`` keeps every one."""

    ATTEMPTS = 50

    def __init__(self, server: Server, count: int, workers: int, balance: bool = True) -> None:
        self.server, self.balance = server, balance
        self.share = ceil(count / workers)
        self.load: Counter = Counter()

    def keep(self, answer: httpx.Response, attempt: int) -> bool:
        """Whether to keep the connection that carried ``answer`` (its ``attempt``-th try)."""
        owner = worker_of(self.server, answer) if self.balance else None
        if owner is None or self.load[owner] < self.share or attempt == self.ATTEMPTS - 1:
            self.load[owner] += 1
            return True
        return False


def connect_balanced(
    server: Server, headers: dict[str, str], count: int, workers: int, balance: bool = True
) -> list[httpx.Client]:
    """``count`` keep-alive clients, connected one after the other and spread evenly over
    the workers (see Balancer)."""
    balancer = Balancer(server, count, workers, balance)
    clients = []
    for _ in range(count):
        for attempt in range(Balancer.ATTEMPTS):
            client = httpx.Client(base_url=server.base, headers=headers, timeout=60)
            if balancer.keep(client.get("/healthz"), attempt):
                clients.append(client)
                break
            client.close()
    return clients
