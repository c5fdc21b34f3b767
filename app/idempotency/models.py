from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.clock import utcnow
from app.db import BigIntKey, UTCDateTime


class IdempotencyKey(SQLModel, table=True):
    """A creating request's key and the answer it got, kept a day, in the database so that
    every worker replays the same answer."""

    __tablename__ = "idempotency_key"
    __table_args__ = (sa.UniqueConstraint("user_id", "key"),)

    id: int | None = Field(default=None, sa_type=BigIntKey, primary_key=True)
    user_id: int = Field(foreign_key="app_user.id")
    key: str = Field(max_length=255)
    # Method, path and canonical body, hashed: the same key with another request is an error.
    request_hash: str = Field(max_length=64)
    status: int
    response: Any = Field(sa_type=sa.JSON)
    created_at: datetime = Field(
        default_factory=utcnow, sa_type=UTCDateTime, nullable=False, index=True
    )
