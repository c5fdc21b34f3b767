"""The template and the member export, read back as Excel would read them."""

import io
import zipfile
from datetime import date

import pytest
from python_calamine import CalamineWorkbook

from app.auth.principal import Role
from app.org.models import Unit
from app.org.validators import is_valid_id_number
from tests.auth import factories as auth
from tests.imports import files
from tests.org import factories as org
from tests.test_http import assert_problem

EXPORT_HEADER = [*files.LABELS, "支部名称", "所在单位", "状态"]


def _sheet(content: bytes, index: int = 0) -> list[list]:
    workbook = CalamineWorkbook.from_filelike(io.BytesIO(content))
    return workbook.get_sheet_by_index(index).to_python(skip_empty_area=False)


def _sheet_xml(content: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(content)) as z:
        return z.read("xl/worksheets/sheet1.xml").decode()


def test_the_xlsx_template_has_chinese_headers_a_valid_example_and_pick_lists(client, session):
    b = org.branch(session)
    r = client.get("/api/v1/imports/members/template")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == files.XLSX
    assert "filename*=UTF-8''%E5%85%9A%E5%91%98" in r.headers["content-disposition"]
    header, example = _sheet(r.content)
    assert header == files.LABELS
    assert example[0] == "王建国" and example[1] == "男"
    assert is_valid_id_number(example[3]) and example[5] == b.code
    assert example[2] == date(1985, 7, 1)
    xml = _sheet_xml(r.content)
    assert xml.count("<dataValidation ") == 2
    assert '"男,女"' in xml and "离退休党员" in xml
    assert 'ySplit="1"' in xml  # the header stays in view
    notes = _sheet(r.content, 1)
    assert notes[0][:2] == ["列名", "英文代码"]


def test_the_template_imports_as_it_is(client, session):
    org.branch(session)
    for fmt in ("xlsx", "csv"):
        content = client.get(f"/api/v1/imports/members/template?format={fmt}").content
        r = files.upload(client, content, name=f"模板.{fmt}", dry_run=True)
        assert r.status_code == 200, r.text
        assert r.json()["created"] == 1


def test_the_csv_template_is_utf8_with_a_bom(client):
    r = client.get("/api/v1/imports/members/template", params={"format": "csv"})
    assert r.headers["content-type"].startswith("text/csv")
    assert r.content.startswith("\ufeff姓名,性别".encode())
    assert assert_problem(client.get("/api/v1/imports/members/template?format=pdf"), 422)


@pytest.fixture
def two_districts(session):
    """Two members in one district, one in another; personal data on all of them."""
    home, away = org.branch(session), org.branch(session)
    for n, (branch, categories) in enumerate(
        [(home, ["retired", "infirm"]), (home, []), (away, ["migrant"])]
    ):
        org.member(
            session,
            branch.id,
            categories,
            name=f"党员{n}",
            gender="female" if n == 0 else "male",
            id_number=files.id_number(n),
            phone=f"1390000000{n}",
            birth_date=date(1950, 1, 2),
            joined_on=date(1975, 7, 1),
        )
    return home, away


