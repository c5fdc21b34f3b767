"""One error hierarchy, answered as RFC 9457 problem+json by one set of handlers."""

import logging
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from pydantic import BaseModel, Field
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from app.headers import SECURITY_HEADERS
from app.request_context import request_id_of

logger = logging.getLogger(__name__)

PROBLEM_MEDIA_TYPE = "application/problem+json"
_TYPE_PREFIX = "urn:campaign:problem:"


class FieldError(BaseModel):
    loc: list[str | int] = Field(description='Where the bad value is, e.g. ["body", "code"].')
    msg: str
    type: str


class Problem(BaseModel):
    """An RFC 9457 problem detail."""

    type: str = Field(examples=[f"{_TYPE_PREFIX}not-found"])
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None


class ValidationProblem(Problem):
    errors: list[FieldError] = Field(default_factory=list)


class AppError(Exception):
    """An error the API answers on purpose. Subclasses fix status, type and title."""

    status: int = 500
    type: str = "internal-error"
    title: str = "Internal server error"

    def __init__(
        self,
        detail: str | None = None,
        *,
        errors: Sequence[dict[str, Any]] = (),
        headers: dict[str, str] | None = None,
        extensions: dict[str, Any] | None = None,
    ):
        super().__init__(detail or self.title)
        self.detail = detail
        self.errors = list(errors)
        self.headers = headers
        # RFC 9457 extension members: what the client needs to act on the problem.
        self.extensions = extensions or {}

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": _TYPE_PREFIX + self.type,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if self.errors:
            body["errors"] = self.errors
        return {**body, **self.extensions}


class BadRequest(AppError):
    status, type, title = 400, "bad-request", "Bad request"


class Unauthorized(AppError):
    status, type, title = 401, "unauthorized", "Not authenticated"

    def __init__(self, detail: str | None = None):
        super().__init__(detail, headers={"WWW-Authenticate": "Bearer"})


class Forbidden(AppError):
    status, type, title = 403, "forbidden", "Your role may not do this"


class NotFound(AppError):
    status, type, title = 404, "not-found", "Not found"


class Conflict(AppError):
    status, type, title = 409, "conflict", "Conflict"


class DuplicateCode(Conflict):
    type, title = "duplicate-code", "Code already in use"


class TooManyRequests(AppError):
    status, type, title = 429, "too-many-requests", "Too many attempts"

    def __init__(self, detail: str, *, retry_after: int):
        super().__init__(detail, headers={"Retry-After": str(max(1, retry_after))})


class InvalidInput(AppError):
    """422 naming each bad field: ``InvalidInput.field("district_id", "does not exist")``."""

    status, type, title = 422, "validation-error", "The request has invalid fields"

    @classmethod
    def field(cls, name: str, msg: str, type: str = "value_error", where: str = "body"):
        return cls.at([where, name], msg, type)

    @classmethod
    def at(cls, loc: Sequence[str | int], msg: str, type: str = "value_error"):
        """One bad value anywhere in the request: ``loc`` as FastAPI's own errors give it."""
        name = ".".join(str(part) for part in loc[1:])
        return cls(f"{name}: {msg}", errors=[{"loc": list(loc), "msg": msg, "type": type}])

    @classmethod
    def unknown_items(cls, name: str, entity: str, unknown: Sequence[tuple[int, object]]):
        """Ids in a list field that name nothing the caller can reach: (index, id) pairs."""
        shown = ", ".join(str(value) for _, value in unknown[:20])
        return cls(
            f"No {entity} with id {shown}.",
            errors=[
                {
                    "loc": ["body", name, index],
                    "msg": f"no {entity} with id {value}",
                    "type": "unknown_reference",
                }
                for index, value in unknown[:200]
            ],
        )


class UnknownReference(InvalidInput):
    type, title = "unknown-reference", "A referenced object does not exist"

    @classmethod
    def to(cls, name: str, entity: str, value: object) -> "UnknownReference":
        # Deliberately the same answer for "missing" and (later) "outside your scope".
        msg = f"no {entity} with id {value}"
        return cls(
            f"{name}: {msg}",
            errors=[{"loc": ["body", name], "msg": msg, "type": "unknown_reference"}],
        )


def problem_response(status: int, body: dict[str, Any], headers: dict[str, str] | None = None):
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def _http_title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _slug(title: str) -> str:
    return title.lower().replace(" ", "-")


async def _app_error(request: Request, exc: AppError) -> JSONResponse:
    return problem_response(exc.status, exc.body(), headers=exc.headers)


