"""Members: registration, validation of personal data, filters, transfers."""

from datetime import date, timedelta

import sqlalchemy as sa

from app.clock import today
from app.org.models import Member, MemberTransfer
from tests.org import factories
from tests.test_http import assert_problem


def new_member(branch_id: int, **over) -> dict:
    return {"name": "张伟", "gender": "male", "branch_id": branch_id, **over}


def test_register_a_member_with_categories_and_personal_data(client, session):
    b = factories.branch(session)
    idn = factories.id_number(date(1948, 5, 2), serial=11)
    r = client.post(
        "/api/v1/members",
        json=new_member(
            b.id,
            birth_date="1948-05-02",
            joined_on="1970-07-01",
            categories=["retired", "infirm"],
            id_number=idn.lower(),
            phone="13812345678",
        ),
    )
    assert r.status_code == 201, r.text
    m = r.json()
    assert m["categories"] == ["retired", "infirm"] and m["status"] == "active"
    assert m["id_number"] == idn.upper()
    stored = session.get(Member, m["id"])
    assert (stored.is_retired, stored.is_infirm, stored.is_migrant) == (True, True, False)


def test_personal_data_and_dates_are_checked_field_by_field(client, session):
    b = factories.branch(session)
    good = factories.id_number()
    bad_check = good[:17] + ("0" if good[17] != "0" else "1")
    cases = {
        "id_number": {"id_number": bad_check},
        "phone": {"phone": "23812345678"},
        "birth_date": {"birth_date": (today() + timedelta(days=1)).isoformat()},
        "gender": {"gender": "unknown"},
        "categories": {"categories": ["tourist"]},
    }
    for field, over in cases.items():
        body = assert_problem(client.post("/api/v1/members", json=new_member(b.id, **over)), 422)
        assert body["errors"][0]["loc"][:2] == ["body", field], body
    body = assert_problem(
        client.post(
            "/api/v1/members",
            json=new_member(b.id, birth_date="1980-01-01", joined_on="1979-01-01"),
        ),
        422,
    )
    assert body["errors"][0]["loc"] == ["body", "joined_on"]
    assert session.scalar(sa.select(sa.func.count()).select_from(Member)) == 0


def test_text_with_control_characters_is_refused_naming_the_field(client, session):
    """The same answer on both databases (PostgreSQL cannot store a NUL, SQLite would), and
    no name the member import would refuse when the export comes back."""
    b = factories.branch(session)
    for name in ("张\x00三", "张\x01三", "张\n三", "张\t三"):
        body = assert_problem(client.post("/api/v1/members", json=new_member(b.id, name=name)), 422)
        assert body["errors"][0]["loc"] == ["body", "name"], body
    # Line breaks belong in longer text: a transfer's reason may have them.
    m = factories.member(session, branch_id=b.id)
    other = factories.branch(session, unit_id=b.unit_id)
    move = {"branch_id": other.id, "reason": "工作调动\n经支部研究同意"}
    assert client.post(f"/api/v1/members/{m.id}/transfer", json=move).status_code == 201
    move = {"branch_id": b.id, "reason": "调回\x00"}
    body = assert_problem(client.post(f"/api/v1/members/{m.id}/transfer", json=move), 422)
    assert body["errors"][0]["loc"] == ["body", "reason"]
    assert session.scalar(sa.select(sa.func.count()).select_from(Member)) == 1


def test_an_id_number_is_registered_once(client, session):
    b = factories.branch(session)
    idn = factories.id_number()
    assert client.post("/api/v1/members", json=new_member(b.id, id_number=idn)).status_code == 201
    body = assert_problem(client.post("/api/v1/members", json=new_member(b.id, id_number=idn)), 409)
    assert body["type"].endswith("duplicate-id-number")
    assert idn not in body["detail"]


def test_changing_to_a_registered_id_number_is_the_same_named_conflict(client, session):
    b = factories.branch(session)
    idn = factories.id_number(serial=21)
    holder = factories.member(session, branch_id=b.id, id_number=idn)
    other = factories.member(session, branch_id=b.id)
    body = assert_problem(client.patch(f"/api/v1/members/{other.id}", json={"id_number": idn}), 409)
    assert body["type"].endswith("duplicate-id-number")
    assert str(holder.id) in body["detail"]
    session.rollback()
    assert session.get(Member, other.id).id_number is None


