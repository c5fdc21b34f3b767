"""A small world for the server tests, written straight to the database with the factories,
and the requests and checks they share."""

import uuid
from dataclasses import dataclass
from datetime import timedelta

import httpx
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.audit.models import AuditEntry
from app.auth.models import User
from app.auth.principal import Role
from app.auth.tokens import issue_token
from app.clock import today
from app.study import branch_totals, totals
from app.study.models import Attendance, StudySession
from tests.auth import factories as users
from tests.campaign import factories as campaign
from tests.org import factories as org

API = "/api/v1"
# Consecutive versions of a set differ in every record: a mix of two versions matches none.
STATUSES = ("present", "late", "excused", "absent")
SESSION_HOURS = "2"


def bearer(user: User, secret: str) -> dict[str, str]:
    token, _ = issue_token(user.id, user.token_version, secret)
    return {"Authorization": f"Bearer {token}"}


@dataclass(frozen=True)
class StudyBranch:
    """A branch of a unit in the study phase, its members, and tokens for its secretary and
    for a city admin."""

    batch_id: int
    unit_id: int
    branch_id: int
    members: list[int]
    secretary: dict[str, str]
    admin: dict[str, str]


def study_branch(engine: Engine, secret: str, members: int = 30, **batch) -> StudyBranch:
    with Session(engine, expire_on_commit=False) as s:
        b = campaign.batch(s, **batch)
        u = org.unit(s)
        br = org.branch(s, u.id)
        ms = [org.member(s, br.id) for _ in range(members)]
        campaign.enrol(s, u.id, b.id, "study")
        secretary = users.user(s, Role.branch_secretary, branch_id=br.id)
        admin = users.user(s, Role.city_admin)
        return StudyBranch(
            b.id, u.id, br.id, [m.id for m in ms], bearer(secretary, secret), bearer(admin, secret)
        )


def attendance(members: list[int], version: int) -> list[dict]:
    """The set a session gets at ``version``."""
    return [
        {"member_id": m, "status": STATUSES[(i + version) % len(STATUSES)]}
        for i, m in enumerate(members)
    ]


def as_stored(records: list[dict]) -> set[tuple[int, str]]:
    return {(r["member_id"], r["status"]) for r in records}


def session_body(
    branch_id: int, n: int, records: list[dict] | None = None, client_id: uuid.UUID | None = None
) -> dict:
    """A study session held in the last ten days (inside the study window factories make)."""
    body = {
        "branch_id": branch_id,
        "held_on": (today() - timedelta(days=n % 10)).isoformat(),
        "format": "collective_study",
        "hours": SESSION_HOURS,
        "topic": f"可靠性测试 {n}",
    }
    if records is not None:
        body["attendance"] = records
    if client_id is not None:
        body["id"] = str(client_id)
    return body


def create_session(client: httpx.Client, branch_id: int, n: int, records=None) -> str:
    answer = client.post(f"{API}/sessions", json=session_body(branch_id, n, records))
    assert answer.status_code == 201, answer.text
    return answer.json()["id"]


def stored_set(engine: Engine, session_id: str) -> set[tuple[int, str]]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(Attendance.member_id, Attendance.status).where(
                Attendance.session_id == uuid.UUID(session_id)
            )
        ).all()
    return {(r.member_id, r.status) for r in rows}


def count_rows(engine: Engine, *where, entity=StudySession) -> int:
    with engine.connect() as conn:
        return conn.scalar(sa.select(sa.func.count()).select_from(entity).where(*where))


def attendance_audits(engine: Engine, session_id: str) -> int:
    return count_rows(
        engine,
        AuditEntry.action == "attendance",
        AuditEntry.entity_id == session_id,
        entity=AuditEntry,
    )


def totals_differences(engine: Engine) -> list[totals.Difference]:
    """Every running total (members' study, branches' sessions) that disagrees with the rows."""
    with Session(engine) as s:
        return totals.differences(s) + branch_totals.differences(s)
