import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Self

from pydantic import Field, StringConstraints, model_validator

from app.campaign.enums import Phase, Remedy
from app.org.enums import MemberCategory
from app.schemas import Id, InputSchema, PatchSchema, ReadSchema
from app.study.enums import AttendanceStatus, SessionFormat

MAX_RECORDS = 1000
MAX_SYNC_ITEMS = 100

SessionHours = Annotated[
    Decimal, Field(ge=Decimal("0.5"), le=12, multiple_of=Decimal("0.5"), description="0.5 to 12.")
]
RecordHours = Annotated[
    Decimal,
    Field(
        ge=0,
        le=12,
        multiple_of=Decimal("0.5"),
        description="Fewer hours than the session's (left early); left out: all of them.",
    ),
]
Topic = Annotated[str, StringConstraints(min_length=1, max_length=200)]
ShortText = Annotated[str, StringConstraints(max_length=200)]
PersonName = Annotated[str, StringConstraints(min_length=1, max_length=100)]


class AttendanceRecord(InputSchema):
    member_id: Id
    status: AttendanceStatus
    hours: RecordHours | None = None

    @model_validator(mode="after")
    def _hours_only_when_earned(self) -> Self:
        if self.hours is not None and not self.status.earns:
            raise ValueError("hours are given only for present or late")
        return self


# The count is checked by the service (413 past it); the 1 MB body limit bounds parsing.
Records = Annotated[list[AttendanceRecord], Field(description=f"At most {MAX_RECORDS} records.")]


class AttendanceSet(InputSchema):
    """The session's whole attendance: it replaces what was recorded before."""

    records: Records


class SessionFields(InputSchema):
    held_on: date
    format: SessionFormat
    hours: SessionHours
    topic: Topic
    lecturer: PersonName | None = None
    lecturer_is_leading_cadre: bool = Field(
        default=False, description="A party lecture given by a leading cadre (领导干部讲党课)."
    )
    location: ShortText | None = None


class SessionCreate(SessionFields):
    id: uuid.UUID | None = Field(
        default=None,
        description="Made by the client (offline phones): sending the same session again "
        "creates nothing new (without a phase, it keeps its own). An attendance set sent "
        "with it replaces the recorded one, as offline sync does: the phone's latest word.",
    )
    branch_id: Id
    phase: Phase | None = Field(default=None, description="Default: the unit's current phase.")
    attendance: Records | None = None


class SessionUpdate(PatchSchema):
    non_nullable = frozenset(
        {"held_on", "format", "hours", "topic", "lecturer_is_leading_cadre", "phase"}
    )

    phase: Phase | None = None
    held_on: date | None = None
    format: SessionFormat | None = None
    hours: SessionHours | None = None
    topic: Topic | None = None
    lecturer: PersonName | None = None
    lecturer_is_leading_cadre: bool | None = None
    location: ShortText | None = None


class SessionRead(ReadSchema):
    id: uuid.UUID
    branch_id: int
    unit_id: int
    batch_id: int
    phase: Phase
    held_on: date
    format: SessionFormat
    hours: float
    topic: str
    lecturer: str | None
    lecturer_is_leading_cadre: bool
    location: str | None
    created_at: datetime
    updated_at: datetime


class AttendanceRead(ReadSchema):
    member_id: int
    status: AttendanceStatus
    hours: float | None
    credited: float
    is_guest: bool


class AttendanceWritten(ReadSchema):
    """What a phone needs back after writing a set: short, over a slow link."""

    session_id: uuid.UUID
    changed: bool = Field(description="False when the set was already recorded as sent.")
    records: int
    present: int
    late: int
    excused: int
    absent: int
    credited_hours: float


class SessionDetail(SessionRead):
    attendance: list[AttendanceRead]


class SyncItem(SessionFields):
    id: uuid.UUID = Field(description="The client's UUID for the session.")
    branch_id: Id
    phase: Phase | None = None
    attendance: Records | None = Field(
        default=None, description="Left out: the recorded set stays as it is; [] clears it."
    )


class SyncRequest(InputSchema):
    sessions: Annotated[list[SyncItem], Field(min_length=1, max_length=MAX_SYNC_ITEMS)]


class SyncResult(ReadSchema):
    id: uuid.UUID
    result: Annotated[str, Field(description="created, unchanged, updated or rejected")]
    problem: dict | None = Field(default=None, description="Why it was rejected (problem+json).")


class PhaseStudy(ReadSchema):
    batch_id: int
    phase: Phase
    hours: float
    sessions: int
    last_attended_on: date | None
    required_hours: float | None


class AttendedSession(ReadSchema):
    session_id: uuid.UUID
    held_on: date
    phase: Phase
    format: SessionFormat
    topic: str
    status: AttendanceStatus
    credited: float
    is_guest: bool


class MemberStudyRead(ReadSchema):
    member_id: int
    categories: list[MemberCategory]
    phases: list[PhaseStudy]
    current_phase: Phase | None
    gap: bool
    reasons: list[str] = Field(description="below_hours, inactive_30d")
    remedy: Remedy | None
    sessions: list[AttendedSession]
