"""Every route, for every role, inside and outside its scope: the status each must answer.

The routes come from the app's own route table; a route without a rule in route_rules.py
fails the test, so every new endpoint has to say who may call it.
"""

from typing import Any

import pytest
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient

from app.auth.principal import Role
from tests.auth import factories
from tests.auth.route_rules import PUBLIC, RULES
from tests.auth.rule import R, Rule, Side
from tests.campaign import factories as campaign
from tests.org import factories as org
from tests.study import factories as study


def _side(session, batch) -> Side:
    d = org.district(session)
    u = org.unit(session, d.id)
    b, b2 = org.branch(session, u.id), org.branch(session, u.id)
    m = org.member(session, b.id)
    secretary = factories.user(session, Role.branch_secretary, branch_id=b.id)
    campaign.enrol(session, u.id, batch.id, "study")
    sid = str(study.study_session(session, b.id, u.id, batch.id).id)
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
