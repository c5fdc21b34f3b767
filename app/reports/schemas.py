"""The reports' rows, as the JSON answers give them (and the exports read them)."""

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from app.campaign.enums import Phase, Remedy
from app.org.enums import MemberCategory
from app.reports.enums import GapReason, ReportLevel, WeakMarkStatus, WeakReason
from app.schemas import InputSchema, ReadSchema
from app.study.enums import SessionFormat


def share(part: int, whole: int) -> float | None:
    """part / whole to 4 decimals, rounded half to even as the look-back's Decimal is (in
    integers: this runs for every row of every report); None when there is no whole."""
    if not whole:
        return None
    q, r = divmod(part * 10_000, whole)
    if 2 * r > whole or (2 * r == whole and q % 2):
        q += 1
    return q / 10_000


class CategoryCounts(BaseModel):
    members: int
    participated: int
    met_hours: int
    coverage: float | None = Field(description="met_hours / members; null with no members.")


class CoverageRow(BaseModel):
    id: int | None = Field(description="The row's district, unit or branch; null for the city.")
    code: str | None
    name: str
    members: int = Field(description="Active members counted (exempted ones left out).")
    participated: int = Field(description="Members who attended anything in the phase.")
    met_hours: int = Field(description="Members whose hours reach the phase's requirement.")
    coverage: float | None = Field(description="met_hours / members; null with no members.")
    avg_hours: float | None = Field(description="Mean hours per member; null with no members.")
    sessions: int = Field(description="Sessions the row's branches held in the phase.")
    formats_used: int = Field(description="How many session formats those sessions used.")
    leader_lectures: int = Field(description="Sessions given by a leading cadre (领导讲党课).")
    formats: list[SessionFormat]
    categories: dict[MemberCategory, CategoryCounts]


class CoverageReport(BaseModel):
    level: ReportLevel
    batch_id: int | None
    phase: Phase | None = Field(description="The phase asked for; null: each unit's current.")
    as_of: date
    rows: list[CoverageRow] = Field(description="Sorted by coverage, lowest first.")
    total: CoverageRow


class GapRow(BaseModel):
    member_id: int
    member_name: str
    branch_id: int
    branch_name: str
    unit_id: int
    unit_name: str
    categories: list[MemberCategory]
    phase: Phase
    hours: float
    required: float
    missing_hours: float
    last_attended_on: date | None
    days_since: int | None = Field(description="Days since last attended; null: never.")
    reasons: list[GapReason]
    remedy: Remedy


class DeadCorner(BaseModel):
    branch_id: int
    branch_code: str
    branch_name: str
    unit_id: int
    unit_name: str
    district_id: int
    district_name: str
    category: MemberCategory
    members: int = Field(description="Members of the category in the branch, none reached.")


class WeakMarkRead(ReadSchema):
    reason: str
    plan: str
    due_on: date
    status: WeakMarkStatus
    marked_at: datetime
    marked_by: str | None


class WeakBranch(BaseModel):
    branch_id: int
    branch_code: str
    branch_name: str
    unit_id: int
    unit_name: str
    district_id: int
    district_name: str
    members: int
    participated: int
    participation: float | None = Field(description="participated / members; null: none.")
    last_session_on: date | None
    days_without_session: int | None = Field(
        description="Days without a session, when that flags the branch."
    )
    reasons: list[WeakReason]
    mark: WeakMarkRead | None


Text = Annotated[str, StringConstraints(min_length=2, max_length=1000)]
Plan = Annotated[str, StringConstraints(min_length=2, max_length=4000)]


class WeakMarkWrite(InputSchema):
    reason: Text = Field(description="Why the branch is weak.")
    plan: Plan = Field(description="The consolidation plan (整建方案).")
    due_on: date = Field(description="When the consolidation is due.")
    status: WeakMarkStatus = WeakMarkStatus.open


class WeakMarkAnswer(WeakMarkRead):
    branch_id: int
