"""Queries of inspections, filtered by the caller's scope through the inspected unit."""

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.inspection.models import Inspection, InspectionFinding
from app.org.models import Unit
from app.org.scope import unit_condition


@dataclass(frozen=True)
class InspectionFilter:
    district_id: int | None = None
    unit_id: int | None = None
    assessment: str | None = None
    inspected_from: date | None = None
    inspected_to: date | None = None


class InspectionRepository:
    def __init__(self, session: Session, principal: Principal) -> None:
        self.session = session
        self.principal = principal

    def base(self) -> sa.Select[tuple[Inspection]]:
        visible = sa.select(Unit.id).where(unit_condition(self.principal))
        return sa.select(Inspection).where(Inspection.unit_id.in_(visible))

    def get(self, id: int) -> Inspection | None:
        return self.session.scalar(self.base().where(Inspection.id == id))

    def search(self, f: InspectionFilter) -> sa.Select[tuple[Inspection]]:
        stmt = self.base()
        if f.unit_id is not None:
            stmt = stmt.where(Inspection.unit_id == f.unit_id)
        if f.assessment is not None:
            stmt = stmt.where(Inspection.assessment == f.assessment)
        if f.district_id is not None:
            units = sa.select(Unit.id).where(Unit.district_id == f.district_id)
            stmt = stmt.where(Inspection.unit_id.in_(units))
        if f.inspected_from is not None:
            stmt = stmt.where(Inspection.inspected_on >= f.inspected_from)
        if f.inspected_to is not None:
            stmt = stmt.where(Inspection.inspected_on <= f.inspected_to)
        return stmt.order_by(Inspection.inspected_on.desc(), Inspection.id.desc())

    def findings(self, inspection_ids: list[int]) -> dict[int, list[InspectionFinding]]:
        out: dict[int, list[InspectionFinding]] = {i: [] for i in inspection_ids}
        if not inspection_ids:
            return out
        stmt = (
            sa.select(InspectionFinding)
            .where(InspectionFinding.inspection_id.in_(inspection_ids))
            .order_by(InspectionFinding.inspection_id, InspectionFinding.position)
        )
        for f in self.session.scalars(stmt):
            out[f.inspection_id].append(f)
        return out
