"""Recording a supervision team's inspection with its findings; a finding may open a
rectification item in the same transaction, so the call writes all of it or nothing."""

from sqlalchemy.orm import Session

from app.audit import service as audit
from app.auth.principal import Action, Principal
from app.clock import today
from app.errors import InvalidInput, NotFound
from app.inspection.models import Inspection, InspectionFinding
from app.inspection.repository import InspectionRepository
from app.inspection.schemas import InspectionCreate
from app.org.repository import UnitRepository
from app.rectification.enums import RectificationSource
from app.rectification.service import open_item

INSPECTION_FIELDS = ("unit_id", "inspected_on", "team", "assessment", "summary")


def get_or_404(session: Session, principal: Principal, inspection_id: int) -> Inspection:
    found = InspectionRepository(session, principal).get(inspection_id)
    if found is None:
        raise NotFound(f"No inspection with id {inspection_id}.")
    return found


def record_inspection(session: Session, principal: Principal, data: InspectionCreate) -> Inspection:
    """An inspector records only for the units assigned to them: any other unit answers 404,
    as if it did not exist. District and city admins record for units in their scope."""
    unit = UnitRepository(session, principal).get(data.unit_id)
    if unit is None:
        raise NotFound(f"No unit with id {data.unit_id}.")
    principal.require(Action.record_inspection)
    if data.inspected_on > today():
        raise InvalidInput.field("inspected_on", "must not be in the future")
    inspection = Inspection(
        **data.model_dump(include=set(INSPECTION_FIELDS)), created_by=principal.user_id
    )
    session.add(inspection)
    session.flush()
    findings = []
    for position, f in enumerate(data.findings):
        finding = InspectionFinding(
            inspection_id=inspection.id, position=position, text=f.text, severity=f.severity
        )
        session.add(finding)
        findings.append(finding)
    session.flush()
    opened = []
    for position, (f, finding) in enumerate(zip(data.findings, findings, strict=True)):
        if f.open_rectification is None:
            continue
        asked = f.open_rectification
        item = open_item(
            session,
            principal,
            unit_id=unit.id,
            source=RectificationSource.inspection,
            source_ref=f"inspection:{inspection.id}/finding:{finding.id}",
            problem=asked.problem or f.text,
            measures=asked.measures,
            owner=asked.owner,
            deadline=asked.deadline,
            loc=("body", "findings", position, "open_rectification"),
        )
        finding.rectification_id = item.id
        opened.append(item.id)
    session.flush()
    audit.record(
        session,
        principal,
        "create",
        "inspection",
        inspection.id,
        district_id=unit.district_id,
        after={
            **audit.snapshot(inspection, INSPECTION_FIELDS),
            "findings": len(findings),
            "rectifications": opened,
        },
    )
    return inspection
