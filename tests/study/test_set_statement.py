"""On PostgreSQL an attendance set is written by one statement (app/study/set_statement.py),
elsewhere by Python (app/study/attendance.py _write_set): the same random work through the
API, once each way, must leave the same answers, rows, totals and audit entries."""

import random
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.audit.models import AuditEntry
from app.clock import today
from app.org.enums import MemberCategory
from app.study import attendance, set_statement
from app.study.models import Attendance, MemberStudyTotal
from tests.campaign import factories as campaign
from tests.org import factories as org

SESSIONS = "/api/v1/sessions"
STEPS = 25


def _branch_with_a_guest(session, batch_id: int) -> tuple[int, list[int]]:
    """A branch of four members, and a migrant of another unit of the batch (a guest)."""
    unit, other = org.unit(session), org.unit(session)
    branch, elsewhere = org.branch(session, unit.id), org.branch(session, other.id)
    for u in (unit, other):
        campaign.enrol(session, u.id, batch_id, "study")
    members = [org.member(session, branch.id).id for _ in range(4)]
    members.append(org.member(session, elsewhere.id, categories=(MemberCategory.migrant,)).id)
    session.commit()
    return branch.id, members


def _work(client, session, branch_id: int, members: list[int], seed: int) -> list:
    """Creates, sets, hours edits and deletes drawn from ``seed``; what each answered and
    what the rows and totals were after it, members and sessions by their position."""
    rnd = random.Random(seed)
    position = {m: i for i, m in enumerate(members)}
    sessions: list[str] = []
    seen = []
    for _ in range(STEPS):
        op = rnd.choice(["create", "put", "put", "put", "put", "hours", "delete"])
        if op == "create" or not sessions:
            held_on = today() - timedelta(days=rnd.randint(0, 10))
            body = {"branch_id": branch_id, "held_on": held_on.isoformat()}
            body |= {"format": "seminar", "hours": rnd.choice([2, 3]), "topic": "学习党章"}
            answer = client.post(SESSIONS, json=body)
            assert answer.status_code == 201, answer.text
            sessions.append(answer.json()["id"])
            continue
        sid = rnd.choice(sessions)
        if op == "put":
            records = []
            for m in rnd.sample(members, rnd.randint(0, len(members))):
                status = rnd.choice(["present", "late", "excused", "absent"])
                hours = rnd.choice([None, None, 0, 0.5, 1, 1.5, 2])
                earns = status in ("present", "late")
                records.append(
                    {"member_id": m, "status": status}
                    | ({"hours": hours} if earns and hours is not None else {})
                )
            answer = client.put(f"{SESSIONS}/{sid}/attendance", json={"records": records})
            seen.append((op, answer.status_code, answer.json() | {"session_id": None}))
        elif op == "hours":
            answer = client.patch(f"{SESSIONS}/{sid}", json={"hours": rnd.choice([2, 3])})
            seen.append((op, answer.status_code))
        else:
            seen.append((op, client.delete(f"{SESSIONS}/{sid}").status_code))
            sessions.remove(sid)
        session.rollback()
        t = MemberStudyTotal
        totals = session.execute(
            sa.select(t.member_id, t.hours, t.sessions, t.last_attended_on).where(
                t.member_id.in_(members)
            )
        )
        a = Attendance
        rows = session.execute(
            sa.select(a.session_id, a.member_id, a.status, a.hours, a.credited, a.is_guest).where(
                a.member_id.in_(members)
            )
        )
        seen.append(
            (
                sorted((position[m], *rest) for m, *rest in totals),
                sorted((sessions.index(str(s)), position[m], *rest) for s, m, *rest in rows),
            )
        )
    return seen


def _audit(session, after_id: int) -> list[tuple]:
    entries = session.scalars(
        sa.select(AuditEntry)
        .where(AuditEntry.action == "attendance", AuditEntry.id > after_id)
        .order_by(AuditEntry.id)
    )
    return [(e.before, e.after) for e in entries]


def _last_audit_id(session) -> int:
    session.rollback()
    return session.scalar(sa.select(sa.func.coalesce(sa.func.max(AuditEntry.id), 0)))


@pytest.mark.parametrize("seed", range(4))
def test_the_statement_writes_what_the_python_path_writes(client, session, monkeypatch, seed):
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("the one-statement write is PostgreSQL's; elsewhere both sides are Python")
    batch = campaign.batch(session)
    start = _last_audit_id(session)
    by_statement = _work(client, session, *_branch_with_a_guest(session, batch.id), seed)
    statement_audit = _audit(session, start)
    middle = _last_audit_id(session)
    monkeypatch.setattr(set_statement, "write_set", attendance._write_set)
    by_python = _work(client, session, *_branch_with_a_guest(session, batch.id), seed)
    assert by_statement == by_python
    assert statement_audit == _audit(session, middle)
    assert statement_audit  # the work changed some set