def test_filters_by_tree_category_status_and_name(client, session):
    d = factories.district(session)
    u = factories.unit(session, district_id=d.id)
    b1, b2 = factories.branch(session, unit_id=u.id), factories.branch(session)
    m1 = factories.member(session, branch_id=b1.id, categories={"migrant"}, name="李明")
    m2 = factories.member(
        session, branch_id=b1.id, categories={"retired", "infirm"}, status="deceased"
    )
    m3 = factories.member(session, branch_id=b2.id, categories={"retired"})

    def ids(query: str) -> list[int]:
        r = client.get(f"/api/v1/members?{query}")
        assert r.status_code == 200, r.text
        return [m["id"] for m in r.json()["items"]]

    assert ids(f"branch_id={b1.id}") == [m1.id, m2.id]
    assert ids(f"unit_id={u.id}") == [m1.id, m2.id]
    assert ids(f"district_id={d.id}") == [m1.id, m2.id]
    assert ids("category=retired") == [m2.id, m3.id]
    assert ids("category=retired&status=active") == [m3.id]
    assert ids("q=李") == [m1.id]
    assert_problem(client.get("/api/v1/members?category=tourist"), 422)


def test_patch_changes_only_what_is_sent(client, session):
    m = factories.member(session, categories={"migrant"}, phone="13900000000")
    r = client.patch(f"/api/v1/members/{m.id}", json={"categories": ["outgoing"], "phone": None})
    assert r.status_code == 200, r.text
    assert (r.json()["categories"], r.json()["phone"], r.json()["name"]) == (
        ["outgoing"],
        None,
        m.name,
    )
    assert_problem(client.patch(f"/api/v1/members/{m.id}", json={"categories": None}), 422)
    body = assert_problem(client.patch(f"/api/v1/members/{m.id}", json={"branch_id": 1}), 422)
    assert body["errors"][0]["loc"] == ["body", "branch_id"]


def test_transfer_moves_the_member_and_keeps_the_history(client, session):
    a, b, c = (factories.branch(session) for _ in range(3))
    m = factories.member(session, branch_id=a.id)
    r1 = client.post(
        f"/api/v1/members/{m.id}/transfer", json={"branch_id": b.id, "reason": "工作调动"}
    )
    assert r1.status_code == 201, r1.text
    r2 = client.post(f"/api/v1/members/{m.id}/transfer", json={"branch_id": c.id, "reason": "搬家"})
    assert r2.status_code == 201, r2.text
    assert client.get(f"/api/v1/members/{m.id}").json()["branch_id"] == c.id
    history = client.get(f"/api/v1/members/{m.id}/transfers").json()
    assert history["total"] == 2
    assert [(h["from_branch_id"], h["to_branch_id"], h["reason"]) for h in history["items"]] == [
        (a.id, b.id, "工作调动"),
        (b.id, c.id, "搬家"),
    ]


def test_transfer_refusals_write_nothing(client, session):
    a = factories.branch(session)
    m = factories.member(session, branch_id=a.id)
    gone = factories.member(session, branch_id=a.id, status="deceased")
    other = factories.branch(session)
    body = assert_problem(
        client.post(f"/api/v1/members/{m.id}/transfer", json={"branch_id": a.id, "reason": "x"}),
        422,
    )
    assert body["errors"][0]["loc"] == ["body", "branch_id"]
    assert_problem(
        client.post(f"/api/v1/members/{m.id}/transfer", json={"branch_id": 9999, "reason": "x"}),
        422,
    )
    assert_problem(
        client.post(
            f"/api/v1/members/{gone.id}/transfer", json={"branch_id": other.id, "reason": "x"}
        ),
        409,
    )
    assert_problem(
        client.post("/api/v1/members/9999/transfer", json={"branch_id": other.id, "reason": "x"}),
        404,
    )
    assert_problem(
        client.post(f"/api/v1/members/{m.id}/transfer", json={"branch_id": other.id, "reason": ""}),
        422,
    )
    assert session.scalar(sa.select(sa.func.count()).select_from(MemberTransfer)) == 0
    session.expire_all()
    assert session.get(Member, gone.id).branch_id == a.id


def test_members_are_never_deleted(client, session):
    m = factories.member(session)
    assert_problem(client.delete(f"/api/v1/members/{m.id}"), 405)
