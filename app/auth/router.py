"""Log in, who am I, change my password."""

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordRequestForm

from app.auth import service
from app.auth.dependencies import PrincipalDep, app_signing_key
from app.auth.principal import Principal, Role
from app.auth.schemas import MeRead, ScopeRead, Token
from app.auth.tokens import issue_token
from app.db import SessionDep
from app.errors import problem_responses
from app.routing import APIRouter
from app.users import service as users
from app.users.repository import UserRepository
from app.users.schemas import PasswordChange

router = APIRouter(prefix="/auth", tags=["auth"])

_LEVEL = {
    Role.city_admin: "city",
    Role.district_admin: "district",
    Role.unit_admin: "unit",
    Role.branch_secretary: "branch",
    Role.inspector: "inspected_units",
}


@router.post(
    "/token",
    summary="Log in with username and password",
    responses=problem_responses(401, 422, 429),
)
def log_in(request: Request, form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> Token:
    engine = request.app.state.engine
    issued = service.log_in(engine, form.username, form.password, app_signing_key(request))
    return Token(access_token=issued.access_token, expires_in=issued.expires_in)


def _scope(p: Principal) -> ScopeRead:
    return ScopeRead(
        level=_LEVEL[p.role],
        district_id=p.district_id,
        unit_id=p.unit_id,
        branch_id=p.branch_id,
        unit_ids=sorted(p.unit_ids),
        district_ids=sorted(p.district_ids),
    )


@router.get("/me", summary="Who am I: my account, role and scope", responses=problem_responses(401))
def read_me(session: SessionDep, principal: PrincipalDep) -> MeRead:
    repo = UserRepository(session, principal)
    me = users.user_read(repo, users.get_or_404(repo, principal.user_id))
    return MeRead(**me.model_dump(), scope=_scope(principal))


@router.post(
    "/password",
    summary="Change my password: answers a new token; all earlier ones stop working",
    responses=problem_responses(401, 422, 429),
)
def change_my_password(
    request: Request, session: SessionDep, principal: PrincipalDep, body: PasswordChange
) -> Token:
    user = users.change_own_password(session, principal, body)
    token, expires_in = issue_token(user.id, user.token_version, app_signing_key(request))
    return Token(access_token=token, expires_in=expires_in)
