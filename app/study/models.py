from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.db import BigIntKey


class MemberStudyTotal(SQLModel, table=True):
    """A member's running totals in one phase of one batch.

    The attendance write keeps this row up to date in its own transaction, so that the
    look-back and the reports cost what the number of members costs, not the number of
    attendance records.
    """

    __tablename__ = "member_study_total"
    __table_args__ = (sa.Index("ix_member_study_total_batch_id_phase", "batch_id", "phase"),)

    member_id: int = Field(sa_type=BigIntKey, foreign_key="member.id", primary_key=True)
    batch_id: int = Field(foreign_key="batch.id", primary_key=True)
    phase: str = Field(max_length=20, primary_key=True)
    hours: Decimal = Field(default=Decimal(0), sa_type=sa.Numeric(7, 1))
    sessions: int = Field(default=0)
    last_attended_on: date | None = None
