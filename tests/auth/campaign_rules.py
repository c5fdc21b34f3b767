"""Who may call the campaign's routes, phase by phase: campaigns and batches, the units'
progress and its advance, exemptions; study sessions and their attendance; rectification and
inspections; standards and evaluations."""

import uuid
from typing import Any

from app.campaign.models import Campaign, MemberExemption, UnitProgress
from app.campaign.progress import phase_of
from app.clock import today
from tests.auth.rule import (
    ADVANCERS,
    ALL,
    CAMPAIGN_WRITERS,
    INSPECTORS,
    RECORDERS,
    RECTIFIERS,
    R,
    Rule,
    Side,
    serial,
    side_ids,
)
from tests.campaign import factories as campaign
from tests.evaluation import factories as evaluation
from tests.org import factories as org
from tests.rectification import factories as rectification
from tests.standards import factories as standards
from tests.study import factories as study


def _fresh_session(session, side: Side) -> dict[str, str]:
    return {
        "session_id": str(
            study.study_session(session, side.branch_id, side.unit_id, side.batch_id).id
        )
    }


def _session_body(session, side: Side) -> dict[str, Any]:
    return {
        "branch_id": side.branch_id,
        # Named: by now the unit may have advanced past study, whose window holds today.
        "phase": "study",
        "held_on": today().isoformat(),
        "format": "collective_study",
        "hours": 2,
        "topic": "学习党章",
    }


def _fresh_campaign(session, side: Side) -> dict[str, int]:
    c = Campaign(name="运动")
    session.add(c)
    session.commit()
    return {"campaign_id": c.id}


def _exempted_member(session, side: Side) -> dict[str, int]:
    m = org.member(session, side.branch_id)
    progress = session.get(UnitProgress, side.unit_id)
    session.refresh(progress)
    phase = phase_of(progress).value
    session.add(
        MemberExemption(member_id=m.id, batch_id=side.batch_id, phase=phase, reason="abroad")
    )
    session.commit()
    return {"member_id": m.id}


def _fresh_item(session, side: Side) -> dict[str, int]:
    return {"item_id": rectification.item(session, side.unit_id, branch_id=side.branch_id).id}


def _rectification_body(session, side: Side) -> dict[str, Any]:
    return {
        "unit_id": side.unit_id,
        "source": "public_feedback",
        "problem": "群众反映学习走过场",
        "measures": "重新组织专题学习",
        "owner": "单位党委",
        "deadline": today().isoformat(),
    }


def _inspection_body(session, side: Side) -> dict[str, Any]:
    return {
        "unit_id": side.unit_id,
        "inspected_on": today().isoformat(),
        "team": ["王组长"],
        "assessment": "good",
    }


def _ready_to_advance(session, side: Side) -> dict[str, int]:
    """The unit's gates let each step pass: in evaluation, its members are evaluated."""
    progress = session.get(UnitProgress, side.unit_id)
    session.refresh(progress)
    if progress.state == "evaluation":
        evaluation.evaluate_unit(session, side.unit_id, side.batch_id)
    return {"unit_id": side.unit_id}


def _evaluation_open(session, side: Side) -> dict[str, int]:
    """The side's branch, its unit moved on to evaluation if still studying (the advance
    rule may or may not have moved it already)."""
    progress = session.get(UnitProgress, side.unit_id)
    session.refresh(progress)
    if progress.state in ("not_started", "study"):
        progress.state = "evaluation"
        session.commit()
    return {"branch_id": side.branch_id}


def _unit_with_standard(session, side: Side) -> dict[str, int]:
    standards.standard(session, side.unit_id, version=next(serial))
    return {"unit_id": side.unit_id}


CAMPAIGN: dict[tuple[str, str], Rule] = {
    ("GET", "/api/v1/campaigns"): Rule("list", ALL),
    ("POST", "/api/v1/campaigns"): Rule(
        "list", CAMPAIGN_WRITERS, 201, body=lambda s, side: {"name": "先进性教育活动"}
    ),
    # Campaigns and batches are the city's: everyone reads them, there is no "outside".
    ("GET", "/api/v1/campaigns/{campaign_id}"): Rule("list", ALL, params=side_ids("campaign_id")),
    ("GET", "/api/v1/campaigns/{campaign_id}/batches"): Rule(
        "list", ALL, params=side_ids("campaign_id")
    ),
    ("POST", "/api/v1/campaigns/{campaign_id}/batches"): Rule(
        "list",
        CAMPAIGN_WRITERS,
        201,
        params=_fresh_campaign,
        body=lambda s, side: {"number": 1, "name": "第一批", "phases": campaign.windows()},
    ),
    ("GET", "/api/v1/batches/{batch_id}"): Rule("list", ALL, params=side_ids("batch_id")),
    ("PATCH", "/api/v1/batches/{batch_id}"): Rule(
        "list",
        CAMPAIGN_WRITERS,
        params=side_ids("batch_id"),
        body=lambda s, side: {"name": "第一批（改）"},
    ),
    ("POST", "/api/v1/batches/{batch_id}/units"): Rule(
        "create",
        frozenset({R.city_admin, R.district_admin}),
        params=side_ids("batch_id"),
        body=lambda s, side: {"unit_ids": [side.unit_id]},
    ),
    ("POST", "/api/v1/batches/{batch_id}/advance"): Rule(
        "create",
        ADVANCERS,
        params=side_ids("batch_id"),
        # A step the unit is not at: answered per unit (refused), leaving it where it is.
        body=lambda s, side: {"unit_ids": [side.unit_id], "to": "completed"},
    ),
    ("GET", "/api/v1/units/{unit_id}/progress"): Rule("read", ALL, params=side_ids("unit_id")),
    ("GET", "/api/v1/units/{unit_id}/look-back"): Rule("read", ALL, params=side_ids("unit_id")),
    ("POST", "/api/v1/units/{unit_id}/advance"): Rule(
        "read",
        ADVANCERS,
        params=_ready_to_advance,
        body=lambda s, side: {},
        # Three allowed roles, one step each, then the unit has completed.
    ),
    ("PUT", "/api/v1/members/{member_id}/exemption"): Rule(
        "read",
        ADVANCERS,
        params=side_ids("member_id"),
        body=lambda s, side: {"reason": "hospitalised"},
    ),
    ("DELETE", "/api/v1/members/{member_id}/exemption"): Rule(
        "read", ADVANCERS, 204, params=_exempted_member
    ),
}

