"""The running totals (members' study, branches' sessions) equal the attendance and session
rows, whatever sequence of writes made them.

The expected totals are computed here in Python from what the test itself sent, not by the
service's own recomputation query: the two would share any mistake.
"""

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.cli import cli
from app.clock import today
from app.study.enums import SessionFormat
from app.study.models import BranchSessionTotal, MemberStudyTotal, StudySession
from tests.campaign import factories as campaign
from tests.org import factories as org

STATUSES = ["present", "late", "excused", "absent"]
MEMBERS = 4


@dataclass
class Model:
    """What the test believes: each live session's phase, date, hours, format, lecturer and
    attendance set."""

    sessions: dict[str, dict] = field(default_factory=dict)

    def expected(self) -> dict[tuple[int, str], tuple[Decimal, int, object]]:
        """Per member and phase: hours, sessions attended, last attended."""
        out: dict[tuple[int, str], tuple[Decimal, int, object]] = {}
        for s in self.sessions.values():
            for member_id, (status, hours) in s["records"].items():
                earns = status in ("present", "late")
                credit = (
                    min(Decimal(str(hours)), s["hours"])
                    if earns and hours is not None
                    else (s["hours"] if earns else Decimal(0))
                )
                key = (member_id, s["phase"])
                h, n, last = out.get(key, (Decimal(0), 0, None))
                if earns:
                    last = max(last, s["held_on"]) if last else s["held_on"]
                out[key] = (h + credit, n + int(earns), last)
        return out

    def expected_held(self) -> dict[str, dict[str, object]]:
        """Per phase with a session left, the branch's session totals: sessions, leading
        cadres' lectures, a count per format, the last day held."""
        out: dict[str, dict[str, object]] = {}
        for s in self.sessions.values():
            t = out.setdefault(
                s["phase"],
                {"sessions": 0, "leader_lectures": 0, "last_held_on": s["held_on"]}
                | {f"{fmt}_sessions": 0 for fmt in ALL_FORMATS},
            )
            t["sessions"] += 1
            t["leader_lectures"] += int(s["leader"])
            t["last_held_on"] = max(t["last_held_on"], s["held_on"])
            t[f"{s['format']}_sessions"] += 1
        return out


ALL_FORMATS = [fmt.value for fmt in SessionFormat]
HELD_FIGURES = (
    "sessions",
    "leader_lectures",
    "last_held_on",
    *(f"{fmt}_sessions" for fmt in ALL_FORMATS),
)
FORMATS = ["seminar", "party_lecture", "self_study"]
PHASES = ["study", "evaluation"]
# Both phases' windows lie in the past, 20 days each: study began 40 days ago.
WINDOW_DAYS = 20


def day_in(phase: str, offset: int):
    return (
        today()
        - timedelta(days=2 * WINDOW_DAYS)
        + timedelta(days=PHASES.index(phase) * WINDOW_DAYS + offset)
    )


record = st.tuples(
    st.integers(0, MEMBERS - 1),
    st.sampled_from(STATUSES),
    st.one_of(st.none(), st.sampled_from([0.5, 1, 1.5, 2])),
)
operation = st.one_of(
    st.tuples(
        st.just("create"),
        st.tuples(st.sampled_from(PHASES), st.integers(0, 10)),
        st.sampled_from([1, 2, 2.5, 3]),
        st.sampled_from(FORMATS),
        st.booleans(),
    ),
    st.tuples(st.just("attend"), st.integers(0, 5), st.lists(record, max_size=MEMBERS)),
    st.tuples(st.just("hours"), st.integers(0, 5), st.sampled_from([0.5, 1.5, 3, 4])),
    st.tuples(st.just("date"), st.integers(0, 5), st.integers(0, 10)),
    st.tuples(st.just("format"), st.integers(0, 5), st.sampled_from(FORMATS), st.booleans()),
    st.tuples(st.just("phase"), st.integers(0, 5), st.sampled_from(PHASES), st.integers(0, 10)),
    st.tuples(st.just("delete"), st.integers(0, 5)),
)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=st.lists(operation, min_size=1, max_size=12))
def test_totals_equal_the_attendance_after_any_sequence(client, session, ops):
    b = campaign.batch(session, start=day_in("study", 0), days=WINDOW_DAYS)
    unit = org.unit(session)
    branch = org.branch(session, unit.id)
    members = [org.member(session, branch.id).id for _ in range(MEMBERS)]
    campaign.enrol(session, unit.id, b.id, "study")
    model = Model()

    def pick(i):
        ids = sorted(model.sessions)
        return ids[i % len(ids)] if ids else None

    for op in ops:
        kind = op[0]
        if kind == "create":
            phase, offset = op[1]
            held_on = day_in(phase, offset)
            r = client.post(
                "/api/v1/sessions",
                json={
                    "branch_id": branch.id,
                    "phase": phase,
                    "held_on": held_on.isoformat(),
                    "hours": op[2],
                    "format": op[3],
                    "lecturer_is_leading_cadre": op[4],
                    "topic": "专题讨论",
                },
            )
            assert r.status_code == 201, r.text
            model.sessions[r.json()["id"]] = {
                "phase": phase,
                "held_on": held_on,
                "hours": Decimal(str(op[2])),
                "format": op[3],
                "leader": op[4],
                "records": {},
            }
        elif (sid := pick(op[1])) is None:
            continue
        elif kind == "attend":
            records = {}
            for index, status, hours in op[2]:
                records[members[index]] = (status, hours if status in ("present", "late") else None)
            body = [
                {"member_id": m, "status": s, **({"hours": h} if h is not None else {})}
                for m, (s, h) in records.items()
            ]
            r = client.put(f"/api/v1/sessions/{sid}/attendance", json={"records": body})
            too_many = any(
                h is not None and Decimal(str(h)) > model.sessions[sid]["hours"]
                for s, h in records.values()
            )
            if too_many:
                assert r.status_code == 422, r.text
            else:
                assert r.status_code == 200, r.text
                model.sessions[sid]["records"] = records
        elif kind == "hours":
            hours = Decimal(str(op[2]))
            r = client.patch(f"/api/v1/sessions/{sid}", json={"hours": op[2]})
            # Hours below a member's own recorded hours are refused (correct the set first).
            if any(
                h is not None and Decimal(str(h)) > hours
                for _, h in model.sessions[sid]["records"].values()
            ):
                assert r.status_code == 422, r.text
            else:
                assert r.status_code == 200, r.text
                model.sessions[sid]["hours"] = hours
        elif kind == "date":
            held_on = day_in(model.sessions[sid]["phase"], op[2])
            r = client.patch(f"/api/v1/sessions/{sid}", json={"held_on": held_on.isoformat()})
            assert r.status_code == 200, r.text
            model.sessions[sid]["held_on"] = held_on
        elif kind == "format":
            change = {"format": op[2], "lecturer_is_leading_cadre": op[3]}
            r = client.patch(f"/api/v1/sessions/{sid}", json=change)
            assert r.status_code == 200, r.text
            model.sessions[sid] |= {"format": op[2], "leader": op[3]}
        elif kind == "phase":
            held_on = day_in(op[2], op[3])
            change = {"phase": op[2], "held_on": held_on.isoformat()}
            r = client.patch(f"/api/v1/sessions/{sid}", json=change)
            assert r.status_code == 200, r.text
            model.sessions[sid] |= {"phase": op[2], "held_on": held_on}
        elif kind == "delete":
            assert client.delete(f"/api/v1/sessions/{sid}").status_code == 204
            del model.sessions[sid]

    session.rollback()
    stored = {
        (t.member_id, t.phase): (Decimal(t.hours), t.sessions, t.last_attended_on)
        for t in session.scalars(
            sa.select(MemberStudyTotal).where(MemberStudyTotal.member_id.in_(members))
        )
    }
    zero = (Decimal(0), 0, None)
    expected = model.expected()
    for key in {(m, phase) for m in members for phase in PHASES}:
        assert stored.get(key, zero) == expected.get(key, zero), (key, ops)
    held = {
        t.phase: {name: getattr(t, name) for name in HELD_FIGURES}
        for t in session.scalars(
            sa.select(BranchSessionTotal).where(BranchSessionTotal.branch_id == branch.id)
        )
    }
    assert held == model.expected_held(), ops


