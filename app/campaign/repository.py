"""Queries of the campaign. Campaigns and batches are the city's, readable by everyone;
a unit's progress is reached through the unit, inside the caller's scope."""

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.campaign.models import Batch, BatchPhase, Campaign, UnitProgress
from app.org.models import Branch, Unit
from app.org.scope import unit_condition


def campaigns() -> sa.Select[tuple[Campaign]]:
    return sa.select(Campaign).order_by(Campaign.id)


def batches_of(campaign_id: int) -> sa.Select[tuple[Batch]]:
    return sa.select(Batch).where(Batch.campaign_id == campaign_id).order_by(Batch.number)


def phases_of(session: Session, batch_ids: list[int]) -> dict[int, list[BatchPhase]]:
    order = sa.case({"study": 0, "evaluation": 1, "rectification": 2}, value=BatchPhase.phase)
    rows = session.scalars(
        sa.select(BatchPhase).where(BatchPhase.batch_id.in_(batch_ids)).order_by(order)
    )
    out: dict[int, list[BatchPhase]] = {b: [] for b in batch_ids}
    for row in rows:
        out[row.batch_id].append(row)
    return out


def enrolled_counts(session: Session, batch_ids: list[int]) -> dict[int, int]:
    rows = session.execute(
        sa.select(UnitProgress.batch_id, sa.func.count())
        .where(UnitProgress.batch_id.in_(batch_ids))
        .group_by(UnitProgress.batch_id)
    )
    return {b: 0 for b in batch_ids} | dict(rows.all())


def phase(session: Session, batch_id: int, name: str) -> BatchPhase | None:
    return session.get(BatchPhase, (batch_id, name))


def progress_of_branch(session: Session, branch_id: int) -> UnitProgress | None:
    """The enrolment of the branch's unit (None: the unit is in no batch)."""
    return session.scalar(
        sa.select(UnitProgress)
        .join(Branch, Branch.unit_id == UnitProgress.unit_id)
        .where(Branch.id == branch_id)
    )


class ProgressRepository:
    def __init__(self, session: Session, principal: Principal) -> None:
        self.session = session
        self.principal = principal

    def visible_unit_ids(self, unit_ids: list[int]) -> set[int]:
        stmt = sa.select(Unit.id).where(Unit.id.in_(unit_ids), unit_condition(self.principal))
        return set(self.session.scalars(stmt))

    def units_of_district(self, district_id: int) -> list[int]:
        stmt = (
            sa.select(Unit.id)
            .where(Unit.district_id == district_id, unit_condition(self.principal))
            .order_by(Unit.id)
        )
        return list(self.session.scalars(stmt))

    def progress(self, unit_ids: list[int]) -> dict[int, UnitProgress]:
        """Progress rows of units the caller reaches (others are simply absent)."""
        stmt = (
            sa.select(UnitProgress)
            .join(Unit, Unit.id == UnitProgress.unit_id)
            .where(UnitProgress.unit_id.in_(unit_ids), unit_condition(self.principal))
        )
        return {p.unit_id: p for p in self.session.scalars(stmt)}
