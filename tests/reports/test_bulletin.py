"""The situation bulletin: each section against a naive computation over the raw rows
(members, sessions, attendance records, enrolments), in JSON, XLSX and the printable page."""

import base64
import hashlib
import io
import itertools
import random
import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from python_calamine import CalamineWorkbook

from app.auth.principal import Role
from app.campaign.models import BatchPhase, MemberExemption, UnitProgress
from app.clock import today
from app.org.enums import MemberCategory
from app.org.models import Branch, Member, Unit
from app.reports.models import WeakBranchMark
from app.study import branch_totals, totals
from app.study.models import Attendance, StudySession
from tests.auth import factories as auth
from tests.campaign import factories as campaign
from tests.org import factories as org
from tests.test_http import assert_problem

URL = "/api/v1/reports/bulletin"
PHASES = ("study", "evaluation", "rectification")
FORMATS = ("collective_study", "seminar", "party_lecture")
EARNING = ("present", "late")
CATEGORIES = [c.value for c in MemberCategory]
SHEETS = ["县区排名", "形式单一单位", "未讲党课单位", "逾期单位", "软弱涣散支部", "学习死角"]


def measured_phase(state: str) -> str:
    """The phase a unit is measured in: its current one; a completed unit's last one."""
    return "rectification" if state == "completed" else state


@dataclass
class World:
    batch_id: int
    district_ids: list[int]


def build_world(session, seed: int) -> World:
    """Three districts of units in random states; random branches, members (some in several
    categories, one transferred out, one exempted), sessions, attendance and extensions.
    Study began 45 days ago and ended 16 days ago, evaluation is running."""
    rng = random.Random(seed)
    b = campaign.batch(session, start=today() - timedelta(days=45))
    windows = {w.phase: w for w in session.scalars(sa.select(BatchPhase))}
    districts = [org.district(session) for _ in range(3)]
    secretary_branch = None
    for n in range(12):
        u = org.unit(session, districts[n % 3].id)
        state = rng.choice(
            ["study", "study", "evaluation", "evaluation", "not_started", "completed"]
        )
        p = campaign.enrol(session, u.id, b.id, state)
        if state == "study" and rng.random() < 0.4:
            p.extended_until = today() + timedelta(days=rng.choice([-5, 3]))
        for _ in range(rng.randint(1, 3)):
            br = org.branch(session, u.id)
            secretary_branch = secretary_branch or br.id
            members = []
            for _ in range(rng.randint(0, 6)):
                cats = [c for c in CATEGORIES if rng.random() < 0.3]
                members.append(org.member(session, br.id, cats))
            if state == "not_started":
                continue
            phase = measured_phase(state)
            window = windows[phase]
            for _ in range(rng.choice([0, 1, 1, 2, 3, 4])):
                first, last = window.starts_on, min(window.ends_on, today())
                first = min(first, last)  # rectification has not begun: sessions today
                held = first + timedelta(days=rng.randint(0, (last - first).days))
                s = StudySession(
                    branch_id=br.id,
                    unit_id=u.id,
                    batch_id=b.id,
                    phase=phase,
                    held_on=held,
                    format=rng.choice(FORMATS[: rng.randint(1, 3)]),
                    hours=Decimal(rng.choice([4, 10, 20])),
                    topic="学习",
                    lecturer_is_leading_cadre=rng.random() < 0.2,
                )
                session.add(s)
                session.flush()
                for m in members:
                    if rng.random() < 0.7:
                        status = rng.choice(["present", "present", "late", "excused", "absent"])
                        credited = s.hours if status in EARNING else Decimal(0)
                        session.add(
                            Attendance(
                                session_id=s.id, member_id=m.id, status=status, credited=credited
                            )
                        )
            session.commit()
    someone = session.scalars(sa.select(Member).order_by(Member.id)).all()
    someone[0].status = "transferred_out"
    progress = session.get(UnitProgress, session.get(Branch, someone[1].branch_id).unit_id)
    phase = measured_phase(progress.state) if progress.state != "not_started" else "study"
    session.add(
        MemberExemption(member_id=someone[1].id, batch_id=b.id, phase=phase, reason="abroad")
    )
    session.add(
        WeakBranchMark(
            branch_id=secretary_branch, reason="班子不团结", plan="调整班子", due_on=today()
        )
    )
    session.commit()
    # The sessions and attendance were written straight to the tables: their running
    # totals are made as `campaign verify-totals --fix` makes them.
    totals.repair(session, totals.differences(session))
    branch_totals.repair(session, branch_totals.differences(session))
    session.commit()
    return World(b.id, [d.id for d in districts])


