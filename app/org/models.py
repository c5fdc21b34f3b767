from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.clock import utcnow
from app.db import BigIntKey, UTCDateTime
from app.org.enums import MemberCategory

CODE_LENGTH = 32
NAME_LENGTH = 200


class Timestamped(SQLModel):
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(
        default_factory=utcnow,
        sa_type=UTCDateTime,
        nullable=False,
        sa_column_kwargs={"onupdate": utcnow},
    )


class District(Timestamped, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=CODE_LENGTH, unique=True)
    name: str = Field(max_length=NAME_LENGTH)


class Unit(Timestamped, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=CODE_LENGTH, unique=True)
    name: str = Field(max_length=NAME_LENGTH)
    district_id: int = Field(foreign_key="district.id", index=True)
    # Stored as the code (a plain string): adding a kind needs no schema change.
    kind: str = Field(max_length=20)


class Branch(Timestamped, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=CODE_LENGTH, unique=True)
    name: str = Field(max_length=NAME_LENGTH)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    secretary_name: str | None = Field(default=None, max_length=50)


class Member(Timestamped, table=True):
    id: int | None = Field(default=None, sa_type=BigIntKey, primary_key=True)
    name: str = Field(max_length=50)
    gender: str = Field(max_length=10)
    birth_date: date | None = None
    joined_on: date | None = None
    branch_id: int = Field(foreign_key="branch.id", index=True)
    # One flag per category rather than a join table: reports count them with a plain SUM
    # in the same GROUP BY, and "the categories as they are now" is one row to read.
    is_migrant: bool = Field(default=False)
    is_outgoing: bool = Field(default=False)
    is_retired: bool = Field(default=False)
    is_infirm: bool = Field(default=False)
    # Personal data: stored only where given, masked on the way out.
    id_number: str | None = Field(default=None, max_length=18, unique=True)
    phone: str | None = Field(default=None, max_length=11)
    status: str = Field(default="active", max_length=20, index=True)

    @property
    def categories(self) -> list[MemberCategory]:
        return [c for c in MemberCategory if getattr(self, CATEGORY_COLUMNS[c])]

    def set_categories(self, categories: set[MemberCategory]) -> None:
        for category, column in CATEGORY_COLUMNS.items():
            setattr(self, column, category in categories)


CATEGORY_COLUMNS: dict[MemberCategory, str] = {c: f"is_{c.value}" for c in MemberCategory}


class MemberTransfer(SQLModel, table=True):
    """One move of a member between branches; the history is never rewritten."""

    __tablename__ = "member_transfer"

    id: int | None = Field(default=None, sa_type=BigIntKey, primary_key=True)
    member_id: int = Field(sa_type=BigIntKey, foreign_key="member.id", index=True)
    from_branch_id: int = Field(foreign_key="branch.id")
    to_branch_id: int = Field(foreign_key="branch.id")
    reason: str = Field(max_length=500)
    transferred_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


__all__ = ["Branch", "District", "Member", "MemberTransfer", "Unit", "sa"]
