"""Concrete standards (先进性具体标准): templates, versions, who may write them."""

import sqlalchemy as sa

from app.audit.models import AuditEntry
from app.auth.principal import Role
from app.org.enums import UnitKind
from app.standards.models import StandardVersion
from app.standards.templates import TEMPLATES
from tests.auth import factories as users
from tests.org import factories as org
from tests.test_http import assert_problem

GROUPS = [
    {"items": ["坚定理想信念", "按时交纳党费"]},
    {"post": "生产一线党员", "items": ["严守操作规程"]},
    {"category": "retired", "items": ["发挥余热"]},
]


def post(c, unit_id, **body):
    return c.post(f"/api/v1/units/{unit_id}/standards", json=body)


def versions(session) -> int:
    session.commit()
    return session.scalar(sa.select(sa.func.count()).select_from(StandardVersion))


def test_every_unit_kind_has_a_template_grouped_with_labels(client):
    body = client.get("/api/v1/standard-templates").json()
    assert body["total"] == len(UnitKind) == len(TEMPLATES)
    assert {t["unit_kind"] for t in body["items"]} == set(UnitKind.codes())
    village = client.get("/api/v1/standard-templates", params={"unit_kind": "village"}).json()
    (template,) = village["items"]
    labels = [g["label"] for g in template["groups"]]
    assert labels == ["全体党员", "村党员干部", "外出党员", "离退休党员"]
    assert template["groups"][2]["category"] == "outgoing"
    assert all(g["items"] for g in template["groups"])
    page = client.get("/api/v1/standard-templates", params={"limit": 3, "offset": 6}).json()
    assert (len(page["items"]), page["total"]) == (2, 8)


def test_a_unit_starts_from_a_template_then_writes_its_own_and_older_versions_stay(client, session):
    u = org.unit(session, kind="enterprise")
    assert_problem(client.get(f"/api/v1/units/{u.id}/standards"), 404)
    r = post(client, u.id, from_template="enterprise")
    assert r.status_code == 201, r.text
    first = r.json()
    template = client.get("/api/v1/standard-templates?unit_kind=enterprise").json()["items"][0]
    assert (first["version"], first["latest_version"], first["from_template"]) == (
        1, 1, "enterprise",
    )  # fmt: skip
    assert first["groups"] == template["groups"] and first["username"] == "city"

    r = post(client, u.id, from_template="enterprise", groups=GROUPS, note="结合本厂实际修订")
    assert r.status_code == 201, r.text
    second = r.json()
    assert second["version"] == 2 and second["note"] == "结合本厂实际修订"
    assert [(g["post"], g["category"], g["label"], g["items"]) for g in second["groups"]] == [
        (None, None, "全体党员", ["坚定理想信念", "按时交纳党费"]),
        ("生产一线党员", None, "生产一线党员", ["严守操作规程"]),
        (None, "retired", "离退休党员", ["发挥余热"]),
    ]
    assert client.get(f"/api/v1/units/{u.id}/standards").json() == second
    old = client.get(f"/api/v1/units/{u.id}/standards", params={"version": 1}).json()
    assert old["groups"] == first["groups"] and old["latest_version"] == 2
    assert_problem(client.get(f"/api/v1/units/{u.id}/standards", params={"version": 3}), 404)

    in_template = sum(len(g["items"]) for g in template["groups"])
    listed = client.get(f"/api/v1/units/{u.id}/standards/versions").json()
    assert listed["total"] == 2
    assert [(v["version"], v["items"]) for v in listed["items"]] == [(2, 4), (1, in_template)]
    entries = session.scalars(
        sa.select(AuditEntry.after).where(AuditEntry.action == "standard").order_by(AuditEntry.id)
    ).all()
    assert entries == [
        {"version": 1, "items": in_template, "from_template": "enterprise"},
        {"version": 2, "items": 4, "from_template": "enterprise"},
    ]


