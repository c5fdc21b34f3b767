"""The API's routers: a route's session is committed in the thread its function ran in."""

import functools
import inspect
from collections.abc import Callable
from typing import Any

import fastapi
from fastapi.exceptions import ResponseValidationError
from fastapi.routing import APIRoute
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response


class CommittingRoute(APIRoute):
    """A route whose plain ``def`` function, once it has returned, commits the request's
    session (the one app.db.get_session made, which it takes as a parameter) in the worker
    thread it ran in.

    Committing there spares every request a trip to the thread pool, which get_session
    would otherwise make to commit; and FastAPI, to which the route is async, checks and
    shapes its answer on the event loop, which spares another (FastAPI sends a plain def's
    answer to the pool for that). A trip costs a worker about a tenth of an attendance PUT's
    time (bench/ingest.py). get_session still commits whatever a route
    leaves open (an ``async`` route, one without a session parameter), and rolls back when
    the route or its commit fails: the answer is then the error's. Services never commit.

    The answer is checked against the route's response model before the commit, as FastAPI
    checks it afterwards: an answer the model refuses (a bug) is a 500 with nothing written,
    as when get_session committed after FastAPI had shaped the answer.
    """

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, self._committing(endpoint), **kwargs)

    def _committing(self, endpoint: Callable[..., Any]) -> Callable[..., Any]:
        if inspect.iscoroutinefunction(endpoint):
            return endpoint  # runs on the event loop, where a commit would block it
        if inspect.isgeneratorfunction(endpoint) or inspect.isasyncgenfunction(endpoint):
            return endpoint  # FastAPI streams what it yields, after the route has returned

        # Async to FastAPI, which then checks and shapes the answer on the event loop: a
        # plain def's answer would take a third trip to the pool for that.
        @functools.wraps(endpoint)  # FastAPI reads the parameters of the function wrapped
        async def run_and_commit(*args: Any, **kwargs: Any) -> Any:
            return await run_in_threadpool(self._run, endpoint, args, kwargs)

        return run_and_commit

    def _run(self, endpoint: Callable[..., Any], args: tuple, kwargs: dict[str, Any]) -> Any:
        answer = endpoint(*args, **kwargs)
        for value in kwargs.values():
            if isinstance(value, Session):
                self._check(answer)
                value.commit()
                break
        return answer

    def _check(self, answer: Any) -> None:
        if self.response_field is None or isinstance(answer, Response):
            return
        _, errors = self.response_field.validate(answer, {}, loc=("response",))
        if errors:
            raise ResponseValidationError(errors=errors, body=answer)


class APIRouter(fastapi.APIRouter):
    """fastapi.APIRouter, its routes CommittingRoutes."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(route_class=CommittingRoute, **kwargs)
