"""Queries of rectification items, filtered by the caller's scope through the item's unit
(a branch secretary: the items of their own branch)."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.auth.principal import Principal, Role
from app.org.models import Unit
from app.org.scope import unit_condition
from app.rectification.enums import UNFINISHED
from app.rectification.models import RectificationItem, RectificationStep


def item_condition(p: Principal) -> sa.ColumnElement[bool]:
    if p.role is Role.branch_secretary:
        return RectificationItem.branch_id == p.branch_id
    if p.role is Role.city_admin:
        return sa.true()
    return RectificationItem.unit_id.in_(sa.select(Unit.id).where(unit_condition(p)))


def overdue_condition(on: date) -> sa.ColumnElement[bool]:
    """Past its deadline and not yet done by the unit."""
    return sa.and_(RectificationItem.deadline < on, RectificationItem.status.in_(UNFINISHED))


@dataclass(frozen=True)
class ItemFilter:
    district_id: int | None = None
    unit_id: int | None = None
    branch_id: int | None = None
    member_id: int | None = None
    status: str | None = None
    source: str | None = None
    overdue_on: date | None = None  # set: only items overdue on that day


class ItemRepository:
    def __init__(self, session: Session, principal: Principal) -> None:
        self.session = session
        self.principal = principal

    def base(self) -> sa.Select[tuple[RectificationItem]]:
        return sa.select(RectificationItem).where(item_condition(self.principal))

    def get(self, id: int, *, for_update: bool = False) -> RectificationItem | None:
        """``for_update``: two transitions of one item take turns (PostgreSQL row lock), so
        the second sees the status the first left."""
        stmt = self.base().where(RectificationItem.id == id)
        if for_update:
            stmt = stmt.with_for_update(of=RectificationItem)
        return self.session.scalar(stmt)

    def search(self, f: ItemFilter) -> sa.Select[tuple[RectificationItem]]:
        stmt = self.base()
        for column, value in (
            (RectificationItem.unit_id, f.unit_id),
            (RectificationItem.branch_id, f.branch_id),
            (RectificationItem.member_id, f.member_id),
            (RectificationItem.status, f.status),
            (RectificationItem.source, f.source),
        ):
            if value is not None:
                stmt = stmt.where(column == value)
        if f.district_id is not None:
            units = sa.select(Unit.id).where(Unit.district_id == f.district_id)
            stmt = stmt.where(RectificationItem.unit_id.in_(units))
        if f.overdue_on is not None:
            stmt = stmt.where(overdue_condition(f.overdue_on))
        return stmt.order_by(RectificationItem.deadline, RectificationItem.id)

    def by_ref(
        self, source: str, unit_id: int, refs: Mapping[int, str]
    ) -> dict[int, list[RectificationItem]]:
        """``items_by_ref`` among the items the caller sees."""
        return items_by_ref(self.session, source, unit_id, refs, item_condition(self.principal))

    def steps(self, item_id: int) -> list[RectificationStep]:
        stmt = (
            sa.select(RectificationStep)
            .where(RectificationStep.item_id == item_id)
            .order_by(RectificationStep.at, RectificationStep.id)
        )
        return list(self.session.scalars(stmt))


def items_by_ref(
    session: Session,
    source: str,
    unit_id: int,
    refs: Mapping[int, str],
    within: sa.ColumnElement[bool] = sa.true(),
) -> dict[int, list[RectificationItem]]:
    """Per member, the unit's items already opened about the member from these source
    records (``refs``: member id → the record's reference), so that writing the same source
    again opens nothing twice. Unscoped unless ``within`` says otherwise: the caller reached
    the records.

    The unit and the member are matched as well as the reference: an item of another unit,
    or about another member, is not the one this record opened."""
    out: dict[int, list[RectificationItem]] = {m: [] for m in refs}
    if not refs:
        return out
    stmt = (
        sa.select(RectificationItem)
        .where(
            RectificationItem.source == source,
            RectificationItem.unit_id == unit_id,
            RectificationItem.member_id.in_(list(refs)),
            RectificationItem.source_ref.in_(list(refs.values())),
            within,
        )
        .order_by(RectificationItem.id)
    )
    for item in session.scalars(stmt):
        assert item.member_id is not None
        if refs[item.member_id] == item.source_ref:
            out[item.member_id].append(item)
    return out
