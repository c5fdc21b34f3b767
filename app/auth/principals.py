"""From a stored user to the Principal the request acts as, with its scope resolved."""

from functools import cache

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from app.auth.models import InspectorUnit, User
from app.auth.principal import Principal, Role
from app.org.models import Branch, Unit


def principal_by_id(session: Session, user_id: int, token_version: int) -> Principal | None:
    """The Principal of an active user whose tokens are at ``token_version``; None if the
    user is gone, inactive or has had their tokens revoked since. Every request asks, so it
    is one statement (and a second for an inspector's units), its scope's ids read now."""
    row = _user_row(session, user_id)
    if row is None or not row.is_active or row.token_version != token_version:
        return None
    return _principal(session, row)


def principal_of(session: Session, user: User) -> Principal:
    """The Principal a stored user acts as, whether or not they may log in now; the ids
    above their own scope are read now, so that a branch moved to another unit moves its
    secretary's reach with it."""
    session.flush()  # the user as changed in this transaction, not as last committed
    row = _user_row(session, user.id)
    if row is None:
        raise LookupError(f"user {user.id} is not stored")
    return _principal(session, row)


def _user_row(session: Session, user_id: int) -> sa.Row | None:
    return session.connection().execute(_user_with_scope(), {"user_id": user_id}).first()


def _principal(session: Session, row: sa.Row) -> Principal:
    role = Role(row.role)
    base = {"user_id": row.id, "username": row.username, "role": role}
    match role:
        case Role.city_admin:
            return Principal(**base)
        case Role.district_admin:
            return Principal(**base, district_id=row.district_id)
        case Role.unit_admin:
            return Principal(**base, district_id=row.unit_district_id, unit_id=row.unit_id)
        case Role.branch_secretary:
            return Principal(
                **base,
                district_id=row.unit_district_id,
                unit_id=row.branch_unit_id,
                branch_id=row.branch_id,
            )
        case Role.inspector:
            rows = session.execute(
                sa.select(Unit.id, Unit.district_id)
                .join(InspectorUnit, InspectorUnit.unit_id == Unit.id)
                .where(InspectorUnit.user_id == row.id)
            ).all()
            return Principal(
                **base,
                unit_ids=frozenset(r.id for r in rows),
                district_ids=frozenset(r.district_id for r in rows),
            )


@cache
def _user_with_scope() -> sa.Select:
    """A user and the ids above their scope: a unit admin's district, a secretary's unit
    and its district (a secretary's unit is their branch's, whatever else is stored)."""
    branch, unit = aliased(Branch), aliased(Unit)
    return (
        sa.select(
            User.id,
            User.username,
            User.role,
            User.is_active,
            User.token_version,
            User.district_id,
            User.unit_id,
            User.branch_id,
            branch.unit_id.label("branch_unit_id"),
            unit.district_id.label("unit_district_id"),
        )
        .outerjoin(branch, branch.id == User.branch_id)
        .outerjoin(unit, unit.id == sa.func.coalesce(branch.unit_id, User.unit_id))
        .where(User.id == sa.bindparam("user_id"))
    )


def district_of_user(session: Session, user: User) -> int | None:
    """The district a user's account lies in, for audit rows; None for city-wide accounts
    and for inspectors whose units span several districts."""
    p = principal_of(session, user)
    if p.district_id is not None:
        return p.district_id
    return next(iter(p.district_ids)) if len(p.district_ids) == 1 else None
