"""What an uploaded file may be: workbooks and CSV in each encoding, and the files refused whole."""

import io
import zipfile

import pytest
import sqlalchemy as sa

from app.imports import service
from app.imports.router import MAX_UPLOAD_BYTES
from app.org.models import Member
from tests.imports import files
from tests.org import factories as org
from tests.test_http import assert_problem

URL = "/api/v1/imports/members"


@pytest.fixture
def branch(session):
    return org.branch(session)


def _count(session) -> int:
    session.commit()
    return session.scalar(sa.select(sa.func.count()).select_from(Member))


@pytest.mark.parametrize(
    ("encoding", "bom", "delimiter"),
    [
        ("utf-8", False, ","),
        ("utf-8", True, ","),
        ("gb18030", False, ","),
        ("gbk", False, ","),
        ("utf-8", True, ";"),
        ("utf-16", False, "\t"),  # Excel's "Unicode text"
    ],
)
def test_csv_in_each_encoding(client, session, branch, encoding, bom, delimiter):
    rows = [files.member(branch.code, 1, name="欧阳娜", categories="离退休党员、老弱病残党员")]
    content = files.csv_file(files.table(rows), encoding, bom=bom, delimiter=delimiter)
    r = files.upload(client, content, name="党员.csv")
    assert r.status_code == 200, r.text
    session.commit()
    m = session.scalar(sa.select(Member))
    assert (m.name, m.is_retired, m.is_infirm) == ("欧阳娜", True, True)


def test_csv_rows_are_numbered_as_excel_shows_them(client, branch):
    rows = [
        files.member(branch.code, 1, 备注="两行\n备注"),
        files.member(branch.code, 2, gender="?"),
    ]
    content = files.csv_file([[], *files.table(rows, [*files.LABELS, "备注"])])
    body = assert_problem(files.upload(client, content, name="a.csv"), 422)
    # A blank line, the header, a record whose quoted note spans two lines: still one row.
    assert [(e["row"], e["code"]) for e in body["errors"]] == [(4, "invalid_gender")]


def test_the_kind_of_file_comes_from_its_content_not_its_name(client, session, branch):
    rows = [files.member(branch.code, 1)]
    assert files.upload(client, files.xlsx(files.table(rows)), name="名册.csv").status_code == 200
    assert _count(session) == 1


def test_the_file_name_is_kept_without_the_browsers_path(client, branch):
    content = files.xlsx(files.table([files.member(branch.code, 1)]))
    r = files.upload(client, content, name="C:\\fakepath\\一支部 名册.xlsx", dry_run=True)
    assert r.json()["file_name"] == "一支部 名册.xlsx"


@pytest.mark.parametrize(
    ("content", "kind"),
    [
        (b"", "empty-file"),
        (b"\r\n \r\n\r\n", "empty-file"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "not-a-spreadsheet"),
        (b"\x80\xff\x80\xff binary", "not-a-spreadsheet"),
        (b"PK\x03\x04 a damaged archive", "not-a-spreadsheet"),
        (b"Dear colleagues,\nplease find the list attached.\n", "no-header"),
    ],
)
def test_files_that_are_not_member_lists_are_refused_with_a_clear_title(client, content, kind):
    body = assert_problem(files.upload(client, content, name="x.xlsx"), 422)
    assert body["type"] == f"urn:campaign:problem:{kind}"
    assert body["title"] and body["detail"]


def test_a_zip_that_is_not_a_workbook_is_not_a_spreadsheet(client):
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("readme.txt", "hello")
    body = assert_problem(files.upload(client, archive.getvalue(), name="x.xlsx"), 422)
    assert body["title"] == "The file is not a spreadsheet"


def test_a_header_without_rows_has_nothing_to_import(client):
    body = assert_problem(files.upload(client, files.xlsx([files.LABELS])), 422)
    assert body["title"] == "The sheet has no member rows"


def test_a_workbook_with_an_empty_sheet_has_no_header(client):
    body = assert_problem(files.upload(client, files.xlsx([])), 422)
    assert body["title"] == "The sheet has no header row"


def test_the_upload_must_be_a_form_with_a_file_field(client):
    body = assert_problem(
        client.post(URL, content=b"a,b", headers={"content-type": "text/csv"}), 422
    )
    assert body["type"] == "urn:campaign:problem:no-file"
    r = client.post(URL, files={"other": ("a.csv", b"a,b", "text/csv")})
    assert assert_problem(r, 422)["type"] == "urn:campaign:problem:no-file"
    r = client.post(URL, data={"file": "not a file"}, files={"x": ("a", b"", "text/plain")})
    assert assert_problem(r, 422)["type"] == "urn:campaign:problem:no-file"


def test_an_upload_over_20_mb_is_413_by_its_declared_length(client):
    content = b"a" * (MAX_UPLOAD_BYTES + 100 * 1024)
    body = assert_problem(files.upload(client, content, name="big.csv"), 413)
    assert body["title"] == "The file is larger than 20 MB"


def test_an_upload_over_20_mb_is_413_as_it_arrives_without_a_length(client):
    def body():
        yield b'--b\r\nContent-Disposition: form-data; name="file"; filename="big.csv"\r\n\r\n'
        for _ in range(21):
            yield b"a" * 2**20
        yield b"\r\n--b--\r\n"

    r = client.post(
        URL, content=body(), headers={"content-type": "multipart/form-data; boundary=b"}
    )
    assert "content-length" not in r.request.headers
    assert assert_problem(r, 413)["type"] == "urn:campaign:problem:file-too-large"


def test_a_file_of_20_mb_is_read(client, branch):
    note = "x" * 100_000  # an ignored column, so that few rows make the size
    rows = [files.member(branch.code, n, 备注=note) for n in range(MAX_UPLOAD_BYTES // 100_300)]
    content = files.csv_file(files.table(rows, [*files.LABELS, "备注"]))
    assert MAX_UPLOAD_BYTES - 100_000 < len(content) <= MAX_UPLOAD_BYTES
    r = files.upload(client, content, name="big.csv", dry_run=True)
    assert r.status_code == 200, r.text
    assert r.json()["created"] == len(rows)


def test_the_row_limit_counts_member_rows(client, branch, monkeypatch):
    monkeypatch.setattr(service, "MAX_ROWS", 3)
    rows = [files.member(branch.code, n) for n in range(3)]
    assert files.upload(client, files.xlsx(files.table(rows)), dry_run=True).status_code == 200
    rows.append(files.member(branch.code, 3))
    body = assert_problem(files.upload(client, files.xlsx(files.table(rows))), 422)
    assert body["title"] == "Too many rows"


def test_over_100000_rows_is_refused_before_any_check(client, session):
    lines = ["姓名,性别,身份证号,支部编码"] + ["张伟,男,1,B"] * 100_001
    content = "\r\n".join(lines).encode()
    body = assert_problem(files.upload(client, content, name="all.csv"), 422)
    assert (body["title"], body.get("errors")) == ("Too many rows", None)
    assert "100,000" in body["detail"]
