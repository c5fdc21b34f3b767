"""Accounts and what logging in needs: users, inspectors' units, failed logins, the signing key."""

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.db import BigIntKey, UTCDateTime
from app.org.models import Timestamped


class User(Timestamped, table=True):
    """A person who logs in. The scope column that matches the role is set, the others null:
    a secretary stores only their branch, so moving the branch moves their reach with it."""

    __tablename__ = "app_user"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=50, unique=True)
    display_name: str = Field(max_length=100)
    role: str = Field(max_length=20, index=True)
    district_id: int | None = Field(default=None, foreign_key="district.id", index=True)
    unit_id: int | None = Field(default=None, foreign_key="unit.id", index=True)
    branch_id: int | None = Field(default=None, foreign_key="branch.id", index=True)
    password_hash: str = Field(max_length=255)
    is_active: bool = Field(default=True)
    # Part of every token; raising it (deactivation, new password) voids all earlier tokens.
    token_version: int = Field(default=0)


class InspectorUnit(SQLModel, table=True):
    """A unit an inspector's supervision team is assigned to."""

    __tablename__ = "inspector_unit"

    user_id: int = Field(foreign_key="app_user.id", primary_key=True)
    unit_id: int = Field(foreign_key="unit.id", primary_key=True, index=True)


class LoginFailure(SQLModel, table=True):
    """Failed logins, kept in the database so that every worker counts the same attempts."""

    __tablename__ = "login_failure"
    __table_args__ = (sa.Index("ix_login_failure_username_at", "username", "at"),)

    id: int | None = Field(default=None, sa_type=BigIntKey, primary_key=True)
    username: str = Field(max_length=50)
    at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class AppSecret(SQLModel, table=True):
    """Secrets made once and shared by every worker (the token signing key, when none is set)."""

    __tablename__ = "app_secret"

    name: str = Field(max_length=50, primary_key=True)
    value: str = Field(max_length=200)
