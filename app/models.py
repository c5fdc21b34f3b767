"""Every table of every domain, imported in one place for Alembic and the metadata test."""

from sqlmodel import SQLModel

from app.audit.models import AuditEntry
from app.auth.models import AppSecret, InspectorUnit, LoginFailure, User
from app.campaign.models import (
    Batch,
    BatchPhase,
    Campaign,
    MemberExemption,
    PhaseMove,
    UnitProgress,
)
from app.evaluation.models import Evaluation
from app.idempotency.models import IdempotencyKey
from app.inspection.models import Inspection, InspectionFinding
from app.org.models import Branch, District, Member, MemberTransfer, Unit
from app.rectification.models import RectificationItem, RectificationStep
from app.reports.models import WeakBranchMark
from app.standards.models import StandardItem, StandardVersion
from app.study.models import Attendance, BranchSessionTotal, MemberStudyTotal, StudySession

metadata = SQLModel.metadata

__all__ = [
    "AppSecret",
    "Attendance",
    "AuditEntry",
    "Batch",
    "BatchPhase",
    "Branch",
    "BranchSessionTotal",
    "Campaign",
    "District",
    "Evaluation",
    "IdempotencyKey",
    "Inspection",
    "InspectionFinding",
    "InspectorUnit",
    "LoginFailure",
    "Member",
    "MemberExemption",
    "MemberStudyTotal",
    "MemberTransfer",
    "PhaseMove",
    "RectificationItem",
    "RectificationStep",
    "StandardItem",
    "StandardVersion",
    "StudySession",
    "Unit",
    "UnitProgress",
    "User",
    "WeakBranchMark",
    "metadata",
]
