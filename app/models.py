"""Every table of every domain, imported in one place for Alembic and the metadata test."""

from sqlmodel import SQLModel

from app.org.models import Branch, District, Member, MemberTransfer, Unit

metadata = SQLModel.metadata

__all__ = ["Branch", "District", "Member", "MemberTransfer", "Unit", "metadata"]
