"""The brake on password guessing, shared by login and password change.

An attempt is counted *before* the password is checked: the caller reserves it in a short
transaction that also checks the limit, so that guesses sent in parallel cannot all slip
under the limit while the slow hash runs. A right password then takes its reservation back.
Counts live in the database, so every worker sees the same ones.
"""

from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.auth.models import LoginFailure
from app.clock import utcnow
from app.config import get_settings
from app.db import advisory_xact_lock
from app.errors import TooManyRequests


def _window() -> timedelta:
    return timedelta(minutes=get_settings().login_failure_window_minutes)


def reserve(session: Session, username: str) -> int:
    """Counts one attempt for ``username`` and answers its id, or raises 429 when the limit
    of failures in the window is reached (refused attempts are not counted, so the lock
    opens when the oldest counted failure ages out). The caller commits."""
    advisory_xact_lock(session, f"login:{username}")  # one reservation per username at a time
    now, window = utcnow(), _window()
    # Old failures of any username go: unknown names tried once must not pile up forever.
    session.execute(sa.delete(LoginFailure).where(LoginFailure.at <= now - window))
    limit = get_settings().login_max_failures
    recent = session.scalars(
        sa.select(LoginFailure.at)
        .where(LoginFailure.username == username, LoginFailure.at > now - window)
        .order_by(LoginFailure.at.desc())
        .limit(limit)
    ).all()
    if len(recent) >= limit:
        retry_after = int((recent[-1] + window - now).total_seconds()) + 1
        raise TooManyRequests(
            "Too many failed attempts for this username; try again later.",
            retry_after=retry_after,
        )
    attempt = LoginFailure(username=username, at=now)
    session.add(attempt)
    session.flush()
    return attempt.id


def succeeded(session: Session, username: str) -> None:
    """The password was right: the reservation and earlier failures are forgotten."""
    session.execute(sa.delete(LoginFailure).where(LoginFailure.username == username))
