"""Districts, units and branches through the API."""

import sqlalchemy as sa

from app.org.enums import UnitKind
from app.org.models import Branch, District, Unit
from tests.org import factories
from tests.test_http import assert_problem


def count(session, model) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(model))


def test_create_read_list_and_patch_the_tree(client):
    d = client.post("/api/v1/districts", json={"code": "370102", "name": "历下区"})
    assert d.status_code == 201, d.text
    district = d.json()
    assert district["code"] == "370102" and district["created_at"].endswith(("Z", "+00:00"))

    u = client.post(
        "/api/v1/units",
        json={"code": "U1", "name": "市财政局", "district_id": district["id"], "kind": "organ"},
    )
    assert u.status_code == 201, u.text
    unit = u.json()
    b = client.post(
        "/api/v1/branches",
        json={"code": "B1", "name": "第一党支部", "unit_id": unit["id"], "secretary_name": "王强"},
    )
    assert b.status_code == 201, b.text
    branch = b.json()

    assert client.get(f"/api/v1/districts/{district['id']}").json()["name"] == "历下区"
    assert client.get(f"/api/v1/units/{unit['id']}").json()["kind"] == "organ"
    assert client.get(f"/api/v1/branches/{branch['id']}").json()["secretary_name"] == "王强"

    r = client.patch(
        f"/api/v1/units/{unit['id']}", json={"name": "市财政局机关", "kind": "enterprise"}
    )
    assert r.status_code == 200, r.text
    assert (r.json()["name"], r.json()["kind"], r.json()["code"]) == (
        "市财政局机关",
        "enterprise",
        "U1",
    )
    assert r.json()["updated_at"] >= unit["updated_at"]


def test_lists_filter_by_parent_query_and_kind(client, session):
    d1, d2 = factories.district(session), factories.district(session)
    u1 = factories.unit(session, district_id=d1.id, name="历下区第一中学", kind="school")
    u2 = factories.unit(session, district_id=d1.id, name="市财政局", kind="organ")
    u3 = factories.unit(session, district_id=d2.id, name="槐荫区实验中学", kind="school")
    b1 = factories.branch(session, unit_id=u1.id)
    factories.branch(session, unit_id=u2.id)
    b3 = factories.branch(session, unit_id=u3.id)

    def ids(url):
        r = client.get(url)
        assert r.status_code == 200, r.text
        return [item["id"] for item in r.json()["items"]]

    assert ids(f"/api/v1/units?district_id={d1.id}") == [u1.id, u2.id]
    assert ids("/api/v1/units?kind=school") == [u1.id, u3.id]
    assert ids("/api/v1/units?q=中学") == [u1.id, u3.id]
    assert ids(f"/api/v1/units?q={u2.code.lower()}") == [u2.id]
    assert ids(f"/api/v1/branches?unit_id={u3.id}") == [b3.id]
    assert ids(f"/api/v1/branches?district_id={d1.id}&unit_id={u1.id}") == [b1.id]
    assert len(ids(f"/api/v1/branches?district_id={d1.id}")) == 2
    # LIKE wildcards in q are matched literally.
    assert ids("/api/v1/units?q=%25") == []
    assert ids(f"/api/v1/districts?q={d2.code}") == [d2.id]


def test_duplicate_code_is_409_and_writes_nothing(client, session):
    d = factories.district(session, code="370103")
    body = assert_problem(
        client.post("/api/v1/districts", json={"code": "370103", "name": "x"}), 409
    )
    assert body["type"].endswith("duplicate-code")
    assert count(session, District) == 1
    other = factories.district(session)
    assert_problem(client.patch(f"/api/v1/districts/{other.id}", json={"code": d.code}), 409)
    # Patching a row to its own code is no conflict.
    assert client.patch(f"/api/v1/districts/{d.id}", json={"code": d.code}).status_code == 200


def test_unknown_parent_is_422_naming_the_field(client, session):
    body = assert_problem(
        client.post(
            "/api/v1/units", json={"code": "U9", "name": "x", "district_id": 999, "kind": "organ"}
        ),
        422,
    )
    assert body["errors"] == [
        {
            "loc": ["body", "district_id"],
            "msg": "no district with id 999",
            "type": "unknown_reference",
        }
    ]
    body = assert_problem(
        client.post("/api/v1/branches", json={"code": "B9", "name": "x", "unit_id": 999}), 422
    )
    assert body["errors"][0]["loc"] == ["body", "unit_id"]
    unit = factories.unit(session)
    assert_problem(client.patch(f"/api/v1/units/{unit.id}", json={"district_id": 999}), 422)
    assert count(session, Unit) == 1 and count(session, Branch) == 0


def test_unknown_enum_value_lists_the_allowed_codes(client, session):
    d = factories.district(session)
    body = assert_problem(
        client.post(
            "/api/v1/units", json={"code": "U9", "name": "x", "district_id": d.id, "kind": "castle"}
        ),
        422,
    )
    (error,) = body["errors"]
    assert error["loc"] == ["body", "kind"]
    for code in UnitKind.codes():
        assert code in error["msg"]


def test_missing_rows_are_404(client):
    for path in ("districts", "units", "branches", "members"):
        assert_problem(client.get(f"/api/v1/{path}/123456"), 404)
        assert_problem(client.patch(f"/api/v1/{path}/123456", json={}), 404)


def test_ids_beyond_64_bits_and_null_patches_are_refused(client, session):
    assert_problem(client.get(f"/api/v1/units/{2**63}"), 422)
    assert_problem(
        client.post("/api/v1/branches", json={"code": "B", "name": "x", "unit_id": 2**70}), 422
    )
    d = factories.district(session)
    body = assert_problem(client.patch(f"/api/v1/districts/{d.id}", json={"name": None}), 422)
    assert body["errors"][0]["loc"] == ["body", "name"]
    # Unknown fields are refused rather than silently dropped.
    body = assert_problem(client.patch(f"/api/v1/districts/{d.id}", json={"nmae": "x"}), 422)
    assert body["errors"][0]["loc"] == ["body", "nmae"]


def test_labels_give_every_enum_in_chinese(client):
    labels = client.get("/api/v1/meta/labels").json()
    assert {"code": "non_public", "label": "非公企业"} in labels["unit_kind"]
    assert {c["code"] for c in labels["member_category"]} == {
        "migrant",
        "outgoing",
        "retired",
        "infirm",
    }
    assert {"code": "retired", "label": "离退休党员"} in labels["member_category"]
    assert all(item["label"] for items in labels.values() for item in items)