def test_the_newest_version_written_again_creates_nothing(client, session):
    u = org.unit(session)
    assert post(client, u.id, groups=GROUPS, note="初稿").status_code == 201
    again = post(client, u.id, groups=GROUPS, note="初稿")
    assert again.status_code == 200 and again.json()["version"] == 1
    assert versions(session) == 1
    # Another note is another version, with the same items.
    assert post(client, u.id, groups=GROUPS, note="二稿").json()["version"] == 2


def test_an_idempotency_key_replays_the_first_answer(client, session):
    u = org.unit(session)
    headers = {"Idempotency-Key": "standard-1"}
    first = client.post(f"/api/v1/units/{u.id}/standards", json={"groups": GROUPS}, headers=headers)
    replay = client.post(
        f"/api/v1/units/{u.id}/standards", json={"groups": GROUPS}, headers=headers
    )
    assert (first.status_code, replay.status_code) == (201, 201)
    assert replay.headers["idempotent-replayed"] == "true" and replay.json() == first.json()
    other = client.post(
        f"/api/v1/units/{u.id}/standards", json={"groups": GROUPS[:1]}, headers=headers
    )
    assert_problem(other, 422)
    assert versions(session) == 1


def test_bad_standards_are_refused_writing_nothing(client, session):
    u = org.unit(session)
    for body, loc in (
        ({}, ["body"]),
        ({"groups": []}, ["body", "groups"]),
        ({"groups": [{"items": []}]}, ["body", "groups", 0, "items"]),
        ({"groups": [{"items": [""]}]}, ["body", "groups", 0, "items", 0]),
        (
            {"groups": [{"post": "书记", "category": "retired", "items": ["x"]}]},
            ["body", "groups", 0],
        ),
        (
            {"groups": [{"category": "pensioner", "items": ["x"]}]},
            ["body", "groups", 0, "category"],
        ),
        ({"groups": [{"items": ["x" * 1001]}]}, ["body", "groups", 0, "items", 0]),
        ({"from_template": "castle"}, ["body", "from_template"]),
        (
            {"groups": [{"post": "书记", "items": ["a"]}, {"post": "书记", "items": ["b"]}]},
            ["body", "groups", 1],
        ),
        ({"groups": [{"items": ["a"]}, {"items": ["b"]}]}, ["body", "groups", 1]),
    ):
        problem = assert_problem(post(client, u.id, **body), 422)
        assert problem["errors"][0]["loc"][: len(loc)] == loc, (body, problem)
    assert_problem(post(client, 10**9, groups=GROUPS), 404)
    assert versions(session) == 0


def test_who_may_read_and_write_a_units_standard(client_as, session):
    u = org.unit(session)
    br = org.branch(session, u.id)
    other = org.unit(session)
    writers = [
        users.user(session, Role.unit_admin, unit_id=u.id),
        users.user(session, Role.district_admin, district_id=u.district_id),
    ]
    readers = [
        users.user(session, Role.branch_secretary, branch_id=br.id),
        users.user(session, Role.inspector, unit_ids=(u.id,)),
    ]
    strangers = [
        users.user(session, Role.unit_admin, unit_id=other.id),
        users.user(session, Role.district_admin, district_id=other.district_id),
        users.user(session, Role.inspector, unit_ids=(other.id,)),
    ]
    for who in strangers:
        assert_problem(post(client_as(who), u.id, groups=GROUPS), 404)
    for who in readers:
        assert_problem(post(client_as(who), u.id, groups=GROUPS), 403)
    assert versions(session) == 0
    for n, who in enumerate(writers, start=1):
        r = post(client_as(who), u.id, groups=GROUPS, note=f"第{n}稿")
        assert r.status_code == 201 and r.json()["username"] == who.username
    for who in readers:
        assert client_as(who).get(f"/api/v1/units/{u.id}/standards").json()["version"] == 2
    for who in strangers:
        assert_problem(client_as(who).get(f"/api/v1/units/{u.id}/standards"), 404)
        assert_problem(client_as(who).get(f"/api/v1/units/{u.id}/standards/versions"), 404)
