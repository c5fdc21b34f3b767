"""The inspection report (督导检查情况): per district, how many units were inspected, and
the units never inspected. Counted in SQL over the units in the caller's scope."""

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.campaign.enums import UnitState
from app.campaign.models import UnitProgress
from app.inspection.models import Inspection
from app.org.models import District, Unit
from app.org.scope import district_condition, unit_condition
from app.reports.measured import check_batch, check_places


@dataclass(frozen=True)
class ReportFilter:
    district_id: int | None = None
    batch_id: int | None = None


class DistrictInspections(BaseModel):
    id: int | None = Field(description="The district's id; null on the total row.")
    code: str | None
    name: str
    units: int
    inspected_units: int
    never_inspected: int
    inspections: int
    last_inspected_on: date | None


class UnitNeverInspected(BaseModel):
    unit_id: int
    unit_code: str
    unit_name: str
    district_id: int
    district_name: str
    state: UnitState | None = Field(description="The unit's phase; null: in no batch.")


class InspectionReport(BaseModel):
    rows: list[DistrictInspections]
    total: DistrictInspections
    never_inspected: list[UnitNeverInspected]


def _unit_conditions(p: Principal, f: ReportFilter) -> list[sa.ColumnElement[bool]]:
    where = [unit_condition(p)]
    if f.district_id is not None:
        where.append(Unit.district_id == f.district_id)
    if f.batch_id is not None:
        enrolled = sa.select(UnitProgress.unit_id).where(UnitProgress.batch_id == f.batch_id)
        where.append(Unit.id.in_(enrolled))
    return where


def inspection_report(session: Session, principal: Principal, f: ReportFilter) -> InspectionReport:
    check_batch(session, f.batch_id)
    check_places(session, principal, district_id=f.district_id)
    per_unit = (
        sa.select(
            Inspection.unit_id,
            sa.func.count().label("n"),
            sa.func.max(Inspection.inspected_on).label("last"),
        )
        .group_by(Inspection.unit_id)
        .subquery()
    )
    units = _unit_conditions(principal, f)
    districts = [district_condition(principal)]
    if f.district_id is not None:
        districts.append(District.id == f.district_id)
    stmt = (
        sa.select(
            District.id,
            District.code,
            District.name,
            sa.func.count(Unit.id).label("units"),
            sa.func.count(per_unit.c.unit_id).label("inspected_units"),
            sa.func.coalesce(sa.func.sum(per_unit.c.n), 0).label("inspections"),
            sa.func.max(per_unit.c.last).label("last"),
        )
        .select_from(District)
        .outerjoin(Unit, sa.and_(Unit.district_id == District.id, *units))
        .outerjoin(per_unit, per_unit.c.unit_id == Unit.id)
        .where(*districts)
        .group_by(District.id, District.code, District.name)
        .order_by(District.code)
    )
    rows = [
        DistrictInspections(
            id=r.id,
            code=r.code,
            name=r.name,
            units=r.units,
            inspected_units=r.inspected_units,
            never_inspected=r.units - r.inspected_units,
            inspections=int(r.inspections),
            last_inspected_on=r.last,
        )
        for r in session.execute(stmt)
    ]
    lasts = [r.last_inspected_on for r in rows if r.last_inspected_on is not None]
    total = DistrictInspections(
        id=None,
        code=None,
        name="合计",
        units=sum(r.units for r in rows),
        inspected_units=sum(r.inspected_units for r in rows),
        never_inspected=sum(r.never_inspected for r in rows),
        inspections=sum(r.inspections for r in rows),
        last_inspected_on=max(lasts, default=None),
    )
    never = session.execute(
        sa.select(
            Unit.id, Unit.code, Unit.name, Unit.district_id, District.name, UnitProgress.state
        )
        .join(District, District.id == Unit.district_id)
        .outerjoin(per_unit, per_unit.c.unit_id == Unit.id)
        .outerjoin(UnitProgress, UnitProgress.unit_id == Unit.id)
        .where(*units, per_unit.c.unit_id.is_(None))
        .order_by(District.code, Unit.code)
    ).all()
    return InspectionReport(
        rows=rows,
        total=total,
        never_inspected=[
            UnitNeverInspected(
                unit_id=u_id,
                unit_code=code,
                unit_name=name,
                district_id=district_id,
                district_name=district_name,
                state=state,
            )
            for u_id, code, name, district_id, district_name, state in never
        ],
    )
