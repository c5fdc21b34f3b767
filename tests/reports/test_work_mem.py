"""On PostgreSQL a member-counting report's statements sort and hash in the configured
work_mem (``report_work_mem_mb``), and only inside the report's transaction: every
connection the report used goes back to the pool with the server's setting."""

import pytest
from sqlalchemy import event

from app.config import get_settings
from tests.reports.conftest import days_ago, held, studied

REPORTS = "/api/v1/reports"
# (report, query, statements over the members' totals at least)
READS = [
    ("coverage", {"level": "unit"}, 1),
    ("coverage", {"level": "branch", "format": "xlsx"}, 1),  # rows built in the request
    ("gaps", {}, 1),
    ("gaps", {"offset": 10_000}, 2),  # past the end: the page, then the count alone
    ("gaps", {"format": "csv"}, 1),  # streamed on a connection of the stream's own
    ("weak-branches", {"format": "xlsx"}, 1),  # streamed too
    ("dead-corners", {}, 1),
    ("weak-branches", {}, 1),
    ("bulletin", {}, 1),
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


def _show(dbapi_connection) -> str:
    """work_mem on this very connection, outside any transaction of the app's."""
    with dbapi_connection.cursor() as c:
        c.execute("SHOW work_mem")
        value = c.fetchone()[0]
    dbapi_connection.rollback()
    return value


class Seen:
    """The work_mem in force when each statement over the members' totals started, and
    the connections that ran them."""

    def __init__(self) -> None:
        self.work_mem: list[str] = []
        self.connections: dict[int, object] = {}

    def __call__(self, conn, cursor, statement, *_) -> None:
        if "member_study_total" in statement:
            raw = conn.connection.dbapi_connection
            with raw.cursor() as c:
                c.execute("SHOW work_mem")
                self.work_mem.append(c.fetchone()[0])
            self.connections[id(raw)] = raw


@pytest.fixture
def seen(postgresql):
    look = Seen()
    event.listen(postgresql, "before_cursor_execute", look)
    yield look
    event.remove(postgresql, "before_cursor_execute", look)


@pytest.fixture
def server_work_mem(postgresql) -> str:
    with postgresql.connect() as conn:
        return _show(conn.connection.dbapi_connection)


@pytest.fixture
def report_work_mem(monkeypatch, server_work_mem):
    """``setting(mb)``: REPORT_WORK_MEM_MB for the rest of the test."""

    def setting(mb: int) -> None:
        monkeypatch.setenv("REPORT_WORK_MEM_MB", str(mb))
        get_settings.cache_clear()

    yield setting
    get_settings.cache_clear()


@pytest.mark.parametrize(("report", "params", "statements"), READS)
def test_report_statements_run_in_the_reports_work_mem(
    client, place, seen, server_work_mem, report_work_mem, report, params, statements
):
    mb = 48 if server_work_mem != "48MB" else 40  # one the server does not have already
    report_work_mem(mb)

    r = client.get(f"{REPORTS}/{report}", params=params)

    assert r.status_code == 200, r.text
    assert len(seen.work_mem) >= statements, "the report's statements were not all seen"
    assert set(seen.work_mem) == {f"{mb}MB"}
    assert [_show(c) for c in seen.connections.values()] == [server_work_mem] * len(
        seen.connections
    )


def test_zero_leaves_the_servers_setting(client, place, seen, server_work_mem, report_work_mem):
    report_work_mem(0)

    r = client.get(f"{REPORTS}/coverage", params={"level": "unit"})

    assert r.status_code == 200, r.text
    assert seen.work_mem == [server_work_mem]