async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = [
        {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
        for e in exc.errors()
    ]
    fields = ", ".join(".".join(str(p) for p in e["loc"][1:]) or str(e["loc"][0]) for e in errors)
    body = InvalidInput(f"Invalid fields: {fields}" if fields else None, errors=errors).body()
    return problem_response(422, body)


async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    title = _http_title(exc.status_code)
    detail = exc.detail if isinstance(exc.detail, str) and exc.detail != title else None
    body = {
        "type": _TYPE_PREFIX + _slug(title),
        "title": title,
        "status": exc.status_code,
        "detail": detail,
    }
    headers = getattr(exc, "headers", None)
    if exc.status_code == 405:
        headers = {**(headers or {}), "Allow": _allowed_methods(request)}
    return problem_response(exc.status_code, body, headers=headers)


def _allowed_methods(request: Request) -> str:
    """Every method served at the path. Starlette's own Allow names only the first route
    that matched, and FastAPI keeps one route per method (GET and POST of /units are two)."""
    methods: set[str] = set()
    probe = {**request.scope, "method": ""}
    for route in iter_route_contexts(request.app.router.routes):
        match, _ = route.matches(probe)
        if match is not Match.NONE:
            methods |= route.methods or set()
    return ", ".join(sorted(methods))


async def _integrity_error(request: Request, exc: IntegrityError) -> JSONResponse:
    # A race that the service's own checks could not see (two writers, one unique code):
    # the database refused it, nothing was written.
    logger.info("integrity error answered as 409: %s", type(exc.orig).__name__)
    return problem_response(409, Conflict("The change conflicts with existing data.").body())


async def _data_error(request: Request, exc: DataError) -> JSONResponse:
    # A value the database cannot store that no check refused before (request text, query
    # parameters and the login's username are kept from holding a NUL): the caller's input,
    # and nothing was written.
    logger.info("data error answered as 422: %s", type(exc.orig).__name__)
    body = InvalidInput("A value cannot be stored (for example a NUL character in text).").body()
    return problem_response(422, body)


async def _overflow(request: Request, exc: OverflowError) -> JSONResponse:
    # SQLite's driver refuses an integer past 64 bits before the statement runs: a number
    # some parameter forgot to bound, still the caller's input, and nothing was written.
    logger.warning("overflow answered as 422", exc_info=exc)
    return problem_response(422, InvalidInput("A number is out of range.").body())


class QueryTimeout(AppError):
    status, type, title = 503, "query-timeout", "The database took too long"

    def __init__(self) -> None:
        super().__init__(
            "A database statement ran past the server's time limit and was cancelled; "
            "nothing was changed. Try again shortly, or narrow the request.",
            headers={"Retry-After": "5"},
        )


async def _operational_error(request: Request, exc: OperationalError) -> JSONResponse:
    # 57014: PostgreSQL cancelled the statement at statement_timeout (app/config.py).
    if getattr(exc.orig, "sqlstate", None) == "57014":
        logger.warning("statement timeout answered as 503")
        problem = QueryTimeout()
        return problem_response(problem.status, problem.body(), headers=problem.headers)
    return await _unhandled(request, exc)


async def _unhandled(request: Request, exc: Exception) -> JSONResponse:
    logger.exception("unhandled error")
    body = AppError("An unexpected error occurred; it has been logged.").body()
    rid = request_id_of(request)
    if rid:
        body["detail"] += f" Request id: {rid}."
    # This handler runs outside the middleware stack, so its headers are set here.
    headers = {**SECURITY_HEADERS, **({"X-Request-ID": rid} if rid else {})}
    return problem_response(500, body, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(IntegrityError, _integrity_error)
    app.add_exception_handler(DataError, _data_error)
    app.add_exception_handler(OverflowError, _overflow)
    app.add_exception_handler(OperationalError, _operational_error)
    app.add_exception_handler(Exception, _unhandled)


def problem_responses(
    *statuses: int, models: Mapping[int, type[Problem]] | None = None
) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the problems an operation can answer, so generated clients know them.

    ``models`` names a richer problem for a status (an import's row-by-row errors).
    """
    out: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        model = (models or {}).get(status) or (ValidationProblem if status == 422 else Problem)
        out[status] = {
            "model": model,
            "description": _http_title(status),
            "content": {
                PROBLEM_MEDIA_TYPE: {"schema": {"$ref": f"#/components/schemas/{model.__name__}"}}
            },
        }
        if status in _HEADERS:
            out[status]["headers"] = _HEADERS[status]
    return out


_HEADERS: dict[int, dict[str, Any]] = {
    401: {
        "WWW-Authenticate": {
            "description": "`Bearer`: log in at POST /api/v1/auth/token.",
            "schema": {"type": "string"},
        }
    },
    429: {
        "Retry-After": {
            "description": "Seconds to wait before trying again.",
            "schema": {"type": "integer"},
        }
    },
}
