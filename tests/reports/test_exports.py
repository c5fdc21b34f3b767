"""Reports as spreadsheets, read back as Excel would read them: Chinese headers, Chinese
labels for codes, numbers as numbers, a frozen header with a filter."""

import csv
import io
import zipfile
from datetime import timedelta

import pytest
from python_calamine import CalamineWorkbook

from app.clock import today
from app.reports.columns import COVERAGE_COLUMNS, GAP_COLUMNS
from app.reports.models import WeakBranchMark
from tests.org import factories as org
from tests.reports.conftest import days_ago, held, studied
from tests.test_http import assert_problem

REPORTS = "/api/v1/reports"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _xlsx(content: bytes) -> list[list]:
    workbook = CalamineWorkbook.from_filelike(io.BytesIO(content))
    return workbook.get_sheet_by_index(0).to_python(skip_empty_area=False)


def _csv(response) -> list[list[str]]:
    assert response.headers["content-type"].startswith("text/csv")
    assert response.content.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


@pytest.fixture
def place(session, make_place):
    p = make_place(members=0)
    retired = org.member(session, p.branch.id, name="张离休", categories=["retired", "infirm"])
    done = org.member(session, p.branch.id, name="李达标")
    studied(session, retired.id, p.batch_id, 4, days_ago(3))
    studied(session, done.id, p.batch_id, 12, days_ago(3))
    held(
        session,
        p.branch,
        p.batch_id,
        days_ago(3),
        format="party_lecture",
        lecturer_is_leading_cadre=True,
    )
    held(session, p.branch, p.batch_id, days_ago(4), format="home_delivery")
    return p


def test_coverage_as_xlsx(client, place):
    r = client.get(f"{REPORTS}/coverage", params={"level": "unit", "format": "xlsx"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == XLSX
    assert "filename*=UTF-8''" in r.headers["content-disposition"]
    assert 'filename="coverage-unit-' in r.headers["content-disposition"]
    header, row, total = _xlsx(r.content)
    assert header == [c.header for c in COVERAGE_COLUMNS]
    cells = dict(zip(header, row, strict=True))
    assert cells["名称"] == place.unit.name
    assert (cells["党员数"], cells["学时达标人数"], cells["覆盖率"]) == (2, 1, 0.5)
    assert cells["人均学时"] == 8
    assert cells["学习形式"] == "党课、送学上门"
    assert (cells["领导干部讲党课次数"], cells["离退休党员数"], cells["离退休党员覆盖率"]) == (
        1,
        1,
        0,
    )
    assert total[1] == "合计" and total[2] == 2
    with zipfile.ZipFile(io.BytesIO(r.content)) as z:
        xml = z.read("xl/worksheets/sheet1.xml").decode()
        styles = z.read("xl/styles.xml").decode()
    assert 'ySplit="1"' in xml and "<autoFilter " in xml and "<cols>" in xml
    assert "0.0%" in styles


def test_coverage_as_csv(client, place):
    r = client.get(f"{REPORTS}/coverage", params={"level": "city", "format": "csv"})
    assert r.status_code == 200, r.text
    header, city, total = _csv(r)
    cells = dict(zip(header, city, strict=True))
    assert (cells["名称"], cells["党员数"], cells["覆盖率"]) == ("全市", "2", "50.0%")
    assert cells["老弱病残党员覆盖率"] == "0.0%" and cells["流动党员覆盖率"] == ""
    assert total[1] == "合计"


def test_gaps_as_csv_and_xlsx_with_chinese_labels(client, place):
    r = client.get(f"{REPORTS}/gaps", params={"format": "csv", "limit": 1})
    assert r.status_code == 200, r.text
    rows = _csv(r)
    assert rows[0] == [c.header for c in GAP_COLUMNS]
    cells = dict(zip(rows[0], rows[1], strict=True))
    assert cells["党员"] == "张离休"
    assert cells["党员类别"] == "离退休党员、老弱病残党员"
    assert (cells["阶段"], cells["问题"], cells["建议补学方式"]) == (
        "学习动员",
        "学时不足",
        "送学上门",
    )
    assert (cells["欠缺学时"], cells["最近参学日期"]) == ("6.0", days_ago(3).isoformat())
    assert len(rows) == 2  # every gap, paging aside
    r = client.get(f"{REPORTS}/gaps", params={"format": "xlsx"})
    header, row = _xlsx(r.content)
    cells = dict(zip(header, row, strict=True))
    assert cells["欠缺学时"] == 6 and cells["最近参学日期"] == days_ago(3)
    assert cells["未参学天数"] == 3


def test_dead_corners_and_weak_branches_export(client, session, make_place):
    p = make_place(members=2, categories=["migrant"])
    session.add(
        WeakBranchMark(
            branch_id=p.branch.id,
            reason="班子软弱",
            plan="调整书记",
            due_on=today() + timedelta(days=30),
            status="in_progress",
        )
    )
    session.commit()
    header, row = _xlsx(client.get(f"{REPORTS}/dead-corners", params={"format": "xlsx"}).content)
    assert header == ["县区", "单位", "支部代码", "支部", "党员类别", "人数"]
    assert row == [p.district.name, p.unit.name, p.branch.code, p.branch.name, "流动党员", 2]
    header, row = _csv(client.get(f"{REPORTS}/weak-branches", params={"format": "csv"}))
    cells = dict(zip(header, row, strict=True))
    assert cells["列入原因"] == "参学率低于60%、30天未组织学习、组织部认定"
    assert (cells["参学率"], cells["未组织学习天数"]) == ("0.0%", "45")
    assert (cells["整建方案"], cells["整建状态"]) == ("调整书记", "整顿中")


def test_an_unknown_format_is_refused(client):
    assert_problem(client.get(f"{REPORTS}/coverage", params={"format": "pdf"}), 422)
