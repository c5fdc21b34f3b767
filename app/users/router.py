"""/users: accounts, managed by city admins and, inside their district, by district admins."""

from typing import Annotated

from fastapi import Query, status

from app.auth.dependencies import PrincipalDep
from app.auth.principal import Role
from app.db import SessionDep
from app.errors import problem_responses
from app.idempotency.dependencies import IdempotencyDep
from app.pagination import Page, PageQuery
from app.routing import APIRouter
from app.schemas import PathId
from app.users import service
from app.users.repository import UserRepository
from app.users.schemas import UserCreate, UserRead, UserUpdate

router = APIRouter(prefix="/users", tags=["users"], responses=problem_responses(401, 422))


@router.get("", summary="List users", responses=problem_responses(403))
def list_users(
    session: SessionDep,
    principal: PrincipalDep,
    page: PageQuery,
    role: Role | None = None,
    active: bool | None = None,
    q: Annotated[str | None, Query(max_length=50, description="Part of username or name.")] = None,
) -> Page[UserRead]:
    return service.list_users(session, principal, page, q=q, role=role, active=active)


@router.post(
    "",
    summary="Create a user",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(403, 409),
)
def create_user(
    session: SessionDep, principal: PrincipalDep, body: UserCreate, idempotency: IdempotencyDep
) -> UserRead:
    def produce() -> UserRead:
        user = service.create_user(session, principal, body)
        return service.user_read(UserRepository(session, principal), user)

    return idempotency.answer(body, 201, produce)


@router.get("/{user_id}", summary="Read a user", responses=problem_responses(404))
def get_user(session: SessionDep, principal: PrincipalDep, user_id: PathId) -> UserRead:
    repo = UserRepository(session, principal)
    return service.user_read(repo, service.get_or_404(repo, user_id))


@router.patch(
    "/{user_id}",
    summary="Update, re-scope, deactivate a user or set their password",
    responses=problem_responses(403, 404, 409),
)
def update_user(
    session: SessionDep, principal: PrincipalDep, user_id: PathId, body: UserUpdate
) -> UserRead:
    user = service.update_user(session, principal, user_id, body)
    return service.user_read(UserRepository(session, principal), user)
