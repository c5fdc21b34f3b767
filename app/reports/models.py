from datetime import date

from sqlmodel import Field

from app.org.models import Timestamped


class WeakBranchMark(Timestamped, table=True):
    """A branch the department marked weak (软弱涣散) by hand, with its consolidation plan
    (整建方案). One per branch: marking it again rewrites the plan; the audit log keeps
    what it said before."""

    __tablename__ = "weak_branch_mark"

    branch_id: int = Field(foreign_key="branch.id", primary_key=True)
    reason: str = Field(max_length=1000)
    plan: str = Field(max_length=4000)
    due_on: date
    status: str = Field(default="open", max_length=20, index=True)
    marked_by: int | None = Field(default=None, foreign_key="app_user.id")
