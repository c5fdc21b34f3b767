"""/audit: who changed what, when, from which request."""

from typing import Annotated

from fastapi import Query

from app.audit import service
from app.audit.repository import AuditFilter
from app.audit.schemas import AuditEntryRead
from app.auth.dependencies import PrincipalDep
from app.db import SessionDep
from app.errors import problem_responses
from app.pagination import Page, PageQuery
from app.routing import APIRouter
from app.schemas import MAX_ID, Instant

router = APIRouter(tags=["audit"], responses=problem_responses(401, 403, 422))

Word = Annotated[str | None, Query(max_length=64)]


@router.get("/audit", summary="Read the audit log, newest first")
def list_audit_entries(
    session: SessionDep,
    principal: PrincipalDep,
    page: PageQuery,
    entity: Annotated[str | None, Query(max_length=30, description="e.g. member, user")] = None,
    entity_id: Word = None,
    user_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    action: Annotated[str | None, Query(max_length=30, description="e.g. update")] = None,
    since: Annotated[Instant | None, Query(description="From this instant on.")] = None,
    until: Annotated[Instant | None, Query(description="Before this instant.")] = None,
) -> Page[AuditEntryRead]:
    f = AuditFilter(entity, entity_id, user_id, action, since, until)
    return service.list_entries(session, principal, f, page)
