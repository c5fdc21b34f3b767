"""Queries of the registry. Every read starts from ``base()``, the one place rows are filtered
by the caller's scope: a repository cannot be made without saying who is asking."""

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.org.enums import MemberCategory, MemberStatus
from app.org.models import CATEGORY_COLUMNS, Branch, District, Member, MemberTransfer, Unit
from app.org.scope import CONDITIONS

M = TypeVar("M", District, Unit, Branch, Member)


class Repository(Generic[M]):
    model: type[M]

    def __init__(self, session: Session, principal: Principal) -> None:
        self.session = session
        self.principal = principal

    def base(self) -> sa.Select[tuple[M]]:
        return sa.select(self.model).where(CONDITIONS[self.model](self.principal))

    def get(self, id: int) -> M | None:
        return self.session.scalar(self.base().where(self.model.id == id))

    def exists(self, id: int) -> bool:
        return self.get(id) is not None

    def add(self, obj: M) -> M:
        self.session.add(obj)
        self.session.flush()
        return obj


class CodedRepository(Repository[M]):
    """Districts, units and branches: named by a code unique within their kind."""

    def code_taken(self, code: str, *, other_than: int | None = None) -> bool:
        # Uniqueness is city-wide, so this looks past any filter of base().
        stmt = sa.select(self.model.id).where(self.model.code == code)
        if other_than is not None:
            stmt = stmt.where(self.model.id != other_than)
        return self.session.scalar(stmt.limit(1)) is not None

    def search(self, q: str | None, **equal: int | str | None) -> sa.Select[tuple[M]]:
        """Rows whose name or code contains ``q`` and whose columns equal the given values."""
        stmt = self.base()
        for column, value in equal.items():
            if value is not None:
                stmt = stmt.where(getattr(self.model, column) == value)
        if q:
            stmt = stmt.where(
                sa.or_(
                    self.model.name.icontains(q, autoescape=True),
                    self.model.code.icontains(q, autoescape=True),
                )
            )
        return stmt.order_by(self.model.id)


class DistrictRepository(CodedRepository[District]):
    model = District


class UnitRepository(CodedRepository[Unit]):
    model = Unit


class BranchRepository(CodedRepository[Branch]):
    model = Branch

    def visible(self, ids: set[int]) -> set[int]:
        """Those of ``ids`` the caller may see."""
        stmt = self.base().with_only_columns(Branch.id).where(Branch.id.in_(ids))
        return set(self.session.scalars(stmt))

    def search_in(
        self, q: str | None, *, unit_id: int | None, district_id: int | None
    ) -> sa.Select[tuple[Branch]]:
        stmt = self.search(q, unit_id=unit_id)
        if district_id is not None:
            stmt = stmt.where(Branch.unit_id.in_(_units_of_district(district_id)))
        return stmt


@dataclass(frozen=True)
class MemberFilter:
    branch_id: int | None = None
    unit_id: int | None = None
    district_id: int | None = None
    category: MemberCategory | None = None
    status: MemberStatus | None = None
    q: str | None = None


class MemberRepository(Repository[Member]):
    model = Member

    def search(self, f: MemberFilter) -> sa.Select[tuple[Member]]:
        stmt = self.base()
        if f.branch_id is not None:
            stmt = stmt.where(Member.branch_id == f.branch_id)
        if f.unit_id is not None:
            stmt = stmt.where(Member.branch_id.in_(_branches_of_unit(f.unit_id)))
        if f.district_id is not None:
            stmt = stmt.where(
                Member.branch_id.in_(
                    sa.select(Branch.id).where(
                        Branch.unit_id.in_(_units_of_district(f.district_id))
                    )
                )
            )
        if f.category is not None:
            stmt = stmt.where(getattr(Member, CATEGORY_COLUMNS[f.category]).is_(True))
        if f.status is not None:
            stmt = stmt.where(Member.status == f.status.value)
        if f.q:
            stmt = stmt.where(Member.name.icontains(f.q, autoescape=True))
        return stmt.order_by(Member.id)

    def holder_of_id_number(self, id_number: str, *, other_than: int | None = None) -> int | None:
        """The member registered with this ID number, anywhere in the city: a person is a
        member once, so uniqueness looks past the caller's scope."""
        stmt = sa.select(Member.id).where(Member.id_number == id_number)
        if other_than is not None:
            stmt = stmt.where(Member.id != other_than)
        return self.session.scalar(stmt.limit(1))

    def transfers(self, member_id: int) -> sa.Select[tuple[MemberTransfer]]:
        visible = self.base().with_only_columns(Member.id).where(Member.id == member_id)
        return (
            sa.select(MemberTransfer)
            .where(MemberTransfer.member_id.in_(visible))
            .order_by(MemberTransfer.transferred_at, MemberTransfer.id)
        )


def district_of_unit(session: Session, unit_id: int) -> int | None:
    """Where a unit lies, for audit rows (unscoped: the caller already reached it)."""
    return session.scalar(sa.select(Unit.district_id).where(Unit.id == unit_id))


def district_of_branch(session: Session, branch_id: int) -> int | None:
    """Where a branch lies, for audit rows (unscoped: the caller already reached it)."""
    return session.scalar(
        sa.select(Unit.district_id)
        .join(Branch, Branch.unit_id == Unit.id)
        .where(Branch.id == branch_id)
    )


def _units_of_district(district_id: int) -> sa.Select[Any]:
    return sa.select(Unit.id).where(Unit.district_id == district_id)


def _branches_of_unit(unit_id: int) -> sa.Select[Any]:
    return sa.select(Branch.id).where(Branch.unit_id == unit_id)
