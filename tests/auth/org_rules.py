"""Who may call the organisation's routes: districts, units, branches and members (their
transfers and import), the users and each caller's own account, the audit log and the
labels."""

from typing import Any

from app.org.models import Branch
from tests.auth import factories
from tests.auth.rule import ALL, R, Rule, Side, new_code, serial, side_ids
from tests.imports import files as member_files
from tests.org import factories as org


def _member_file(session, side: Side) -> dict[str, Any]:
    """One new member of the side's branch, as an uploaded CSV."""
    row = member_files.member(session.get(Branch, side.branch_id).code, next(serial))
    content = member_files.csv_file(member_files.table([row]))
    return {"file": ("members.csv", content, "text/csv")}


def _fresh_member(session, side: Side) -> dict[str, int]:
    return {"member_id": org.member(session, side.branch_id).id}


ORG: dict[tuple[str, str], Rule] = {
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
        "list",
        frozenset({R.city_admin}),
        201,
        body=lambda s, side: {"code": new_code(), "name": "区"},
    ),
    ("GET", "/api/v1/districts/{district_id}"): Rule("read", ALL, params=side_ids("district_id")),
    ("PATCH", "/api/v1/districts/{district_id}"): Rule(
        "read",
        frozenset({R.city_admin}),
        params=side_ids("district_id"),
        body=lambda s, side: {"name": "改名区"},
    ),
    ("GET", "/api/v1/units"): Rule("list", ALL),
    ("POST", "/api/v1/units"): Rule(
        "create",
        frozenset({R.city_admin, R.district_admin}),
        201,
        body=lambda s, side: {
            "code": new_code(),
            "name": "单位",
            "district_id": side.district_id,
            "kind": "school",
        },
    ),
    ("GET", "/api/v1/units/{unit_id}"): Rule("read", ALL, params=side_ids("unit_id")),
    ("PATCH", "/api/v1/units/{unit_id}"): Rule(
        "read",
        frozenset({R.city_admin, R.district_admin}),
        params=side_ids("unit_id"),
        body=lambda s, side: {"name": "改名单位"},
    ),
    ("GET", "/api/v1/branches"): Rule("list", ALL),
    ("POST", "/api/v1/branches"): Rule(
        "create",
        frozenset({R.city_admin, R.district_admin, R.unit_admin}),
        201,
        body=lambda s, side: {"code": new_code(), "name": "支部", "unit_id": side.unit_id},
    ),
    ("GET", "/api/v1/branches/{branch_id}"): Rule("read", ALL, params=side_ids("branch_id")),
    ("PATCH", "/api/v1/branches/{branch_id}"): Rule(
        "read",
        frozenset({R.city_admin, R.district_admin, R.unit_admin}),
        params=side_ids("branch_id"),
        body=lambda s, side: {"secretary_name": "李书记"},
    ),
    ("GET", "/api/v1/members"): Rule("list", ALL),
    ("POST", "/api/v1/members"): Rule(
        "create",
        ALL - {R.inspector},
        201,
        body=lambda s, side: {"name": "党员", "gender": "male", "branch_id": side.branch_id},
    ),
    ("GET", "/api/v1/members/{member_id}"): Rule("read", ALL, params=side_ids("member_id")),
    ("PATCH", "/api/v1/members/{member_id}"): Rule(
        "read",
        ALL - {R.inspector},
        params=side_ids("member_id"),
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
        "read", ALL, params=side_ids("member_id")
    ),
    ("GET", "/api/v1/users"): Rule("list", frozenset({R.city_admin, R.district_admin})),
    ("POST", "/api/v1/users"): Rule(
        "create",
        frozenset({R.city_admin, R.district_admin}),
        201,
        body=lambda s, side: {
            "username": f"user{next(serial)}",
            "display_name": "书记",
            "role": "branch_secretary",
            "branch_id": side.branch_id,
            "password": "long enough pass",
        },
    ),
    ("GET", "/api/v1/users/{user_id}"): Rule(
        "read",
        frozenset({R.city_admin, R.district_admin}),
        params=side_ids("user_id"),
        inside={R.unit_admin: 404, R.branch_secretary: 404, R.inspector: 404},
    ),
    ("PATCH", "/api/v1/users/{user_id}"): Rule(
        "read",
        frozenset({R.city_admin, R.district_admin}),
        params=side_ids("user_id"),
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
