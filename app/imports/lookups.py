"""The queries an import makes: each over a whole set of values, in chunks, never one per row.

Branches come through the registry's repository, so that a branch outside the caller's scope
is, as everywhere else, a branch that does not exist.
"""

from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.org.models import Branch, Member, Unit
from app.org.repository import BranchRepository, MemberRepository

# Values per IN list on SQLite: well under its 32,766 bound parameters.
IN_CHUNK = 1000

# The columns an import may change, as read to compare with the file.
MEMBER_COLUMNS = (
    "name",
    "gender",
    "birth_date",
    "joined_on",
    "phone",
    "is_migrant",
    "is_outgoing",
    "is_retired",
    "is_infirm",
)


@dataclass(frozen=True)
class BranchRef:
    id: int
    district_id: int


def one_of(
    session: Session,
    column: sa.ColumnElement[Any],
    values: Collection[Any],
    of: sa.types.TypeEngine[Any],
) -> Iterator[sa.ColumnElement[bool]]:
    """Conditions that together say ``column IN values``. PostgreSQL takes the whole set as one
    array parameter (``= ANY``): a thousand bound values per IN list cost it six times as much.
    SQLite has no arrays, and a thousand values at a time are cheap there."""
    if not values:
        return
    if session.get_bind().dialect.name == "postgresql":
        yield column == sa.any_(sa.bindparam(None, list(values), type_=sa.ARRAY(of)))
        return
    for chunk in chunked(sorted(values)):
        yield column.in_(chunk)


def chunked(values: Iterable[Any], size: int = IN_CHUNK) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for value in values:
        chunk.append(value)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def branches_by_code(
    session: Session, principal: Principal, codes: Collection[str]
) -> dict[str, BranchRef]:
    """Those of the codes naming a branch inside the caller's scope."""
    base = BranchRepository(session, principal).base()
    found: dict[str, tuple[int, int]] = {}
    for condition in one_of(session, Branch.code, codes, sa.String()):
        stmt = base.with_only_columns(Branch.code, Branch.id, Branch.unit_id).where(condition)
        found.update({code: (id, unit_id) for code, id, unit_id in session.execute(stmt)})
    # Where the branches lie, for the audit entry; the caller has already reached them.
    district_of_unit: dict[int, int] = {}
    for condition in one_of(session, Unit.id, {u for _, u in found.values()}, sa.Integer()):
        stmt = sa.select(Unit.id, Unit.district_id).where(condition)
        district_of_unit.update({id: district_id for id, district_id in session.execute(stmt)})
    return {code: BranchRef(id, district_of_unit[unit_id]) for code, (id, unit_id) in found.items()}


def members_by_id_number(session: Session, id_numbers: Collection[str]) -> dict[str, sa.Row]:
    """The members registered with these ID numbers, anywhere in the city: a person is a member
    once, so the search looks past the caller's scope (what it finds outside stays unnamed)."""
    columns = [getattr(Member, c) for c in MEMBER_COLUMNS]
    found: dict[str, sa.Row] = {}
    for condition in one_of(session, Member.id_number, id_numbers, sa.String()):
        stmt = sa.select(Member.id_number, Member.id, Member.branch_id, *columns).where(condition)
        found.update({row.id_number: row for row in session.execute(stmt)})
    return found


def visible_members(session: Session, principal: Principal, ids: Collection[int]) -> set[int]:
    """Those of the member ids inside the caller's scope."""
    base = MemberRepository(session, principal).base().with_only_columns(Member.id)
    visible: set[int] = set()
    for condition in one_of(session, Member.id, ids, sa.BigInteger()):
        visible.update(session.scalars(base.where(condition)))
    return visible


def branch_codes(session: Session, ids: Collection[int]) -> dict[int, str]:
    """Codes of branches the caller reaches through their members (for messages)."""
    codes: dict[int, str] = {}
    for condition in one_of(session, Branch.id, ids, sa.Integer()):
        stmt = sa.select(Branch.id, Branch.code).where(condition)
        codes.update({id: code for id, code in session.execute(stmt)})
    return codes
