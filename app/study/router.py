"""/sessions, their attendance, offline sync, and a member's study."""

import uuid
from typing import Annotated

from fastapi import Path, Query, Response, status

from app.auth.dependencies import PrincipalDep
from app.campaign.enums import Phase
from app.db import SessionDep
from app.errors import problem_responses
from app.idempotency.dependencies import IdempotencyDep
from app.pagination import Page, PageQuery, paginate
from app.routing import APIRouter
from app.schemas import MAX_ID, Day, PathId
from app.study import member_view, service, sync
from app.study.repository import SessionFilter, SessionRepository
from app.study.schemas import (
    AttendanceRead,
    AttendanceSet,
    AttendanceWritten,
    MemberStudyRead,
    SessionCreate,
    SessionDetail,
    SessionRead,
    SessionUpdate,
    SyncRequest,
    SyncResult,
)

router = APIRouter(tags=["study"], responses=problem_responses(401, 422))

SessionId = Annotated[uuid.UUID, Path(description="The session's UUID.")]
ParentId = Annotated[int | None, Query(ge=1, le=MAX_ID)]
WRITE = problem_responses(403, 404, 409, 413)


def _detail(session, principal, study_session) -> SessionDetail:
    records = SessionRepository(session, principal).attendance(study_session.id)
    return SessionDetail(
        **SessionRead.model_validate(study_session).model_dump(),
        attendance=[AttendanceRead.model_validate(r) for r in records],
    )


@router.get("/sessions", summary="List study sessions")
def list_sessions(
    session: SessionDep,
    principal: PrincipalDep,
    page: PageQuery,
    branch_id: ParentId = None,
    unit_id: ParentId = None,
    district_id: ParentId = None,
    phase: Phase | None = None,
    held_from: Day | None = None,
    held_to: Day | None = None,
) -> Page[SessionRead]:
    f = SessionFilter(branch_id, unit_id, district_id, phase and phase.value, held_from, held_to)
    stmt = SessionRepository(session, principal).search(f)
    return paginate(session, stmt, page, SessionRead.model_validate)


@router.post(
    "/sessions",
    summary="Record a study session, optionally with its attendance",
    status_code=status.HTTP_201_CREATED,
    responses={
        **WRITE,
        200: {
            "model": SessionDetail,
            "description": "The session was sent before (same client id): the stored "
            "session, with the attendance sent now written if there is one.",
        },
    },
)
def create_session(
    session: SessionDep,
    principal: PrincipalDep,
    body: SessionCreate,
    idempotency: IdempotencyDep,
    response: Response,
) -> SessionDetail:
    if (replay := idempotency.replay(body)) is not None:
        return replay  # type: ignore[return-value]
    study_session, created = service.create_session(session, principal, body)
    answer = _detail(session, principal, study_session)
    if not created:
        response.status_code = status.HTTP_200_OK
    idempotency.remember(response.status_code or status.HTTP_201_CREATED, answer)
    return answer


@router.get(
    "/sessions/{session_id}",
    summary="Read a session with its attendance",
    responses=problem_responses(404),
)
def get_session(
    session: SessionDep, principal: PrincipalDep, session_id: SessionId
) -> SessionDetail:
    return _detail(session, principal, service.get_or_404(session, principal, session_id))


@router.patch(
    "/sessions/{session_id}",
    summary="Change a session (totals follow)",
    description="Only the fields sent are changed; sending what is recorded changes nothing. "
    "Hours below a member's own recorded hours are refused (422): correct their attendance "
    "first.",
    responses=WRITE,
)
def update_session(
    session: SessionDep, principal: PrincipalDep, session_id: SessionId, body: SessionUpdate
) -> SessionDetail:
    return _detail(session, principal, service.update_session(session, principal, session_id, body))


@router.delete(
    "/sessions/{session_id}",
    summary="Delete a session and its attendance (totals follow)",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=WRITE,
)
def delete_session(session: SessionDep, principal: PrincipalDep, session_id: SessionId) -> None:
    service.delete_session(session, principal, session_id)


@router.put(
    "/sessions/{session_id}/attendance",
    summary="Write a session's attendance set (the same set twice changes nothing)",
    responses=WRITE,
)
def put_attendance(
    session: SessionDep, principal: PrincipalDep, session_id: SessionId, body: AttendanceSet
) -> AttendanceWritten:
    return service.put_attendance(session, principal, session_id, body.records)


@router.post(
    "/sync/sessions",
    summary="Sync a phone's offline sessions: one result per item",
    responses=problem_responses(403, 409),
)
def sync_sessions(
    session: SessionDep, principal: PrincipalDep, body: SyncRequest, idempotency: IdempotencyDep
) -> list[SyncResult]:
    if (replay := idempotency.replay(body)) is not None:
        return replay  # type: ignore[return-value]
    results = sync.sync_sessions(session, principal, body)
    idempotency.remember(status.HTTP_200_OK, results)
    return results


@router.get(
    "/members/{member_id}/study",
    summary="A member's study: hours per phase, sessions, gap and remedy",
    responses=problem_responses(404),
)
def get_member_study(
    session: SessionDep, principal: PrincipalDep, member_id: PathId
) -> MemberStudyRead:
    return member_view.member_study(session, principal, member_id)