STUDY: dict[tuple[str, str], Rule] = {
    ("GET", "/api/v1/sessions"): Rule("list", ALL),
    ("POST", "/api/v1/sessions"): Rule("create", RECORDERS, 201, body=_session_body),
    ("GET", "/api/v1/sessions/{session_id}"): Rule("read", ALL, params=side_ids("session_id")),
    ("PATCH", "/api/v1/sessions/{session_id}"): Rule(
        "read",
        ADVANCERS,
        params=side_ids("session_id"),
        body=lambda s, side: {"topic": "学习新党章"},
    ),
    ("DELETE", "/api/v1/sessions/{session_id}"): Rule(
        "read", ADVANCERS, 204, params=_fresh_session
    ),
    ("PUT", "/api/v1/sessions/{session_id}/attendance"): Rule(
        "read",
        RECORDERS,
        params=side_ids("session_id"),
        body=lambda s, side: {"records": [{"member_id": side.member_id, "status": "present"}]},
    ),
    # Answered per item: an item outside the caller's scope is rejected inside a 200.
    ("POST", "/api/v1/sync/sessions"): Rule(
        "list",
        RECORDERS,
        body=lambda s, side: {
            "sessions": [{"id": str(uuid.uuid4()), **_session_body(s, side), "attendance": []}]
        },
    ),
    ("GET", "/api/v1/members/{member_id}/study"): Rule("read", ALL, params=side_ids("member_id")),
}

RECTIFICATION: dict[tuple[str, str], Rule] = {
    # Rectification and inspections (after the advance rule: an unverified item of the
    # side's unit would stop its last step).
    ("GET", "/api/v1/rectifications"): Rule("list", ALL),
    ("POST", "/api/v1/rectifications"): Rule("create", RECTIFIERS, 201, body=_rectification_body),
    ("GET", "/api/v1/rectifications/{item_id}"): Rule("read", ALL, params=_fresh_item),
    ("PATCH", "/api/v1/rectifications/{item_id}"): Rule(
        "read", RECTIFIERS, params=_fresh_item, body=lambda s, side: {"owner": "党委书记"}
    ),
    ("POST", "/api/v1/rectifications/{item_id}/transitions"): Rule(
        "read",
        RECTIFIERS,
        params=_fresh_item,
        body=lambda s, side: {"to": "in_progress", "note": "已制定整改方案"},
    ),
    ("GET", "/api/v1/reports/rectifications"): Rule("list", ALL),
    ("GET", "/api/v1/inspections"): Rule("list", ALL),
    # The unit is looked up first: one outside the caller's reach is a 404, for an
    # inspector too (the units assigned to them are their whole world).
    ("POST", "/api/v1/inspections"): Rule("read", INSPECTORS, 201, body=_inspection_body),
    ("GET", "/api/v1/inspections/{inspection_id}"): Rule(
        "read",
        ALL,
        params=lambda s, side: {"inspection_id": rectification.inspection(s, side.unit_id).id},
    ),
    ("GET", "/api/v1/reports/inspections"): Rule("list", ALL),
}

EVALUATION: dict[tuple[str, str], Rule] = {
    # Standards and evaluations (after the advance rule: the unit's evaluation gate).
    ("GET", "/api/v1/standard-templates"): Rule("list", ALL),
    ("GET", "/api/v1/units/{unit_id}/standards"): Rule("read", ALL, params=_unit_with_standard),
    ("GET", "/api/v1/units/{unit_id}/standards/versions"): Rule(
        "read", ALL, params=side_ids("unit_id")
    ),
    ("POST", "/api/v1/units/{unit_id}/standards"): Rule(
        "read",
        ADVANCERS,
        201,
        params=side_ids("unit_id"),
        # A note of its own each time: the same body as the newest version answers 200.
        body=lambda s, side: {"from_template": "organ", "note": f"第{next(serial)}次修订"},
    ),
    ("PUT", "/api/v1/branches/{branch_id}/evaluations"): Rule(
        "read",
        ADVANCERS,
        params=_evaluation_open,
        body=lambda s, side: {
            "batch_id": side.batch_id,
            "records": [{"member_id": side.member_id, "rating": "qualified"}],
        },
    ),
    ("GET", "/api/v1/branches/{branch_id}/evaluations"): Rule(
        "read", ALL, params=side_ids("branch_id")
    ),
    ("GET", "/api/v1/reports/evaluations"): Rule("list", ALL),
    ("GET", "/api/v1/reports/evaluations/not-evaluated"): Rule("list", ALL),
}