@pytest.fixture
def world(session) -> World:
    return build_world(session, 8)


# ---------------------------------------------------------------------------- the naive side


def naive(session, as_of: date, keep_branch) -> dict:
    """Every section, by hand, for the branches ``keep_branch(branch)`` keeps."""
    windows = {(w.batch_id, w.phase): w for w in session.scalars(sa.select(BatchPhase))}
    progress = {p.unit_id: p for p in session.scalars(sa.select(UnitProgress))}
    units = {u.id: u for u in session.scalars(sa.select(Unit))}
    branches = [br for br in session.scalars(sa.select(Branch)) if keep_branch(br)]
    exempt = {
        (e.member_id, e.batch_id, e.phase) for e in session.scalars(sa.select(MemberExemption))
    }
    sessions = list(session.scalars(sa.select(StudySession)))
    by_id = {s.id: s for s in sessions}
    earned: dict = defaultdict(lambda: [Decimal(0), 0])
    for a in session.scalars(sa.select(Attendance)):
        s = by_id[a.session_id]
        e = earned[(a.member_id, s.batch_id, s.phase)]
        e[0] += a.credited
        e[1] += a.status in EARNING
    marks = {m.branch_id: m for m in session.scalars(sa.select(WeakBranchMark))}

    district = defaultdict(lambda: [0, 0])  # district id -> [members, met]
    unit_sessions: dict = defaultdict(list)
    unit_seen: set = set()
    corners: dict = defaultdict(set)
    weak = {}
    for br in branches:
        p = progress.get(br.unit_id)
        measured = p is not None and p.state != "not_started"
        if not measured:
            if br.id in marks and marks[br.id].status != "done":
                weak[br.id] = ["marked"]
            continue
        phase = measured_phase(p.state)
        w = windows[(p.batch_id, phase)]
        unit_seen.add(br.unit_id)
        d = district[units[br.unit_id].district_id]  # listed even with nobody counted
        held = [
            s
            for s in sessions
            if s.branch_id == br.id and s.batch_id == p.batch_id and s.phase == phase
        ]
        unit_sessions[br.unit_id] += held
        members = [
            m
            for m in session.scalars(sa.select(Member).where(Member.branch_id == br.id))
            if m.status == "active" and (m.id, p.batch_id, phase) not in exempt
        ]
        took_part = 0
        for_category = defaultdict(lambda: [0, 0])
        for m in members:
            hours, attended = earned[(m.id, p.batch_id, phase)]
            d[0] += 1
            d[1] += hours >= w.min_hours
            took_part += attended > 0
            for c in CATEGORIES:
                if getattr(m, f"is_{c}"):
                    for_category[c][0] += 1
                    for_category[c][1] += attended > 0
        for c, (n, reached) in for_category.items():
            if n and not reached:
                corners[c].add((br.id, n))
        reasons = []
        if members and took_part / len(members) < 0.6:
            reasons.append("low_participation")
        last = max((s.held_on for s in held), default=None)
        runs = p.state == phase and (as_of - w.starts_on).days >= 30
        if runs and (last is None or (as_of - last).days > 30):
            reasons.append("no_recent_session")
        if br.id in marks and marks[br.id].status != "done":
            reasons.append("marked")
        if reasons:
            weak[br.id] = reasons

    overdue = {}
    for unit_id in {br.unit_id for br in branches}:
        p = progress.get(unit_id)
        if p is None or p.state not in PHASES:
            continue
        due = windows[(p.batch_id, p.state)].ends_on
        last_day = max(due, p.extended_until) if p.extended_until else due
        if as_of > last_day:
            overdue[unit_id] = (as_of - last_day).days
    coverage = {d: (met / n if n else None) for d, (n, met) in district.items()}
    return {
        "coverage": {d: round(c, 4) if c is not None else None for d, c in coverage.items()},
        "one_form": {u for u in unit_seen if len({s.format for s in unit_sessions[u]}) == 1},
        "no_lecture": {
            u for u in unit_seen if not any(s.lecturer_is_leading_cadre for s in unit_sessions[u])
        },
        "overdue": overdue,
        "weak": weak,
        "corners": {c: corners[c] for c in CATEGORIES},
    }


