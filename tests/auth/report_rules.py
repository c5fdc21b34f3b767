"""Who may call the department's report routes (coverage, gaps, dead corners, progress, weak
branches, the bulletin) and the marks of weak branches. The rectification, inspection and
evaluation reports' rules live with their phases in campaign_rules.py."""

from typing import Any

from app.clock import today
from app.reports.models import WeakBranchMark
from tests.auth.rule import ALL, R, Rule, Side
from tests.org import factories as org


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


REPORTS: dict[tuple[str, str], Rule] = {
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
}
