"""Who may call what: the rule of every route, read by test_route_matrix.py.

A rule says which roles succeed inside their scope and how to build the request (path ids,
body, upload) against one side of the test world; what outside the scope answers follows
from the rule's kind (see ``_expected`` in the test).
"""

import itertools
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from app.auth.principal import Role
from app.campaign.models import Campaign, MemberExemption, UnitProgress
from app.campaign.progress import phase_of
from app.clock import today
from app.org.models import Branch
from app.reports.models import WeakBranchMark
from tests.auth import factories
from tests.campaign import factories as campaign
from tests.evaluation import factories as evaluation
from tests.imports import files as member_files
from tests.org import factories as org
from tests.rectification import factories as rectification
from tests.standards import factories as standards
from tests.study import factories as study

R = Role
ALL = frozenset(Role)
PUBLIC = {
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/metrics"),
    ("GET", "/openapi.json"),
    ("GET", "/docs"),
    ("GET", "/docs/oauth2-redirect"),
    ("GET", "/redoc"),
    ("POST", "/api/v1/auth/token"),
}
_serial = itertools.count(1)


@dataclass
class Side:
    """One district's objects: the callers' own ("in") or another district's ("out")."""

    district_id: int
    unit_id: int
    branch_id: int
    other_branch_id: int  # same unit
    member_id: int
    user_id: int  # a branch secretary of this side
    campaign_id: int  # the campaign and batch both sides' units are enrolled in
    batch_id: int
    session_id: str  # a study session of the branch


@dataclass(frozen=True)
class Rule:
    """kind: list (no object), read/update (an object in the path), create (a parent in the
    body). ``allowed`` roles succeed inside their scope; the others get 403, or the status
    in ``inside`` when the object is not theirs to see at all (e.g. other users)."""

    kind: str
    allowed: frozenset[Role]
    ok: int = 200
    params: Callable[[Any, Side], dict[str, int]] = lambda s, side: {}
    body: Callable[[Any, Side], dict[str, Any]] | None = None
    inside: dict[Role, int] = field(default_factory=dict)
    # A multipart upload: the form's files, sent instead of a JSON body.
    files: Callable[[Any, Side], dict[str, Any]] | None = None


def _code() -> str:
    return f"M{next(_serial):06d}"


def _member_file(session, side: Side) -> dict[str, Any]:
    """One new member of the side's branch, as an uploaded CSV."""
    row = member_files.member(session.get(Branch, side.branch_id).code, next(_serial))
    content = member_files.csv_file(member_files.table([row]))
    return {"file": ("members.csv", content, "text/csv")}


def _fresh_member(session, side: Side) -> dict[str, int]:
    return {"member_id": org.member(session, side.branch_id).id}


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
    standards.standard(session, side.unit_id, version=next(_serial))
    return {"unit_id": side.unit_id}


def _fresh_branch(session, side: Side) -> dict[str, int]:
    """A branch of its own for each caller: a first mark answers 201."""
    return {"branch_id": org.branch(session, side.unit_id).id}


def _marked_branch(session, side: Side) -> dict[str, int]:
    b = org.branch(session, side.unit_id)
    session.add(
        WeakBranchMark(branch_id=b.id, reason="长期不开展活动", plan="调整班子", due_on=today())
    )
    session.commit()
    return {"branch_id": b.id}


def _weak_mark_body(session, side: Side) -> dict[str, Any]:
    return {
        "reason": "组织生活不正常",
        "plan": "选优配强书记，每月督导",
        "due_on": today().isoformat(),
    }


CAMPAIGN_WRITERS = frozenset({R.city_admin})
ADVANCERS = frozenset({R.city_admin, R.district_admin, R.unit_admin})
RECORDERS = ADVANCERS | {R.branch_secretary}
RECTIFIERS = ADVANCERS
INSPECTORS = frozenset({R.city_admin, R.district_admin, R.inspector})

