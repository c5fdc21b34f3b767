"""``campaign import-members``: the API's import from the command line."""

import sqlalchemy as sa

from app.audit.models import AuditEntry
from app.cli import cli
from app.org.models import Member
from tests.imports import files
from tests.org import factories as org


def _count(session) -> int:
    session.commit()
    return session.scalar(sa.select(sa.func.count()).select_from(Member))


def test_import_members_writes_the_file_as_the_system(cli_runner, session, tmp_path):
    b = org.branch(session)
    path = tmp_path / "党员名册.xlsx"
    path.write_bytes(files.xlsx(files.table([files.member(b.code, n) for n in range(20)])))
    r = cli_runner.invoke(cli, ["import-members", str(path)])
    assert r.exit_code == 0, r.output
    assert "Created 20, updated 0, unchanged 0 of 20 rows." in r.output
    assert _count(session) == 20
    entry = session.scalar(sa.select(AuditEntry))
    assert (entry.username, entry.action, entry.after["file_name"]) == (
        "system",
        "import",
        "党员名册.xlsx",
    )


def test_import_members_upserts_and_dry_runs(cli_runner, session, tmp_path):
    b = org.branch(session)
    org.member(session, b.id, id_number=files.id_number(1), name="旧名")
    path = tmp_path / "members.csv"
    rows = [files.member(b.code, n) for n in (1, 2)]
    path.write_bytes(files.csv_file(files.table(rows), "gb18030"))
    r = cli_runner.invoke(cli, ["import-members", str(path), "--mode", "upsert", "--dry-run"])
    assert r.exit_code == 0, r.output
    assert "Would create 1, would update 1" in r.output
    assert _count(session) == 1
    r = cli_runner.invoke(cli, ["import-members", str(path), "--mode", "upsert"])
    assert r.exit_code == 0, r.output
    assert _count(session) == 2


def test_import_members_prints_row_errors_and_exits_1(cli_runner, session, tmp_path):
    b = org.branch(session)
    rows = [files.member(b.code, 1), files.member(b.code, 2, phone="12345678")]
    path = tmp_path / "bad.xlsx"
    path.write_bytes(files.xlsx(files.table(rows)))
    r = cli_runner.invoke(cli, ["import-members", str(path)])
    assert r.exit_code == 1, r.output
    assert "手机号" in r.output and "123*5678" in r.output and "mainland mobile" in r.output
    assert "Nothing was written" in r.output
    assert _count(session) == 0

    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    r = cli_runner.invoke(cli, ["import-members", str(empty)])
    assert r.exit_code == 1 and "The file is empty" in r.output
