"""The application factory."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from fastapi.routing import APIRoute
from sqlalchemy.engine import Engine

from app.audit.router import router as audit_router
from app.auth.dependencies import get_principal
from app.auth.router import router as auth_router
from app.campaign.router import router as campaign_router
from app.db import get_engine
from app.errors import PROBLEM_MEDIA_TYPE, install_error_handlers
from app.imports.router import router as imports_router
from app.limits import BodySizeLimitMiddleware
from app.logs import configure_logging
from app.meta.router import labels_router
from app.meta.router import router as meta_router
from app.org.router import router as org_router
from app.request_context import RequestIdMiddleware
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
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


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
    )
    app.state.engine = engine if engine is not None else get_engine()
    install_error_handlers(app)
    _problems_only(app)
    app.add_middleware(BodySizeLimitMiddleware)
    app.add_middleware(RequestIdMiddleware)
    app.include_router(meta_router)
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
    ):
        app.include_router(router, prefix=API_PREFIX, dependencies=[Depends(get_principal)])
    return app


def app_from_env() -> FastAPI:
    """Uvicorn's factory entry point (``app.main:app_from_env``)."""
    configure_logging()
    return create_app()