def test_the_city_exports_every_member_with_labels_and_raw_personal_data(
    client, session, two_districts
):
    home, _ = two_districts
    unit = session.get(Unit, home.unit_id)
    r = client.get("/api/v1/members", params={"format": "xlsx"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == files.XLSX
    assert r.headers["content-disposition"].startswith('attachment; filename="members-')
    header, first, *rest = _sheet(r.content)
    assert header == EXPORT_HEADER
    assert len(rest) == 2
    assert first[:8] == [
        "党员0",
        "女",
        date(1950, 1, 2),
        files.id_number(0),
        "13900000000",
        home.code,
        "离退休党员、老弱病残党员",
        date(1975, 7, 1),
    ]
    assert first[8:] == [home.name, unit.name, "正常"]
    xml = _sheet_xml(r.content)
    assert 'ySplit="1"' in xml and '<autoFilter ref="A1:K4"/>' in xml
    assert '<col min="4" max="4" width="21.7' in xml  # the ID number column fits


def test_a_district_admin_exports_the_district_masked(client_as, session, two_districts):
    home, _ = two_districts
    admin = auth.user(
        session, Role.district_admin, district_id=session.get(Unit, home.unit_id).district_id
    )
    rows = _sheet(client_as(admin).get("/api/v1/members?format=xlsx").content)
    assert rows[0] == EXPORT_HEADER
    assert [r[0] for r in rows[1:]] == ["党员0", "党员1"]
    assert rows[1][3] == files.id_number(0)[:3] + "*" * 11 + files.id_number(0)[-4:]
    assert rows[1][4] == "139****0000"


def test_the_export_takes_the_lists_filters_and_no_paging(client, session, two_districts):
    for n in range(3, 8):
        org.member(session, two_districts[0].id, name=f"党员{n}")
    r = client.get("/api/v1/members", params={"format": "csv", "category": "migrant", "limit": 1})
    lines = r.content.decode("utf-8-sig").splitlines()
    assert len(lines) == 2 and lines[1].startswith("党员2,男,")
    r = client.get("/api/v1/members", params={"format": "csv", "limit": 1, "offset": 5})
    assert len(r.content.decode("utf-8-sig").splitlines()) == 1 + 8


def test_the_csv_export_opens_in_excel_and_cannot_smuggle_formulas(client, session):
    b = org.branch(session)
    org.member(session, b.id, name="=HYPERLINK(1)")
    r = client.get("/api/v1/members?format=csv")
    assert r.headers["content-type"] == "text/csv; charset=utf-8"
    assert r.content.startswith(b"\xef\xbb\xbf")
    header, row = r.content.decode("utf-8-sig").splitlines()
    assert header.split(",") == EXPORT_HEADER
    assert row.startswith("'=HYPERLINK(1),")


def test_the_json_list_is_unchanged_without_a_format(client, two_districts):
    page = client.get("/api/v1/members").json()
    assert page["total"] == 3 and page["items"][0]["categories"] == ["retired", "infirm"]


def test_a_city_export_imports_again_unchanged(client, two_districts):
    content = client.get("/api/v1/members?format=xlsx").content
    r = files.upload(client, content, name="export.xlsx", mode="upsert")
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["rows"], body["unchanged"], body["created"], body["updated"]) == (3, 3, 0, 0)
    assert body["ignored_columns"] == ["支部名称", "所在单位", "状态"]


def test_a_city_csv_export_imports_again_unchanged_guards_and_all(client, session):
    """The export puts ' before a cell Excel would run as a formula; the import takes it off
    again, so names starting with - or = come back as they were."""
    b = org.branch(session)
    for n, name in enumerate(("-张三", "=1+1", "'张四", "'-张五")):
        org.member(session, b.id, name=name, id_number=org.id_number(serial=30 + n))
    content = client.get("/api/v1/members?format=csv").content
    assert "'-张三" in content.decode("utf-8-sig")
    r = files.upload(client, content, name="export.csv", mode="upsert")
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["rows"], body["unchanged"], body["created"], body["updated"]) == (4, 4, 0, 0)
    names = {m["name"] for m in client.get("/api/v1/members").json()["items"]}
    assert names == {"-张三", "=1+1", "'张四", "'-张五"}


def test_openapi_documents_the_spreadsheets_and_the_row_errors(client):
    spec = client.get("/openapi.json").json()
    listing = spec["paths"]["/api/v1/members"]["get"]["responses"]["200"]["content"]
    assert set(listing) == {"application/json", "text/csv", files.XLSX}
    upload = spec["paths"]["/api/v1/imports/members"]["post"]
    assert "multipart/form-data" in upload["requestBody"]["content"]
    assert {"413", "422", "403"} <= set(upload["responses"])
    problem = spec["components"]["schemas"]["ImportProblem"]["properties"]
    assert {"errors", "error_count"} <= set(problem)
    row_error = spec["components"]["schemas"]["RowError"]["properties"]
    assert set(row_error) == {"row", "column", "value", "code", "message"}