def test_verify_totals_finds_and_repairs_a_difference(client, session, cli_runner):
    b = campaign.batch(session)
    unit = org.unit(session)
    branch = org.branch(session, unit.id)
    m = org.member(session, branch.id)
    campaign.enrol(session, unit.id, b.id, "study")
    client.post(
        "/api/v1/sessions",
        json={
            "branch_id": branch.id,
            "held_on": today().isoformat(),
            "hours": 2,
            "format": "seminar",
            "topic": "专题讨论",
            "attendance": [{"member_id": m.id, "status": "present"}],
        },
    )
    assert cli_runner.invoke(cli, ["verify-totals"]).exit_code == 0
    session.execute(sa.update(MemberStudyTotal).values(hours=Decimal(99)))
    session.commit()
    broken = cli_runner.invoke(cli, ["verify-totals"])
    assert broken.exit_code == 1 and f"member {m.id}" in broken.output
    assert cli_runner.invoke(cli, ["verify-totals", "--fix"]).exit_code == 0
    assert cli_runner.invoke(cli, ["verify-totals"]).exit_code == 0
    session.rollback()
    assert session.scalar(sa.select(MemberStudyTotal.hours)) == Decimal(2)


def test_verify_totals_finds_and_repairs_a_branch_session_total(client, session, cli_runner):
    b = campaign.batch(session)
    unit = org.unit(session)
    branch = org.branch(session, unit.id)
    campaign.enrol(session, unit.id, b.id, "study")
    for fmt, leader in (("seminar", True), ("seminar", False), ("self_study", False)):
        r = client.post(
            "/api/v1/sessions",
            json={
                "branch_id": branch.id,
                "held_on": today().isoformat(),
                "hours": 2,
                "format": fmt,
                "lecturer_is_leading_cadre": leader,
                "topic": "专题讨论",
            },
        )
        assert r.status_code == 201, r.text

    def stored():
        session.rollback()
        t = session.scalars(sa.select(BranchSessionTotal)).one()
        return t.sessions, t.leader_lectures, t.seminar_sessions, t.self_study_sessions

    assert stored() == (3, 1, 2, 1)
    session.execute(sa.update(BranchSessionTotal).values(sessions=5, seminar_sessions=0))
    session.commit()
    broken = cli_runner.invoke(cli, ["verify-totals"])
    assert broken.exit_code == 1, broken.output
    assert f"branch {branch.id}, batch {b.id}, study: stored" in broken.output
    assert "1 branch totals differ" in broken.output
    assert cli_runner.invoke(cli, ["verify-totals", "--fix"]).exit_code == 0
    assert cli_runner.invoke(cli, ["verify-totals"]).exit_code == 0
    assert stored() == (3, 1, 2, 1)
    # A branch whose sessions are all gone has no row; a stray one is found and removed.
    session.execute(sa.delete(StudySession))
    session.commit()
    assert "1 branch totals differ" in cli_runner.invoke(cli, ["verify-totals"]).output
    assert cli_runner.invoke(cli, ["verify-totals", "--fix"]).exit_code == 0
    session.rollback()
    assert session.scalars(sa.select(BranchSessionTotal)).all() == []
