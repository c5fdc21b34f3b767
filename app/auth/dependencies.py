"""The caller of a request, from its bearer token: the one dependency every API route needs."""

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from app.auth.principal import Principal
from app.auth.principals import principal_by_id
from app.auth.tokens import InvalidToken, read_token, signing_key
from app.db import SessionDep
from app.errors import Unauthorized
from app.schemas import printable_query

TOKEN_URL = "/api/v1/auth/token"

# auto_error off: a missing token is answered by our own 401 problem, not FastAPI's.
bearer = OAuth2PasswordBearer(tokenUrl=TOKEN_URL, auto_error=False)


def app_signing_key(request: Request) -> str:
    """The key, read from settings or the database once per process."""
    state = request.app.state
    if getattr(state, "signing_key", None) is None:
        state.signing_key = signing_key(state.engine)
    return state.signing_key


def get_principal(
    request: Request, session: SessionDep, token: Annotated[str | None, Depends(bearer)]
) -> Principal:
    if not token:
        raise Unauthorized("Log in at POST /api/v1/auth/token and send the token as Bearer.")
    try:
        claims = read_token(token, app_signing_key(request))
    except InvalidToken as exc:
        raise Unauthorized(str(exc)) from exc
    principal = principal_by_id(session, claims.user_id, claims.version)
    if principal is None:
        raise Unauthorized("The token is no longer valid; log in again.")
    # For the request's log line (app/observability.py): who, by id only.
    request.state.user_id = principal.user_id
    # Here, once the caller is known, rather than before: an anonymous caller is told to log
    # in (401) whatever its query says. Every route that reads query text takes a principal.
    printable_query(request)
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]
