"""Bearer tokens: JWTs signed with SECRET_KEY, or with a key made once and kept in the database."""

import secrets
from dataclasses import dataclass
from datetime import timedelta

import jwt
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from app.auth.models import AppSecret
from app.clock import utcnow
from app.config import get_settings

ALGORITHM = "HS256"
_SECRET_NAME = "token_signing_key"


@dataclass(frozen=True)
class TokenClaims:
    user_id: int
    version: int


class InvalidToken(Exception):
    pass


def issue_token(user_id: int, version: int, key: str) -> tuple[str, int]:
    """A token for the user at their current token version, and its lifetime in seconds."""
    lifetime = timedelta(minutes=get_settings().access_token_minutes)
    now = utcnow()
    claims = {"sub": str(user_id), "ver": version, "iat": now, "exp": now + lifetime}
    return jwt.encode(claims, key, algorithm=ALGORITHM), int(lifetime.total_seconds())


def read_token(token: str, key: str) -> TokenClaims:
    try:
        claims = jwt.decode(
            token, key, algorithms=[ALGORITHM], options={"require": ["sub", "ver", "exp"]}
        )
        return TokenClaims(user_id=int(claims["sub"]), version=int(claims["ver"]))
    except jwt.ExpiredSignatureError as exc:
        raise InvalidToken("The token has expired.") from exc
    except (jwt.InvalidTokenError, ValueError, TypeError) as exc:
        raise InvalidToken("The token is not valid.") from exc


def signing_key(engine: Engine) -> str:
    """SECRET_KEY when set; otherwise the key stored in the database, made by whichever
    process asks first. Every worker reads the same row, so a token from one is good at all."""
    configured = get_settings().secret_key
    if configured is not None:
        return configured.get_secret_value()
    select = sa.select(AppSecret.value).where(AppSecret.name == _SECRET_NAME)
    with engine.connect() as conn:
        stored = conn.scalar(select)
    if stored is not None:
        return stored
    try:
        with engine.begin() as conn:
            conn.execute(
                sa.insert(AppSecret).values(name=_SECRET_NAME, value=secrets.token_urlsafe(48))
            )
    except IntegrityError:
        pass  # another worker stored its key first; theirs is the one
    with engine.connect() as conn:
        return conn.scalar(select)
