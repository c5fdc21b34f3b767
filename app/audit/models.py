from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.clock import utcnow
from app.db import BigIntKey, UTCDateTime


class AuditEntry(SQLModel, table=True):
    """One write: who, what, when, from which request, and the fields before and after.

    Written in the same transaction as the change it records, so neither exists without the
    other. ``district_id`` is where the changed object lies, so district admins read their own.
    """

    __tablename__ = "audit_entry"
    __table_args__ = (sa.Index("ix_audit_entry_entity_entity_id", "entity", "entity_id"),)

    id: int | None = Field(default=None, sa_type=BigIntKey, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False, index=True)
    user_id: int | None = Field(default=None, foreign_key="app_user.id", index=True)
    username: str = Field(max_length=50)
    action: str = Field(max_length=30, index=True)
    entity: str = Field(max_length=30)
    entity_id: str | None = Field(default=None, max_length=64)
    district_id: int | None = Field(default=None, foreign_key="district.id", index=True)
    request_id: str | None = Field(default=None, max_length=128)
    before: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON)
    after: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON)
