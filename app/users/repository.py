"""Queries of users, filtered by who is asking: a district admin sees the users of their
district, everyone else only themselves (city admins see all)."""

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.auth.models import InspectorUnit, User
from app.auth.principal import Principal, Role
from app.org.models import Branch, Unit
from app.org.scope import unit_condition


def _in_district(district_id: int) -> sa.ColumnElement[bool]:
    units = sa.select(Unit.id).where(Unit.district_id == district_id)
    return sa.or_(
        User.district_id == district_id,
        User.unit_id.in_(units),
        User.branch_id.in_(sa.select(Branch.id).where(Branch.unit_id.in_(units))),
        User.id.in_(sa.select(InspectorUnit.user_id).where(InspectorUnit.unit_id.in_(units))),
    )


def user_condition(p: Principal) -> sa.ColumnElement[bool]:
    match p.role:
        case Role.city_admin:
            return sa.true()
        case Role.district_admin:
            return _in_district(p.district_id)
        case _:
            return User.id == p.user_id


class UserRepository:
    def __init__(self, session: Session, principal: Principal) -> None:
        self.session = session
        self.principal = principal

    def base(self) -> sa.Select[tuple[User]]:
        return sa.select(User).where(user_condition(self.principal))

    def get(self, id: int) -> User | None:
        return self.session.scalar(self.base().where(User.id == id))

    def search(self, q: str | None, role: Role | None, active: bool | None) -> sa.Select:
        stmt = self.base()
        if q:
            stmt = stmt.where(
                sa.or_(
                    User.username.icontains(q, autoescape=True),
                    User.display_name.icontains(q, autoescape=True),
                )
            )
        if role is not None:
            stmt = stmt.where(User.role == role.value)
        if active is not None:
            stmt = stmt.where(User.is_active.is_(active))
        return stmt.order_by(User.id)

    def username_taken(self, username: str) -> bool:
        # Usernames are unique city-wide (and stored lower-case), so this looks past the scope.
        stmt = sa.select(User.id).where(User.username == username)
        return self.session.scalar(stmt.limit(1)) is not None

    def unit_ids(self, user_ids: list[int], *, visible_only: bool = True) -> dict[int, list[int]]:
        """Inspectors' units; by default only those the caller may see, so that a team
        spanning districts shows each district admin their own units alone."""
        stmt = (
            sa.select(InspectorUnit.user_id, InspectorUnit.unit_id)
            .where(InspectorUnit.user_id.in_(user_ids))
            .order_by(InspectorUnit.user_id, InspectorUnit.unit_id)
        )
        if visible_only:
            stmt = stmt.join(Unit, Unit.id == InspectorUnit.unit_id).where(
                unit_condition(self.principal)
            )
        rows = self.session.execute(stmt)
        out: dict[int, list[int]] = {i: [] for i in user_ids}
        for user_id, unit_id in rows:
            out[user_id].append(unit_id)
        return out

    def set_unit_ids(self, user_id: int, unit_ids: list[int]) -> None:
        self.session.execute(sa.delete(InspectorUnit).where(InspectorUnit.user_id == user_id))
        self.session.add_all(InspectorUnit(user_id=user_id, unit_id=u) for u in unit_ids)
        self.session.flush()
