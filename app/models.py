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
from app.idempotency.models import IdempotencyKey
from app.org.models import Branch, District, Member, MemberTransfer, Unit
from app.study.models import Attendance, MemberStudyTotal, StudySession

metadata = SQLModel.metadata

__all__ = [
    "AppSecret",
    "Attendance",
    "AuditEntry",
    "Batch",
    "BatchPhase",
    "Branch",
    "Campaign",
    "District",
    "IdempotencyKey",
    "InspectorUnit",
    "LoginFailure",
    "Member",
    "MemberExemption",
    "MemberStudyTotal",
    "MemberTransfer",
    "PhaseMove",
    "StudySession",
    "Unit",
    "UnitProgress",
    "User",
    "metadata",
]
