"""Every route, for every role, inside and outside its scope: the status each must answer.

The routes come from the app's own route table; a route without a rule here fails the test,
so every new endpoint has to say who may call it.
"""

import itertools
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient

from app.auth.principal import Role
from app.campaign.models import Campaign, MemberExemption, UnitProgress
from app.campaign.progress import phase_of
from app.clock import today
from app.org.models import Branch
from app.study.models import StudySession
from tests.auth import factories
from tests.campaign import factories as campaign
from tests.imports import files as member_files
from tests.org import factories as org

R = Role
ALL = frozenset(Role)
PUBLIC = {
    ("GET", "/healthz"),
    ("GET", "/readyz"),
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


def _study_session(session, branch_id: int, unit_id: int, batch_id: int) -> StudySession:
    s = StudySession(
        branch_id=branch_id,
        unit_id=unit_id,
        batch_id=batch_id,
        phase="study",
        held_on=today(),
        format="seminar",
        hours=2,
        topic="专题讨论",
    )
    session.add(s)
    session.commit()
    return s


def _fresh_session(session, side: Side) -> dict[str, str]:
    return {
        "session_id": str(_study_session(session, side.branch_id, side.unit_id, side.batch_id).id)
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


CAMPAIGN_WRITERS = frozenset({R.city_admin})
ADVANCERS = frozenset({R.city_admin, R.district_admin, R.unit_admin})
RECORDERS = ADVANCERS | {R.branch_secretary}

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
        params=lambda s, side: {"unit_id": side.unit_id},
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
}


def _side(session, batch) -> Side:
    d = org.district(session)
    u = org.unit(session, d.id)
    b, b2 = org.branch(session, u.id), org.branch(session, u.id)
    m = org.member(session, b.id)
    secretary = factories.user(session, Role.branch_secretary, branch_id=b.id)
    campaign.enrol(session, u.id, batch.id, "study")
    sid = str(_study_session(session, b.id, u.id, batch.id).id)
    return Side(d.id, u.id, b.id, b2.id, m.id, secretary.id, batch.campaign_id, batch.id, sid)


def _callers(session, side: Side) -> dict[Role, Any]:
    return {
        R.city_admin: factories.user(session, R.city_admin),
        R.district_admin: factories.user(session, R.district_admin, district_id=side.district_id),
        R.unit_admin: factories.user(session, R.unit_admin, unit_id=side.unit_id),
        R.branch_secretary: factories.user(session, R.branch_secretary, branch_id=side.branch_id),
        R.inspector: factories.user(session, R.inspector, unit_ids=(side.unit_id,)),
    }


def _expected(rule: Rule, role: Role, where: str) -> int:
    if where == "in":
        if role in rule.inside:
            return rule.inside[role]
        return rule.ok if role in rule.allowed else 403
    if role is R.city_admin:
        return rule.ok
    if rule.kind == "create":
        # Allowed to create, but the parent lies outside: to them it does not exist.
        return 422 if role in rule.allowed else 403
    return 404  # the object is outside: looked up before any right is checked


def _api_routes(app) -> list[tuple[str, str]]:
    # FastAPI keeps included routers nested; iter_route_contexts gives the effective routes.
    return sorted(
        (method, route.path)
        for route in iter_route_contexts(app.routes)
        for method in route.methods or ()
        if method != "HEAD"
    )


def test_every_route_has_a_rule(app):
    missing = [r for r in _api_routes(app) if r not in RULES and r not in PUBLIC]
    assert not missing, f"routes without a rule in RULES: {missing}"
    stale = [r for r in RULES if r not in _api_routes(app)]
    assert not stale, f"rules for routes that no longer exist: {stale}"


def test_without_a_token_only_public_routes_answer(app, anon):
    for method, path in _api_routes(app):
        if (method, path) in PUBLIC:
            continue
        concrete = path.replace("{", "").replace("}", "")
        for name in ("district_id", "unit_id", "branch_id", "member_id", "user_id"):
            concrete = concrete.replace(name, "1")
        r = anon.request(method, concrete)
        assert r.status_code == 401, (method, path, r.status_code)
        assert r.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("where", ["in", "out"])
def test_each_role_inside_and_outside_its_scope(app, engine, session, where):
    # No hours required: advancing needs no attendance, so each allowed role moves a step.
    batch = campaign.batch(session, min_hours=0)
    mine, theirs = _side(session, batch), _side(session, batch)
    callers = _callers(session, mine)
    target = mine if where == "in" else theirs
    wrong: list[str] = []
    with TestClient(app) as http:
        for (method, path), rule in RULES.items():
            if where == "out" and rule.kind == "list":
                continue  # nothing to point outside
            for role, user in callers.items():
                session.refresh(user)  # a password change bumps the token version
                session.commit()  # and end the read, or SQLite's snapshot goes stale
                url = path.format(**rule.params(session, target))
                body = rule.body(session, target) if rule.body else None
                upload = rule.files(session, target) if rule.files else None
                r = http.request(
                    method, url, json=body, files=upload, headers=factories.bearer(engine, user)
                )
                want = _expected(rule, role, where)
                if r.status_code != want:
                    wrong.append(f"{role.value:17} {method:5} {url}: {r.status_code} != {want}")
    assert not wrong, "\n" + "\n".join(wrong)
