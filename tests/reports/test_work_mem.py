"""On PostgreSQL a report's statements sort and hash in the configured work_mem
(``report_work_mem_mb``), and only inside the report's transaction: the connection goes
back to the pool with the server's setting."""

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from app.config import get_settings
from tests.reports.conftest import days_ago, held, studied

REPORTS = "/api/v1/reports"
READS = [
    ("coverage", {"level": "unit"}),
    ("coverage", {"level": "branch", "format": "xlsx"}),  # streamed on a connection of its own
    ("gaps", {}),
    ("gaps", {"format": "csv"}),
    ("dead-corners", {}),
    ("weak-branches", {}),
    ("bulletin", {}),
]


@pytest.fixture
def postgresql(engine):
    if engine.dialect.name != "postgresql":
        pytest.skip("work_mem is PostgreSQL's")
    return engine


@pytest.fixture
def place(session, make_place):
    p = make_place(members=3, categories=["retired"])
    studied(session, p.members[0].id, p.batch_id, 4, days_ago(3))
    held(session, p.branch, p.batch_id, days_ago(3))
    return p


def _server_work_mem(engine) -> str:
    with engine.connect() as conn:
        return conn.scalar(sa.text("SHOW work_mem"))


@pytest.fixture
def work_mem_seen(postgresql):
    """The work_mem in force when each statement over the members' totals started."""
    seen: list[str] = []

    def look(conn, cursor, statement, *_):
        if "member_study_total" in statement:
            with conn.connection.dbapi_connection.cursor() as c:
                c.execute("SHOW work_mem")
                seen.append(c.fetchone()[0])

    event.listen(postgresql, "before_cursor_execute", look)
    yield seen
    event.remove(postgresql, "before_cursor_execute", look)


@pytest.mark.parametrize(("report", "params"), READS)
def test_report_statements_run_in_the_reports_work_mem(
    client, postgresql, place, work_mem_seen, report, params
):
    before = _server_work_mem(postgresql)
    wanted = f"{get_settings().report_work_mem_mb}MB"
    assert before != wanted  # else the test could not tell the two apart

    r = client.get(f"{REPORTS}/{report}", params=params)

    assert r.status_code == 200, r.text
    assert work_mem_seen, "no statement read the members' totals"
    assert set(work_mem_seen) == {wanted}
    assert _server_work_mem(postgresql) == before


def test_zero_leaves_the_servers_setting(client, postgresql, place, work_mem_seen, monkeypatch):
    before = _server_work_mem(postgresql)
    monkeypatch.setenv("REPORT_WORK_MEM_MB", "0")
    get_settings.cache_clear()
    try:
        r = client.get(f"{REPORTS}/coverage", params={"level": "unit"})
    finally:
        get_settings.cache_clear()

    assert r.status_code == 200, r.text
    assert work_mem_seen == [before]
