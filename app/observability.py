"""Prometheus metrics (/metrics) and one structured log line per request.

Both name a request by its route template (``/api/v1/members/{member_id}``), never by its
path: an id in a label would make a new time series per member, and a path or query string
in a log can carry an ID number or a phone number (``?q=``). Neither records bodies,
query strings, client addresses or user agents.

With several worker processes each keeps its own numbers, and a scrape reads the one that
answers it. Set ``PROMETHEUS_MULTIPROC_DIR`` (an empty directory, wiped before the server
starts) and request counts and latencies are written there and summed over all workers; the
pool gauges stay those of the worker that answered (labelled with its pid).
"""

import logging
import os
import time
from collections.abc import Callable, Iterator

from fastapi import Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector
from sqlalchemy.engine import Engine
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.routing import APIRouter

access_log = logging.getLogger("app.access")
UNMATCHED = "<unmatched>"  # no route: a 404 for a path that does not exist, or a 405

# From a cached read (2 ms) to a citywide report or an import (10 s).
_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.35, 0.5, 1.0, 2.5, 5.0, 10.0)


def _multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


class _PoolCollector(Collector):
    """The database pool, read when scraped: connections checked out and the pool's size."""

    def __init__(self, engine_of: Callable[[], Engine]) -> None:
        self._engine_of = engine_of

    def collect(self) -> Iterator[GaugeMetricFamily]:
        pool = self._engine_of().pool
        labels = ["pid"] if _multiprocess_dir() else []
        values = [str(os.getpid())] if labels else []
        for name, doc, read in (
            ("db_pool_checked_out", "Connections in use by requests.", "checkedout"),
            ("db_pool_size", "Connections the pool keeps open.", "size"),
            ("db_pool_overflow", "Connections opened past the pool's size.", "overflow"),
        ):
            method = getattr(pool, read, None)
            if method is None:  # a pool without counts (SQLite in memory)
                continue
            family = GaugeMetricFamily(name, doc, labels=labels)
            family.add_metric(values, max(0, method()))
            yield family


class Metrics:
    """One app's metrics. A registry of its own, so that several apps (tests) coexist."""

    def __init__(self, engine_of: Callable[[], Engine]) -> None:
        self.registry = CollectorRegistry()
        # In multiprocess mode the values live in files, read back by MultiProcessCollector.
        target = None if _multiprocess_dir() else self.registry
        self.requests = Counter(
            "http_requests",
            "Requests answered, by route template, method and status.",
            ["method", "route", "status"],
            registry=target,
        )
        self.duration = Histogram(
            "http_request_duration_seconds",
            "Time to answer, by route template, method and status.",
            ["method", "route", "status"],
            buckets=_BUCKETS,
            registry=target,
        )
        self._pool = _PoolCollector(engine_of)
        self.registry.register(self._pool)

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        code = str(status)
        self.requests.labels(method, route, code).inc()
        self.duration.labels(method, route, code).observe(seconds)

    def exposition(self) -> bytes:
        if not _multiprocess_dir():
            return generate_latest(self.registry)
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        registry.register(self._pool)
        return generate_latest(registry)


def route_template(scope: Scope) -> str:
    """The matched route's path as declared, prefix included; never the raw path."""
    context = scope.get("fastapi", {}).get("effective_route_context")
    path = getattr(context, "path", None) or getattr(scope.get("route"), "path", None)
    if path is None and scope.get("endpoint") is not None:
        # A mount (the docs' assets): its prefix, the file as a placeholder.
        path = scope.get("root_path", "") + "/{path}"
    return path or UNMATCHED


class ObservabilityMiddleware:
    """Outermost of ours: it sees the final status (a 413 refused before routing, a 500
    about to be answered by the error handler) and the whole time."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            seconds = time.perf_counter() - started
            route = route_template(scope)
            self.metrics.observe(scope["method"], route, status, seconds)
            state = scope.get("state", {})
            access_log.info(
                "request",
                extra={
                    "request_id": state.get("request_id"),
                    "user_id": state.get("user_id"),
                    "method": scope["method"],
                    "route": route,
                    "status": status,
                    "duration_ms": round(seconds * 1000, 1),
                },
            )


router = APIRouter()


@router.get(
    "/metrics",
    tags=["operations"],
    summary="Prometheus metrics: requests by route and status, latency, database pool",
    response_class=Response,
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
)
def metrics(request: Request) -> Response:
    body = request.app.state.metrics.exposition()
    return Response(body, media_type=CONTENT_TYPE_LATEST)
