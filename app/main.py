"""The application factory."""

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from fastapi.routing import APIRoute
from sqlalchemy.engine import Engine

from app.audit.router import router as audit_router
from app.auth.dependencies import get_principal
from app.auth.router import router as auth_router
from app.campaign.router import router as campaign_router
from app.db import create_request_engine
from app.docs import install_docs
from app.errors import PROBLEM_MEDIA_TYPE, install_error_handlers
from app.evaluation.router import router as evaluation_router
from app.headers import SecurityHeadersMiddleware, install_cors
from app.imports.router import router as imports_router
from app.inspection.router import router as inspection_router
from app.limits import BodySizeLimitMiddleware
from app.logs import configure_logging
from app.meta.router import labels_router
from app.meta.router import router as meta_router
from app.observability import Metrics, ObservabilityMiddleware
from app.observability import router as metrics_router
from app.org.router import router as org_router
from app.rectification.router import router as rectification_router
from app.reports.bulletin_router import router as bulletin_router
from app.reports.router import router as reports_router
from app.request_context import RequestIdMiddleware
from app.standards.router import router as standards_router
from app.study.router import router as study_router
from app.users.router import router as users_router

API_PREFIX = "/api/v1"

DESCRIPTION = """
Tracks a city's education campaign for keeping party members advanced (保持共产党员先进性教育活动):
the organisation registry, the campaign's phases, study sessions and attendance, and the
reports the organisation department runs it by.

Errors are RFC 9457 `application/problem+json`. Lists take `limit` (at most 500) and `offset`.
"""


def _operation_id(route: APIRoute) -> str:
    # The route function's name (list_units, create_member...): what a generated client shows.
    return route.name


def _problems_only(app: FastAPI) -> None:
    """Error answers are documented as problem+json alone, which is what they are.

    FastAPI also lists the response model under application/json; a generated client would
    then expect a content type the server never sends.
    """
    build = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is None:
            schema = build()
            for item in schema["paths"].values():
                for operation in item.values():
                    for status, response in operation.get("responses", {}).items():
                        content = response.get("content", {})
                        if status[0] in "45" and PROBLEM_MEDIA_TYPE in content:
                            content.pop("application/json", None)
            _numbers_as_numbers(schema)
            _body_problems(schema)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _numbers_as_numbers(node: object) -> None:
    """Integer bounds as integers: FastAPI's OpenAPI models turn them into floats (1.0).
    Decimals as numbers: pydantic documents "number, or any string", and the string's
    bounds cannot be written down; a decimal numeral in a string is still accepted."""
    if isinstance(node, dict):
        if node.get("type") == "integer":
            for key in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
                if isinstance(node.get(key), float) and node[key].is_integer():
                    node[key] = int(node[key])
        kinds = node.get("anyOf")
        if (
            isinstance(kinds, list)
            and {"type": "string"} in kinds
            and any(isinstance(k, dict) and k.get("type") == "number" for k in kinds)
        ):
            kinds.remove({"type": "string"})
            if len(kinds) == 1:
                node.update(node.pop("anyOf")[0])
        for value in node.values():
            _numbers_as_numbers(value)
    elif isinstance(node, list):
        for value in node:
            _numbers_as_numbers(value)


def _body_problems(schema: dict) -> None:
    """What any operation with a body may answer before its route runs: 400 when the body
    cannot be read at all (not UTF-8 JSON), 413 past the JSON size limit (app/limits.py)."""
    for item in schema["paths"].values():
        for operation in item.values():
            if "requestBody" not in operation:
                continue
            for status, text in ((400, "Bad Request"), (413, "Content Too Large")):
                problem = {"$ref": "#/components/schemas/Problem"}
                operation["responses"].setdefault(
                    str(status),
                    {"description": text, "content": {PROBLEM_MEDIA_TYPE: {"schema": problem}}},
                )


def create_app(engine: Engine | None = None) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        if engine is None:
            app.state.engine.dispose()

    app = FastAPI(
        title="Campaign tracker",
        version="0.1.0",
        description=DESCRIPTION,
        generate_unique_id_function=_operation_id,
        lifespan=lifespan,
        # Served by app/docs.py, from local assets and under a Content-Security-Policy.
        docs_url=None,
        redoc_url=None,
    )
    app.state.engine = engine if engine is not None else create_request_engine()
    app.state.metrics = Metrics(lambda: app.state.engine)
    install_docs(app)
    install_error_handlers(app)
    _problems_only(app)
    app.add_middleware(BodySizeLimitMiddleware)
    app.add_middleware(RequestIdMiddleware)
    app.add_middleware(SecurityHeadersMiddleware)
    install_cors(app)
    app.add_middleware(ObservabilityMiddleware, metrics=app.state.metrics)  # the outermost
    app.include_router(meta_router)
    app.include_router(metrics_router)
    app.include_router(auth_router, prefix=API_PREFIX)
    # Every other API route needs a valid token, even one whose function forgets to ask
    # for the caller: the dependency is on the router, and resolved once per request.
    for router in (
        labels_router,
        org_router,
        users_router,
        audit_router,
        campaign_router,
        imports_router,
        study_router,
        rectification_router,
        inspection_router,
        standards_router,
        evaluation_router,
        reports_router,
        bulletin_router,
    ):
        app.include_router(router, prefix=API_PREFIX, dependencies=[Depends(get_principal)])
    return app


def app_from_env() -> FastAPI:
    """Uvicorn's factory entry point (``app.main:app_from_env``), run once in each worker."""
    configure_logging()
    app = create_app()
    tune_collector()
    return app


def tune_collector() -> None:
    """Tunes the cyclic garbage collector of a server process, once its app is built.

    Everything built so far (modules, routes, schemas, the engine) lives as long as the
    process, so ``gc.freeze`` takes it out of the oldest generation's collections, which
    otherwise walk it whole; and the youngest generation is collected every 10,000
    allocations instead of 700. A large report builds hundreds of thousands of dicts:
    measured on the coverage report by branch at scale 10 (23,620 rows), shaping and
    serialising took 770 ms instead of 890. Cycles made after start-up are still
    collected, only less often; what was frozen is never collected, and is meant to live
    as long as the process anyway."""
    gc.freeze()
    gc.set_threshold(10_000, 10, 10)
