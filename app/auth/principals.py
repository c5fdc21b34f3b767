"""From a stored user to the Principal the request acts as, with its scope resolved."""

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.auth.models import InspectorUnit, User
from app.auth.principal import Principal, Role
from app.org.models import Branch, Unit


def principal_of(session: Session, user: User) -> Principal:
    """Reads the ids above the user's own scope now, so that a branch moved to another unit
    moves its secretary's reach with it on the next request."""
    role = Role(user.role)
    base = {"user_id": user.id, "username": user.username, "role": role}
    match role:
        case Role.city_admin:
            return Principal(**base)
        case Role.district_admin:
            return Principal(**base, district_id=user.district_id)
        case Role.unit_admin:
            district_id = session.scalar(sa.select(Unit.district_id).where(Unit.id == user.unit_id))
            return Principal(**base, district_id=district_id, unit_id=user.unit_id)
        case Role.branch_secretary:
            row = session.execute(
                sa.select(Unit.id, Unit.district_id)
                .join(Branch, Branch.unit_id == Unit.id)
                .where(Branch.id == user.branch_id)
            ).one()
            return Principal(
                **base, district_id=row.district_id, unit_id=row.id, branch_id=user.branch_id
            )
        case Role.inspector:
            rows = session.execute(
                sa.select(Unit.id, Unit.district_id)
                .join(InspectorUnit, InspectorUnit.unit_id == Unit.id)
                .where(InspectorUnit.user_id == user.id)
            ).all()
            return Principal(
                **base,
                unit_ids=frozenset(r.id for r in rows),
                district_ids=frozenset(r.district_id for r in rows),
            )


def district_of_user(session: Session, user: User) -> int | None:
    """The district a user's account lies in, for audit rows; None for city-wide accounts
    and for inspectors whose units span several districts."""
    p = principal_of(session, user)
    if p.district_id is not None:
        return p.district_id
    return next(iter(p.district_ids)) if len(p.district_ids) == 1 else None
