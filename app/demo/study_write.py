"""Writing the study phase: members read back a block of branches at a time (their ids are
the database's), the generated sessions and attendance written in chunks, then the running
totals (the members' and the branches') each in one INSERT ... SELECT, so that they equal a
recomputation by construction.
"""

import random
from collections.abc import Callable, Iterator

import sqlalchemy as sa

from app.campaign.enums import Phase
from app.demo.campaign import DemoCampaign
from app.demo.generator import Plan, Row
from app.demo.study import Member, StudyCounts, generate_study, member_kind
from app.demo.timing import Timed
from app.demo.writer import insert_rows
from app.models import metadata
from app.org.enums import MemberStatus
from app.study import branch_totals, totals
from app.study.models import Attendance, StudySession


def write_study(
    conn: sa.Connection,
    plan: Plan,
    rng: random.Random,
    campaign: DemoCampaign,
    chunk_size: int,
    report: Callable[[int], None],
) -> StudyCounts:
    """Writes the sessions and attendance of every branch, then the members' and the
    branches' totals; ``report`` gets the number of branches done (all of them only once
    totals are in)."""
    t = metadata.tables
    total = len(plan.branches)
    n_sessions = n_attendance = 0
    members = Timed(read_members(conn, plan, chunk_size))
    chunks = Timed(generate_study(plan, rng, campaign, members, chunk_size))
    for chunk in chunks:
        insert_rows(conn, t["study_session"], chunk.sessions, plan.now)
        insert_rows(conn, t["attendance"], chunk.attendance, plan.now)
        n_sessions += len(chunk.sessions)
        n_attendance += len(chunk.attendance)
        if chunk.branches_done < total:
            report(chunk.branches_done)
    totals = write_totals(conn, campaign.batch_id)
    conn.execute(branch_totals_statement(campaign.batch_id))
    report(total)
    return StudyCounts(n_sessions, n_attendance, totals, chunks.seconds - members.seconds)


def read_members(conn: sa.Connection, plan: Plan, block: int) -> Iterator[list[Member]]:
    """Each branch's active members as (id, kind), branch by branch in id order, read a
    block of branches (about ``block`` members) at a time so that memory stays flat."""
    m = metadata.tables["member"]
    # The status is filtered here rather than in SQL: given both, SQLite searched the status
    # index (nearly every member is active) for every block instead of the branch index.
    query = (
        sa.select(m.c.branch_id, m.c.id, m.c.status, m.c.is_migrant, m.c.is_outgoing)
        .add_columns(m.c.is_retired, m.c.is_infirm)
        .where(m.c.branch_id.between(sa.bindparam("first"), sa.bindparam("last")))
        .order_by(m.c.branch_id, m.c.id)
    )
    active = MemberStatus.active.value
    n = len(plan.branches)
    first = 1
    while first <= n:
        last, count = first, plan.branch_members[first - 1]
        while last < n and count < block:
            last += 1
            count += plan.branch_members[last - 1]
        by_branch: dict[int, list[Member]] = {}
        for branch_id, member_id, status, *flags in conn.execute(
            query, {"first": first, "last": last}
        ):
            if status == active:
                by_branch.setdefault(branch_id, []).append((member_id, member_kind(*flags)))
        for branch_id in range(first, last + 1):
            yield by_branch.get(branch_id, [])
        first = last + 1


def numbered_members(plan: Plan, chunks: Iterator[list[Row]]) -> Iterator[list[Member]]:
    """Each branch's active members from the generated member rows, numbered 1, 2, … in
    order: the ids a fresh database gives them (``read_members`` without a database)."""
    branch_id, members, next_id = 1, [], 1
    active = MemberStatus.active.value
    for chunk in chunks:
        for row in chunk:
            while row["branch_id"] != branch_id:
                yield members
                branch_id, members = branch_id + 1, []
            if row["status"] == active:
                flags = (bool(row[f"is_{c}"]) for c in ("migrant", "outgoing", "retired", "infirm"))
                members.append((next_id, member_kind(*flags)))
            next_id += 1
    for _ in range(branch_id, len(plan.branches) + 1):
        yield members
        members = []


def write_totals(conn: sa.Connection, batch_id: int) -> int:
    """Writes the totals of the batch's study phase; answers the number of rows."""
    insert = totals_statement(batch_id).execution_options(preserve_rowcount=True)
    return conn.execute(insert).rowcount


def totals_statement(batch_id: int) -> sa.Insert:
    """One member_study_total row per member who earned anything in the batch's study,
    computed by the same query ``campaign verify-totals`` checks against. A member who
    attended nothing has no row, which the look-back reads as 0 hours."""
    query = totals.recomputed().where(
        StudySession.batch_id == batch_id,
        StudySession.phase == Phase.study.value,
        Attendance.status.in_(totals.EARNING),
    )
    columns = ["member_id", "batch_id", "phase", "hours", "sessions", "last_attended_on"]
    return sa.insert(metadata.tables["member_study_total"]).from_select(columns, query)


def branch_totals_statement(batch_id: int) -> sa.Insert:
    """The branches' session totals of the batch's study phase, computed by the same query
    ``campaign verify-totals`` checks against."""
    query = branch_totals.recomputed().where(
        StudySession.batch_id == batch_id, StudySession.phase == Phase.study.value
    )
    columns = [*branch_totals.KEY, *branch_totals.FIGURES]
    return sa.insert(metadata.tables["branch_session_total"]).from_select(columns, query)
