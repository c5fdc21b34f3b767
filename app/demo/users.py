"""One demo user per role, scoped to real demo objects, so that each view can be tried."""

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Engine

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


def ensure_demo_users(engine: Engine) -> list[DemoUser]:
    """Creates the demo users that do not exist yet (none on an empty registry)."""
    with new_session(engine, write=True) as session:
        district = session.scalar(sa.select(District).order_by(District.id).limit(1))
        if district is None:
            return []
        units = session.scalars(
            sa.select(Unit).where(Unit.district_id == district.id).order_by(Unit.id).limit(3)
        ).all()
        branch = session.scalar(
            sa.select(Branch).where(Branch.unit_id == units[0].id).order_by(Branch.id).limit(1)
        )
        plan = [
            (Role.city_admin, {}, "the whole city"),
            (Role.district_admin, {"district_id": district.id}, f"district {district.name}"),
            (Role.unit_admin, {"unit_id": units[0].id}, f"unit {units[0].name}"),
            (Role.branch_secretary, {"branch_id": branch.id}, f"branch {branch.name}"),
            (
                Role.inspector,
                {"unit_ids": [u.id for u in units]},
                f"{len(units)} units of {district.name}",
            ),
        ]
        users = []
        for role, scope, words in plan:
            username = f"demo_{role.value}"
            exists = session.scalar(sa.select(User.id).where(User.username == username))
            if exists is None:
                data = UserCreate(
                    username=username,
                    display_name=f"演示{role.label}",
                    role=role,
                    password=_password(role),
                    **scope,
                )
                service.create_user(session, SYSTEM, data)
            users.append(DemoUser(username, _password(role), role, words))
        session.commit()
        return users
