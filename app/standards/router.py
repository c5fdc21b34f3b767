"""/units/{id}/standards, their versions, and the templates a unit starts from."""

from typing import Annotated

from fastapi import Query, Response, status

from app.auth.dependencies import PrincipalDep
from app.db import SessionDep
from app.errors import problem_responses
from app.idempotency.dependencies import IdempotencyDep
from app.org.enums import UnitKind
from app.pagination import Page, PageQuery
from app.routing import APIRouter
from app.schemas import PathId
from app.standards import service
from app.standards.schemas import (
    StandardCreate,
    StandardRead,
    StandardTemplateRead,
    StandardVersionRead,
)

router = APIRouter(tags=["standards"], responses=problem_responses(401, 422))


@router.get(
    "/units/{unit_id}/standards",
    summary="A unit's concrete standard (先进性具体标准): the newest version or one asked for",
    responses=problem_responses(404),
)
def get_unit_standard(
    session: SessionDep,
    principal: PrincipalDep,
    unit_id: PathId,
    version: Annotated[
        int | None, Query(ge=1, le=2**31 - 1, description="Default: the newest.")
    ] = None,
) -> StandardRead:
    return service.read_standard(session, principal, unit_id, version)


@router.post(
    "/units/{unit_id}/standards",
    summary="Write a new version of a unit's standard, whole (older versions stay readable)",
    status_code=status.HTTP_201_CREATED,
    responses={
        **problem_responses(403, 404, 409),
        200: {
            "model": StandardRead,
            "description": "The body is the newest version as it stands: nothing new.",
        },
    },
)
def create_unit_standard(
    session: SessionDep,
    principal: PrincipalDep,
    unit_id: PathId,
    body: StandardCreate,
    idempotency: IdempotencyDep,
    response: Response,
) -> StandardRead:
    if (replay := idempotency.replay(body)) is not None:
        return replay  # type: ignore[return-value]
    answer, created = service.create_version(session, principal, unit_id, body)
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    idempotency.remember(response.status_code, answer)
    return answer


@router.get(
    "/units/{unit_id}/standards/versions",
    summary="The versions of a unit's standard, newest first",
    responses=problem_responses(404),
)
def list_unit_standard_versions(
    session: SessionDep, principal: PrincipalDep, unit_id: PathId, page: PageQuery
) -> Page[StandardVersionRead]:
    return service.list_versions(session, principal, unit_id, page)


@router.get(
    "/standard-templates",
    summary="Templates of concrete standards, one per unit kind, to start a unit's from",
)
def list_standard_templates(
    principal: PrincipalDep, page: PageQuery, unit_kind: UnitKind | None = None
) -> Page[StandardTemplateRead]:
    found = service.templates(unit_kind)
    return Page(
        items=found[page.offset : page.offset + page.limit],
        total=len(found),
        limit=page.limit,
        offset=page.offset,
    )
