"""Logging in: password check, the brute-force brake, and the token."""

from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.audit import service as audit
from app.auth.models import LoginFailure, User
from app.auth.passwords import verify_password, waste_equal_time
from app.auth.principals import district_of_user
from app.auth.tokens import issue_token
from app.clock import utcnow
from app.config import get_settings
from app.errors import TooManyRequests, Unauthorized


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    expires_in: int


class BadCredentials(Unauthorized):
    type, title = "bad-credentials", "Wrong username or password"


def _retry_after(session: Session, username: str) -> int | None:
    """Seconds until another attempt is allowed, or None while under the limit.

    The limit counts failures inside the sliding window; attempts refused here are not
    counted, so a locked account opens again when its oldest counted failure ages out.
    """
    settings = get_settings()
    window = timedelta(minutes=settings.login_failure_window_minutes)
    now = utcnow()
    recent = session.scalars(
        sa.select(LoginFailure.at)
        .where(LoginFailure.username == username, LoginFailure.at > now - window)
        .order_by(LoginFailure.at.desc())
        .limit(settings.login_max_failures)
    ).all()
    if len(recent) < settings.login_max_failures:
        return None
    return max(1, int((recent[-1] + window - now).total_seconds()) + 1)


def _remember_failure(session: Session, username: str, user: User | None) -> None:
    """Stores the failure and commits it at once: the request will fail, and its session
    roll back, yet the attempt must still count (and be audited) for every worker."""
    now = utcnow()
    window = timedelta(minutes=get_settings().login_failure_window_minutes)
    session.execute(
        sa.delete(LoginFailure).where(
            LoginFailure.username == username, LoginFailure.at <= now - window
        )
    )
    session.add(LoginFailure(username=username, at=now))
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


def log_in(session: Session, username: str, password: str, key: str) -> IssuedToken:
    username = username.strip().lower()[:50]
    retry_after = _retry_after(session, username)
    if retry_after is not None:
        raise TooManyRequests(
            "Too many failed logins for this username; try again later.",
            retry_after=retry_after,
        )
    user = session.scalar(sa.select(User).where(User.username == username))
    if user is None:
        waste_equal_time(password)
        ok = False
    else:
        ok = verify_password(password, user.password_hash) and user.is_active
    if not ok:
        _remember_failure(session, username, user)
        raise BadCredentials("The username or the password is wrong.")
    session.execute(sa.delete(LoginFailure).where(LoginFailure.username == username))
    token, expires_in = issue_token(user.id, user.token_version, key)
    return IssuedToken(token, expires_in)