def reported(body: dict) -> dict:
    return {
        "coverage": {d["id"]: d["coverage"] for d in body["districts"]},
        "one_form": {u["unit_id"] for u in body["one_form_units"]},
        "no_lecture": {u["unit_id"] for u in body["no_lecture_units"]},
        "overdue": {u["unit_id"]: u["days_overdue"] for u in body["overdue_units"]},
        "weak": {w["branch_id"]: w["reasons"] for w in body["weak_branches"]},
        "corners": {
            g["category"]: {(c["branch_id"], c["members"]) for c in g["corners"]}
            for g in body["dead_corners"]
        },
    }


def _everything(br: Branch) -> bool:
    return True


# ---------------------------------------------------------------------------- the tests


@pytest.mark.parametrize("days_later", [0, 20])
def test_every_section_matches_a_naive_computation(client, session, world, days_later):
    as_of = today() + timedelta(days=days_later)
    r = client.get(URL, params={"as_of": as_of.isoformat()})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["as_of"] == as_of.isoformat()
    want = naive(session, as_of, _everything)
    assert reported(body) == want
    # Every section has something in it, or the comparison proves little.
    assert all(want[k] for k in ("one_form", "no_lecture", "overdue", "weak"))
    assert any(want["corners"].values())
    groups = body["dead_corners"]
    assert [g["category"] for g in groups] == CATEGORIES
    for g in groups:
        assert g["branches"] == len(g["corners"])
        assert g["members"] == sum(c["members"] for c in g["corners"])


def test_later_day_moves_the_dated_rules(client, session, world):
    now = client.get(URL).json()
    later = client.get(URL, params={"as_of": (today() + timedelta(days=20)).isoformat()}).json()
    assert {u["unit_id"] for u in now["overdue_units"]} < {
        u["unit_id"] for u in later["overdue_units"]
    }
    assert now["districts"] == later["districts"]  # the figures are the totals as they are


def test_districts_are_ranked_by_coverage_ties_sharing_a_rank(client, session, world):
    body = client.get(URL).json()
    rows = body["districts"]
    shown = [(r["coverage"] is None, -(r["coverage"] or 0)) for r in rows]
    assert shown == sorted(shown)
    for before, after in itertools.pairwise(rows):
        same = before["coverage"] == after["coverage"]
        assert after["rank"] == (before["rank"] if same else rows.index(after) + 1)
    assert rows[0]["rank"] == 1
    assert body["city"]["members"] == sum(r["members"] for r in rows)


@pytest.mark.parametrize("role", [Role.district_admin, Role.branch_secretary])
def test_each_caller_sees_only_their_part(client_as, session, world, role):
    if role is Role.district_admin:
        d = world.district_ids[1]
        caller = auth.user(session, role, district_id=d)
        unit_ids = set(session.scalars(sa.select(Unit.id).where(Unit.district_id == d)))

        def keep(br: Branch) -> bool:
            return br.unit_id in unit_ids
    else:
        mark = session.scalars(sa.select(WeakBranchMark)).one()
        caller = auth.user(session, role, branch_id=mark.branch_id)

        def keep(br: Branch) -> bool:
            return br.id == mark.branch_id

    body = client_as(caller).get(URL).json()
    assert reported(body) == naive(session, today(), keep)
    if role is Role.branch_secretary:
        assert mark.branch_id in {w["branch_id"] for w in body["weak_branches"]}
    places = {u["district_id"] for u in body["one_form_units"] + body["no_lecture_units"]}
    assert places <= {d["id"] for d in body["districts"]}


