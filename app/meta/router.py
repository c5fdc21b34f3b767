"""Operational endpoints (health, readiness) and the labels every client shows."""

from fastapi import Request
from pydantic import BaseModel

from app.auth.principal import Role
from app.campaign.enums import ExemptionReason, Phase, Remedy, UnitState
from app.errors import problem_response, problem_responses
from app.evaluation.enums import Measure, Rating
from app.inspection.enums import Assessment, Severity
from app.labels import LabelledEnum
from app.migrate import database_at_head
from app.org.enums import Gender, MemberCategory, MemberStatus, UnitKind
from app.rectification.enums import RectificationSource, RectificationStatus
from app.reports.enums import GapReason, ReportLevel, WeakMarkStatus, WeakReason
from app.routing import APIRouter
from app.study.enums import AttendanceStatus, SessionFormat

# Every enum a client shows to people, under the name it has in the API.
LABELLED_ENUMS: dict[str, type[LabelledEnum]] = {
    "unit_kind": UnitKind,
    "gender": Gender,
    "member_status": MemberStatus,
    "member_category": MemberCategory,
    "role": Role,
    "phase": Phase,
    "unit_state": UnitState,
    "remedy": Remedy,
    "exemption_reason": ExemptionReason,
    "session_format": SessionFormat,
    "attendance_status": AttendanceStatus,
    "report_level": ReportLevel,
    "gap_reason": GapReason,
    "weak_reason": WeakReason,
    "weak_mark_status": WeakMarkStatus,
    "rectification_status": RectificationStatus,
    "rectification_source": RectificationSource,
    "inspection_assessment": Assessment,
    "finding_severity": Severity,
    "evaluation_rating": Rating,
    "evaluation_measure": Measure,
}

router = APIRouter()
# Under /api/v1, behind the token like the rest of the API.
labels_router = APIRouter(responses=problem_responses(401))


class Label(BaseModel):
    code: str
    label: str


class Health(BaseModel):
    status: str


@router.get("/healthz", tags=["operations"], summary="Liveness: the process answers")
def healthz() -> Health:
    return Health(status="ok")


@router.get(
    "/readyz",
    tags=["operations"],
    summary="Readiness: database reachable and migrated to head",
    responses=problem_responses(503),
)
def readyz(request: Request) -> Health:
    ready, detail = database_at_head(request.app.state.engine)
    if not ready:
        body = {
            "type": "urn:campaign:problem:not-ready",
            "title": "Service not ready",
            "status": 503,
            "detail": detail,
        }
        return problem_response(503, body)  # type: ignore[return-value]
    return Health(status="ready")


@labels_router.get(
    "/meta/labels",
    tags=["meta"],
    summary="Chinese labels of every enum code",
)
def get_labels() -> dict[str, list[Label]]:
    return {
        name: [Label(code=m.value, label=m.label) for m in enum]
        for name, enum in LABELLED_ENUMS.items()
    }
