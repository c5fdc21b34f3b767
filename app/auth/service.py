"""Logging in: the brute-force brake, the password check and the token.

Login runs its own short transactions on the engine instead of the request's session: the
slow Argon2 check must not run inside a transaction, where on SQLite it would hold the
write lock and make every other writer wait.
"""

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from app.audit import service as audit
from app.auth import attempts
from app.auth.models import User
from app.auth.passwords import verify_password, waste_equal_time
from app.auth.principals import district_of_user
from app.auth.tokens import issue_token
from app.db import new_session
from app.errors import Unauthorized
from app.schemas import CONTROL


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    expires_in: int


class BadCredentials(Unauthorized):
    type, title = "bad-credentials", "Wrong username or password"


def normalise_username(username: str) -> str:
    """What a login attempt is counted, looked up and audited under. No account's name holds
    a control character, so one with any is an unknown user and answers the same 401. They
    are replaced (U+FFFD) rather than refused: PostgreSQL cannot store or even compare a
    NUL, and the failed attempt must still be braked and audited under a recognisable name."""
    return CONTROL.sub("\ufffd", username.strip().lower())[:50]


def log_in(engine: Engine, username: str, password: str, key: str) -> IssuedToken:
    username = normalise_username(username)
    with new_session(engine, write=True) as session:
        attempts.reserve(session, username)  # 429 past the limit
        user = session.scalar(sa.select(User).where(User.username == username))
        session.commit()

    if user is None:
        waste_equal_time(password)
        ok = False
    else:
        ok = verify_password(password, user.password_hash) and user.is_active

    with new_session(engine, write=True) as session:
        if ok:
            attempts.succeeded(session, username)
        else:
            audit.record(
                session,
                None,
                "login_failed",
                "user",
                user.id if user is not None else None,
                district_id=district_of_user(session, user) if user is not None else None,
                username=username,
            )
        session.commit()
    if not ok:
        raise BadCredentials("The username or the password is wrong.")
    token, expires_in = issue_token(user.id, user.token_version, key)
    return IssuedToken(token, expires_in)
