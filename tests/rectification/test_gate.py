"""The completion gate: a unit completes only when all its rectification items are verified."""

import sqlalchemy as sa

from app.audit.models import AuditEntry
from app.campaign.models import PhaseMove, UnitProgress
from tests.campaign import factories as campaign
from tests.org import factories as org
from tests.rectification import factories
from tests.test_http import assert_problem


def _complete(c, unit_id, **body):
    return c.post(f"/api/v1/units/{unit_id}/advance", json={"to": "completed", **body})


def _state(session, unit_id):
    session.commit()
    return session.get(UnitProgress, unit_id, populate_existing=True).state


def test_an_unverified_item_stops_completion_until_an_inspector_verifies_it(session, world):
    item = factories.item(session, world.unit.id, status="done", problem="三会一课不规范")
    factories.item(session, world.other_unit.id)  # another unit's item is no obstacle
    problem = assert_problem(_complete(world.unit_admin, world.unit.id), 409)
    assert problem["type"].endswith("rectification-unverified")
    assert problem["unverified"] == 1
    assert [(i["id"], i["status"], i["problem"]) for i in problem["items"]] == [
        (item.id, "done", "三会一课不规范")
    ]
    assert _state(session, world.unit.id) == "rectification"
    assert session.scalar(sa.select(sa.func.count()).select_from(PhaseMove)) == 0

    r = world.inspector.post(
        f"/api/v1/rectifications/{item.id}/transitions",
        json={"to": "verified", "note": "现场核查，已规范"},
    )
    assert r.status_code == 200, r.text
    r = _complete(world.unit_admin, world.unit.id)
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "completed"


def test_the_409_lists_every_unverified_item_whatever_its_status(session, world):
    items = [
        factories.item(session, world.unit.id, status=s) for s in ("open", "in_progress", "done")
    ]
    factories.item(session, world.unit.id, status="verified")
    problem = assert_problem(_complete(world.district_admin, world.unit.id), 409)
    assert problem["unverified"] == 3
    assert {i["id"] for i in problem["items"]} == {i.id for i in items}


def test_a_unit_without_items_or_with_all_verified_completes(session, client):
    b = campaign.batch(session)
    bare, clean = org.unit(session), org.unit(session)
    for u in (bare, clean):
        campaign.enrol(session, u.id, b.id, "rectification")
    factories.item(session, clean.id, status="verified")
    for u in (bare, clean):
        assert _complete(client, u.id).json()["state"] == "completed"


def test_a_district_admin_overrides_with_a_reason_audited_a_unit_admin_may_not(session, world):
    factories.item(session, world.unit.id, status="in_progress")
    reason = "整改事项属长期任务，已纳入年度计划，经区委同意先行结束活动"
    assert_problem(_complete(world.unit_admin, world.unit.id, override_reason=reason), 403)
    assert _state(session, world.unit.id) == "rectification"
    r = _complete(world.district_admin, world.unit.id, override_reason=reason)
    assert r.status_code == 200, r.text
    assert r.json()["history"][-1]["override_reason"] == reason
    session.commit()
    entry = session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "override"))
    assert entry.after == {"state": "completed", "override_reason": reason}


def test_items_do_not_hold_back_earlier_steps_and_no_reason_is_kept_when_not_needed(
    session, client
):
    b = campaign.batch(session, min_hours=0)
    u = org.unit(session)
    campaign.enrol(session, u.id, b.id, "rectification")
    factories.item(session, u.id, status="verified")
    r = _complete(client, u.id, override_reason="不需要的理由，也不应记录在案")
    assert r.status_code == 200 and r.json()["history"][-1]["override_reason"] is None


def test_bulk_advance_refuses_units_with_unverified_items_one_by_one(session, client):
    b = campaign.batch(session)
    units = [org.unit(session) for _ in range(3)]
    for u in units:
        campaign.enrol(session, u.id, b.id, "rectification")
    factories.item(session, units[1].id, status="done")
    r = client.post(
        f"/api/v1/batches/{b.id}/advance",
        json={"unit_ids": [u.id for u in units], "to": "completed"},
    )
    assert r.status_code == 200, r.text
    assert [x["status"] for x in r.json()] == ["advanced", "refused", "advanced"]
    assert "not yet verified" in r.json()[1]["detail"]
    assert [_state(session, u.id) for u in units] == ["completed", "rectification", "completed"]
