"""Every table of every domain, imported in one place for Alembic and the metadata test."""

from sqlmodel import SQLModel

from app.audit.models import AuditEntry
from app.auth.models import AppSecret, InspectorUnit, LoginFailure, User
from app.org.models import Branch, District, Member, MemberTransfer, Unit

metadata = SQLModel.metadata

__all__ = [
    "AppSecret",
    "AuditEntry",
    "Branch",
    "District",
    "InspectorUnit",
    "LoginFailure",
    "Member",
    "MemberTransfer",
    "Unit",
    "User",
    "metadata",
]
