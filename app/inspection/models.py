from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.db import BigIntKey
from app.org.models import Timestamped
from app.rectification.models import TEXT_LENGTH


class Inspection(Timestamped, table=True):
    """A supervision team's visit to a unit (督导检查). The team is a list of names: its
    members need no account of their own."""

    __table_args__ = (sa.Index("ix_inspection_unit_id_inspected_on", "unit_id", "inspected_on"),)

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id")
    inspected_on: date
    team: list[Any] = Field(sa_type=sa.JSON)
    assessment: str = Field(max_length=10)
    summary: str | None = Field(default=None, max_length=TEXT_LENGTH)
    created_by: int | None = Field(default=None, foreign_key="app_user.id")


class InspectionFinding(SQLModel, table=True):
    """One finding of an inspection; ``rectification_id`` is the item it opened, if any."""

    __tablename__ = "inspection_finding"

    id: int | None = Field(default=None, sa_type=BigIntKey, primary_key=True)
    inspection_id: int = Field(foreign_key="inspection.id", index=True)
    position: int  # the order the team wrote them in
    text: str = Field(max_length=TEXT_LENGTH)
    severity: str = Field(max_length=10)
    rectification_id: int | None = Field(
        default=None, sa_type=BigIntKey, foreign_key="rectification_item.id", index=True
    )