RULES: dict[tuple[str, str], Rule] = {
    ("GET", "/api/v1/campaigns"): Rule("list", ALL),
    ("POST", "/api/v1/campaigns"): Rule(
        "list", CAMPAIGN_WRITERS, 201, body=lambda s, side: {"name": "先进性教育活动"}
    ),
    # Campaigns and batches are the city's: everyone reads them, there is no "outside".
    ("GET", "/api/v1/campaigns/{campaign_id}"): Rule(
        "list", ALL, params=lambda s, side: {"campaign_id": side.campaign_id}
    ),
    ("GET", "/api/v1/campaigns/{campaign_id}/batches"): Rule(
        "list", ALL, params=lambda s, side: {"campaign_id": side.campaign_id}
    ),
    ("POST", "/api/v1/campaigns/{campaign_id}/batches"): Rule(
        "list",
        CAMPAIGN_WRITERS,
        201,
        params=_fresh_campaign,
        body=lambda s, side: {"number": 1, "name": "第一批", "phases": campaign.windows()},
    ),
    ("GET", "/api/v1/batches/{batch_id}"): Rule(
        "list", ALL, params=lambda s, side: {"batch_id": side.batch_id}
    ),
    ("PATCH", "/api/v1/batches/{batch_id}"): Rule(
        "list",
        CAMPAIGN_WRITERS,
        params=lambda s, side: {"batch_id": side.batch_id},
        body=lambda s, side: {"name": "第一批（改）"},
    ),
    ("POST", "/api/v1/batches/{batch_id}/units"): Rule(
        "create",
        frozenset({R.city_admin, R.district_admin}),
        params=lambda s, side: {"batch_id": side.batch_id},
        body=lambda s, side: {"unit_ids": [side.unit_id]},
    ),
    ("POST", "/api/v1/batches/{batch_id}/advance"): Rule(
        "create",
        ADVANCERS,
        params=lambda s, side: {"batch_id": side.batch_id},
        # A step the unit is not at: answered per unit (refused), leaving it where it is.
        body=lambda s, side: {"unit_ids": [side.unit_id], "to": "completed"},
    ),
    ("GET", "/api/v1/units/{unit_id}/progress"): Rule(
        "read", ALL, params=lambda s, side: {"unit_id": side.unit_id}
    ),
    ("GET", "/api/v1/units/{unit_id}/look-back"): Rule(
        "read", ALL, params=lambda s, side: {"unit_id": side.unit_id}
    ),
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
        params=lambda s, side: {"member_id": side.member_id},
        body=lambda s, side: {"reason": "hospitalised"},
    ),
    ("DELETE", "/api/v1/members/{member_id}/exemption"): Rule(
        "read", ADVANCERS, 204, params=_exempted_member
    ),
    ("GET", "/api/v1/sessions"): Rule("list", ALL),
    ("POST", "/api/v1/sessions"): Rule("create", RECORDERS, 201, body=_session_body),
    ("GET", "/api/v1/sessions/{session_id}"): Rule(
        "read", ALL, params=lambda s, side: {"session_id": side.session_id}
    ),
    ("PATCH", "/api/v1/sessions/{session_id}"): Rule(
        "read",
        ADVANCERS,
        params=lambda s, side: {"session_id": side.session_id},
        body=lambda s, side: {"topic": "学习新党章"},
    ),
    ("DELETE", "/api/v1/sessions/{session_id}"): Rule(
        "read", ADVANCERS, 204, params=_fresh_session
    ),
    ("PUT", "/api/v1/sessions/{session_id}/attendance"): Rule(
        "read",
        RECORDERS,
        params=lambda s, side: {"session_id": side.session_id},
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
    ("GET", "/api/v1/members/{member_id}/study"): Rule(
        "read", ALL, params=lambda s, side: {"member_id": side.member_id}
    ),
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
    ("GET", "/api/v1/auth/me"): Rule("list", ALL),
    ("POST", "/api/v1/auth/password"): Rule(
        "list",
        ALL,
        body=lambda s, side: {
            "current_password": factories.PASSWORD,
            "new_password": "a new password of mine",
        },
    ),
    ("GET", "/api/v1/meta/labels"): Rule("list", ALL),
    ("GET", "/api/v1/districts"): Rule("list", ALL),
    ("POST", "/api/v1/districts"): Rule(
        "list", frozenset({R.city_admin}), 201, body=lambda s, side: {"code": _code(), "name": "区"}
    ),
    ("GET", "/api/v1/districts/{district_id}"): Rule(
        "read", ALL, params=lambda s, side: {"district_id": side.district_id}
    ),
    ("PATCH", "/api/v1/districts/{district_id}"): Rule(
        "read",
        frozenset({R.city_admin}),
        params=lambda s, side: {"district_id": side.district_id},
        body=lambda s, side: {"name": "改名区"},
    ),
    ("GET", "/api/v1/units"): Rule("list", ALL),
    ("POST", "/api/v1/units"): Rule(
        "create",
        frozenset({R.city_admin, R.district_admin}),
        201,
        body=lambda s, side: {
            "code": _code(),
            "name": "单位",
            "district_id": side.district_id,
            "kind": "school",
        },
    ),
    ("GET", "/api/v1/units/{unit_id}"): Rule(
        "read", ALL, params=lambda s, side: {"unit_id": side.unit_id}
    ),
    ("PATCH", "/api/v1/units/{unit_id}"): Rule(
        "read",
        frozenset({R.city_admin, R.district_admin}),
        params=lambda s, side: {"unit_id": side.unit_id},
        body=lambda s, side: {"name": "改名单位"},
    ),
    ("GET", "/api/v1/branches"): Rule("list", ALL),
    ("POST", "/api/v1/branches"): Rule(
        "create",
        frozenset({R.city_admin, R.district_admin, R.unit_admin}),
        201,
        body=lambda s, side: {"code": _code(), "name": "支部", "unit_id": side.unit_id},
    ),
    ("GET", "/api/v1/branches/{branch_id}"): Rule(
        "read", ALL, params=lambda s, side: {"branch_id": side.branch_id}
    ),
    ("PATCH", "/api/v1/branches/{branch_id}"): Rule(
        "read",
        frozenset({R.city_admin, R.district_admin, R.unit_admin}),
        params=lambda s, side: {"branch_id": side.branch_id},
        body=lambda s, side: {"secretary_name": "李书记"},
    ),
    ("GET", "/api/v1/members"): Rule("list", ALL),
    ("POST", "/api/v1/members"): Rule(
        "create",
        ALL - {R.inspector},
        201,
        body=lambda s, side: {"name": "党员", "gender": "male", "branch_id": side.branch_id},
    ),
    ("GET", "/api/v1/members/{member_id}"): Rule(
        "read", ALL, params=lambda s, side: {"member_id": side.member_id}
    ),
    ("PATCH", "/api/v1/members/{member_id}"): Rule(
        "read",
        ALL - {R.inspector},
        params=lambda s, side: {"member_id": side.member_id},
        body=lambda s, side: {"categories": ["retired"]},
    ),
    ("POST", "/api/v1/members/{member_id}/transfer"): Rule(
        "read",
        ALL - {R.inspector},
        201,
        params=_fresh_member,
        body=lambda s, side: {"branch_id": side.other_branch_id, "reason": "调动"},
        # The other branch lies outside a secretary's reach.
        inside={R.branch_secretary: 422},
    ),
    ("GET", "/api/v1/members/{member_id}/transfers"): Rule(
        "read", ALL, params=lambda s, side: {"member_id": side.member_id}
    ),
    ("GET", "/api/v1/users"): Rule("list", frozenset({R.city_admin, R.district_admin})),
    ("POST", "/api/v1/users"): Rule(
        "create",
        frozenset({R.city_admin, R.district_admin}),
        201,
        body=lambda s, side: {
            "username": f"user{next(_serial)}",
            "display_name": "书记",
            "role": "branch_secretary",
            "branch_id": side.branch_id,
            "password": "long enough pass",
        },
    ),
    ("GET", "/api/v1/users/{user_id}"): Rule(
        "read",
        frozenset({R.city_admin, R.district_admin}),
        params=lambda s, side: {"user_id": side.user_id},
        inside={R.unit_admin: 404, R.branch_secretary: 404, R.inspector: 404},
    ),
    ("PATCH", "/api/v1/users/{user_id}"): Rule(
        "read",
        frozenset({R.city_admin, R.district_admin}),
        params=lambda s, side: {"user_id": side.user_id},
        body=lambda s, side: {"display_name": "新名字"},
        inside={R.unit_admin: 404, R.branch_secretary: 404, R.inspector: 404},
    ),
    ("GET", "/api/v1/audit"): Rule("list", frozenset({R.city_admin, R.district_admin})),
    ("POST", "/api/v1/imports/members"): Rule(
        # The branch named in the file is the parent: outside the scope, a row error (422).
        "create",
        ALL - {R.inspector},
        files=_member_file,
    ),
    ("GET", "/api/v1/imports/members/template"): Rule("list", ALL),
    # Reports: everyone reads them, each over their own part of the tree.
    ("GET", "/api/v1/reports/progress"): Rule("list", ALL),
    ("GET", "/api/v1/reports/bulletin"): Rule("list", ALL),
    ("GET", "/api/v1/reports/coverage"): Rule("list", ALL),
    ("GET", "/api/v1/reports/gaps"): Rule("list", ALL),
    ("GET", "/api/v1/reports/dead-corners"): Rule("list", ALL),
    ("GET", "/api/v1/reports/weak-branches"): Rule("list", ALL),
    ("POST", "/api/v1/branches/{branch_id}/weak-mark"): Rule(
        "read",
        frozenset({R.city_admin, R.district_admin}),
        201,
        params=_fresh_branch,
        body=_weak_mark_body,
        # A branch of its own, not the secretary's: to them it does not exist.
        inside={R.branch_secretary: 404},
    ),
    ("DELETE", "/api/v1/branches/{branch_id}/weak-mark"): Rule(
        "read",
        frozenset({R.city_admin, R.district_admin}),
        204,
        params=_marked_branch,
        inside={R.branch_secretary: 404},
    ),
    # Standards and evaluations (after the advance rule: the unit's evaluation gate).
    ("GET", "/api/v1/standard-templates"): Rule("list", ALL),
    ("GET", "/api/v1/units/{unit_id}/standards"): Rule("read", ALL, params=_unit_with_standard),
    ("GET", "/api/v1/units/{unit_id}/standards/versions"): Rule(
        "read", ALL, params=lambda s, side: {"unit_id": side.unit_id}
    ),
    ("POST", "/api/v1/units/{unit_id}/standards"): Rule(
        "read",
        ADVANCERS,
        201,
        params=lambda s, side: {"unit_id": side.unit_id},
        # A note of its own each time: the same body as the newest version answers 200.
        body=lambda s, side: {"from_template": "organ", "note": f"第{next(_serial)}次修订"},
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
        "read", ALL, params=lambda s, side: {"branch_id": side.branch_id}
    ),
    ("GET", "/api/v1/reports/evaluations"): Rule("list", ALL),
    ("GET", "/api/v1/reports/evaluations/not-evaluated"): Rule("list", ALL),
}
