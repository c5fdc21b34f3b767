"""One demo user per role, scoped to real demo objects, so that each view can be tried."""

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from app.auth.models import User
from app.auth.principal import SYSTEM, Role
from app.db import new_session
from app.org.models import Branch, District, Unit
from app.users import service
from app.users.schemas import UserCreate


@dataclass(frozen=True)
class DemoUser:
    username: str
    password: str
    role: Role
    scope: str  # what the user reaches, in words


def _password(role: Role) -> str:
    # Known, printed passwords: this is demo data, never a real deployment's accounts.
    return f"demo-{role.value.replace('_', '-')}"


def _plan(session: Session) -> list[tuple[Role, dict, str]]:
    """Each role's scope among the demo's objects: the first district, its first units."""
    district = session.scalar(sa.select(District).order_by(District.id).limit(1))
    plan: list[tuple[Role, dict, str]] = [(Role.city_admin, {}, "the whole city")]
    if district is None:
        return plan
    plan.append((Role.district_admin, {"district_id": district.id}, f"district {district.name}"))
    units = session.scalars(
        sa.select(Unit).where(Unit.district_id == district.id).order_by(Unit.id).limit(3)
    ).all()
    if not units:
        return plan
    plan.append((Role.unit_admin, {"unit_id": units[0].id}, f"unit {units[0].name}"))
    branch = session.scalar(
        sa.select(Branch).where(Branch.unit_id == units[0].id).order_by(Branch.id).limit(1)
    )
    if branch is not None:
        plan.append((Role.branch_secretary, {"branch_id": branch.id}, f"branch {branch.name}"))
    words = f"{len(units)} units of {district.name}"
    plan.append((Role.inspector, {"unit_ids": [u.id for u in units]}, words))
    return plan


def demo_users(engine: Engine, *, create: bool) -> list[DemoUser]:
    """The demo users; with ``create``, made where missing. Only the run that wrote the demo
    organisation creates them: users with known passwords never go into a database that
    held data of its own."""
    with new_session(engine, write=create) as session:
        users = []
        for role, scope, words in _plan(session):
            username = f"demo_{role.value}"
            exists = session.scalar(sa.select(User.id).where(User.username == username))
            if exists is None and create:
                data = UserCreate(
                    username=username,
                    display_name=f"演示{role.label}",
                    role=role,
                    password=_password(role),
                    **scope,
                )
                service.create_user(session, SYSTEM, data)
            elif exists is None:
                continue
            users.append(DemoUser(username, _password(role), role, words))
        session.commit()
        return users