def test_the_workbook_has_one_sheet_per_section(client, session, world):
    r = client.get(URL, params={"format": "xlsx"})
    assert r.status_code == 200, r.text
    assert (
        "filename*=UTF-8''%E6%83%85%E5%86%B5%E9%80%9A%E6%8A%A5" in r.headers["content-disposition"]
    )
    book = CalamineWorkbook.from_filelike(io.BytesIO(r.content))
    assert book.sheet_names == SHEETS
    body = client.get(URL).json()
    sizes = [
        len(body["districts"]) + 1,  # and the total row
        len(body["one_form_units"]),
        len(body["no_lecture_units"]),
        len(body["overdue_units"]),
        len(body["weak_branches"]),
        sum(len(g["corners"]) for g in body["dead_corners"]),
    ]
    for name, size in zip(SHEETS, sizes, strict=True):
        rows = book.get_sheet_by_name(name).to_python()
        assert len(rows) == 1 + size, name
    ranking = book.get_sheet_by_name("县区排名").to_python()
    assert ranking[0][:3] == ["名次", "代码", "名称"]
    assert ranking[1][0] == 1 and ranking[-1][2] == "合计"
    coverage = ranking[0].index("覆盖率")
    assert ranking[1][coverage] == pytest.approx(body["districts"][0]["coverage"])
    corners = book.get_sheet_by_name("学习死角").to_python()
    assert {row[4] for row in corners[1:]} <= {c.label for c in MemberCategory}


def test_the_page_is_chinese_printable_escaped_and_without_script(client, session, world):
    body = client.get(URL).json()
    named = (body["one_form_units"] or body["no_lecture_units"] or body["overdue_units"])[0]
    unit = session.get(Unit, named["unit_id"])
    unit.name = '<script>alert("x")</script>&单位'
    session.commit()
    as_of = today() + timedelta(days=20)
    r = client.get(URL, params={"format": "html", "as_of": as_of.isoformat()})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    page = r.text
    assert '<html lang="zh-CN">' in page
    assert f"截至{as_of.year}年{as_of.month}月{as_of.day}日" in page
    for heading in ("情况通报", "各县区学习覆盖率排名", "学习形式单一的单位", "软弱涣散基层党组织"):
        assert heading in page
    assert "未开展领导干部讲党课的单位" in page and "学习死角" in page
    assert "<script" not in page.lower() and not re.search(r"<[^>]+\son\w+=", page)
    # The unit is named in a section, escaped.
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;单位" in page
    assert page.count("<style>") == 1 and "@page" in page and "@media" in page
    style = re.search(r"<style>(.*)</style>", page, re.S).group(1)
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    csp = r.headers["content-security-policy"]
    assert f"style-src 'sha256-{digest}'" in csp and "default-src 'none'" in csp


def test_batch_filter_and_bad_input(client, session, world):
    other = campaign.batch(session, 2)
    campaign.enrol(session, org.unit(session).id, other.id, "study")
    body = client.get(URL, params={"batch_id": other.id}).json()
    assert body["batch_name"] == "第2批" and body["overdue_units"] == []
    assert body["city"]["members"] == 0
    assert_problem(client.get(URL, params={"batch_id": 999_999}), 404)
    assert_problem(client.get(URL, params={"as_of": "2026-02-30"}), 422)
    # The figures are today's totals: a bulletin dated before today would misdate them.
    yesterday = (today() - timedelta(days=1)).isoformat()
    body = assert_problem(client.get(URL, params={"as_of": yesterday}), 422)
    assert body["errors"][0]["loc"] == ["query", "as_of"]
    assert_problem(client.get(URL, params={"format": "csv"}), 422)
