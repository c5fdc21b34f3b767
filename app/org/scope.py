"""What part of the tree a caller sees, as SQL conditions.

Every registry query starts from a repository's ``base()``, which applies these; an object
outside them is, to the caller, an object that does not exist.
"""

import sqlalchemy as sa

from app.auth.principal import Principal, Role
from app.org.models import Branch, District, Member, Unit

_ALL = sa.true()


def _branches_of_units(unit_ids: sa.ColumnElement[bool]) -> sa.Select:
    return sa.select(Branch.id).where(unit_ids)


def district_condition(p: Principal) -> sa.ColumnElement[bool]:
    if p.role is Role.city_admin:
        return _ALL
    if p.role is Role.inspector:
        return District.id.in_(p.district_ids)
    return District.id == p.district_id


def unit_condition(p: Principal) -> sa.ColumnElement[bool]:
    match p.role:
        case Role.city_admin:
            return _ALL
        case Role.district_admin:
            return Unit.district_id == p.district_id
        case Role.inspector:
            return Unit.id.in_(p.unit_ids)
        case _:
            return Unit.id == p.unit_id


def branch_condition(p: Principal) -> sa.ColumnElement[bool]:
    match p.role:
        case Role.city_admin:
            return _ALL
        case Role.district_admin:
            return Branch.unit_id.in_(sa.select(Unit.id).where(Unit.district_id == p.district_id))
        case Role.unit_admin:
            return Branch.unit_id == p.unit_id
        case Role.branch_secretary:
            return Branch.id == p.branch_id
        case Role.inspector:
            return Branch.unit_id.in_(p.unit_ids)


def member_condition(p: Principal) -> sa.ColumnElement[bool]:
    match p.role:
        case Role.city_admin:
            return _ALL
        case Role.district_admin:
            return Member.branch_id.in_(
                sa.select(Branch.id)
                .join(Unit, Unit.id == Branch.unit_id)
                .where(Unit.district_id == p.district_id)
            )
        case Role.unit_admin:
            return Member.branch_id.in_(_branches_of_units(Branch.unit_id == p.unit_id))
        case Role.branch_secretary:
            return Member.branch_id == p.branch_id
        case Role.inspector:
            return Member.branch_id.in_(_branches_of_units(Branch.unit_id.in_(p.unit_ids)))


CONDITIONS = {
    District: district_condition,
    Unit: unit_condition,
    Branch: branch_condition,
    Member: member_condition,
}
