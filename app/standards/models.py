from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.clock import utcnow
from app.db import UTCDateTime

TEXT_LENGTH = 1000
POST_LENGTH = 100


class StandardVersion(SQLModel, table=True):
    """One version of a unit's concrete standard (先进性具体标准). A new version never
    rewrites an older one: what members were measured by stays readable."""

    __tablename__ = "standard_version"
    __table_args__ = (sa.UniqueConstraint("unit_id", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id")
    version: int
    # The unit kind whose template the version started from, if any.
    from_template: str | None = Field(default=None, max_length=20)
    note: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    created_by: int | None = Field(default=None, foreign_key="app_user.id")
    username: str = Field(max_length=50)


class StandardItem(SQLModel, table=True):
    """One requirement of a version, for a post (岗位), a category of member, or everyone
    (neither given). ``position`` keeps the order the unit wrote them in."""

    __tablename__ = "standard_item"

    version_id: int = Field(foreign_key="standard_version.id", primary_key=True)
    position: int = Field(primary_key=True)
    post: str | None = Field(default=None, max_length=POST_LENGTH)
    category: str | None = Field(default=None, max_length=20)
    text: str = Field(max_length=TEXT_LENGTH)
