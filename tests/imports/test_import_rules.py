"""The member import's rules, cell by cell: what is read, and what is refused with which code."""

from datetime import date, datetime, timedelta

import pytest
import sqlalchemy as sa

from app.clock import today
from app.org.models import Member
from tests.imports import files
from tests.org import factories as org
from tests.test_http import assert_problem


@pytest.fixture
def branch(session):
    return org.branch(session)


def _members(session) -> list[Member]:
    session.commit()  # end the read: the API wrote from another connection
    return list(session.scalars(sa.select(Member).order_by(Member.id)))


def _refused(response) -> dict:
    body = assert_problem(response, 422)
    assert body["type"] == "urn:campaign:problem:import-rejected", body
    return body


def test_a_valid_file_imports_every_row_with_its_values(client, session, branch):
    rows = [
        files.member(branch.code, 1, categories="离退休党员、老弱病残党员", gender="女"),
        files.member(branch.code, 2, phone="", birth_date="", joined_on=""),
    ]
    r = files.upload(client, files.xlsx(files.table(rows)), name="党员名册.xlsx")
    assert r.status_code == 200, r.text
    assert r.json() == {
        "file_name": "党员名册.xlsx",
        "mode": "create",
        "dry_run": False,
        "rows": 2,
        "created": 2,
        "updated": 0,
        "unchanged": 0,
        "ignored_columns": [],
    }
    first, second = _members(session)
    assert (first.name, first.gender, first.branch_id, first.status) == (
        "党员1",
        "female",
        branch.id,
        "active",
    )
    assert (first.birth_date, first.joined_on) == (date(1970, 5, 1), date(1995, 7, 1))
    assert (first.id_number, first.phone) == (files.id_number(1), "13800000001")
    assert (first.is_retired, first.is_infirm, first.is_migrant, first.is_outgoing) == (
        True,
        True,
        False,
        False,
    )
    assert (second.phone, second.birth_date, second.joined_on) == (None, None, None)


def test_headers_may_be_english_codes_or_aliases_and_unknown_columns_are_ignored(
    client, session, branch
):
    header = ["序号", "NAME", "gender", "身份证号码", "branch_code", " 手机号码 ", "备注"]
    cells = [header, ["1", "张伟", "male", files.id_number(7), branch.code, "13912345678", "x"]]
    r = files.upload(client, files.xlsx(cells))
    assert r.status_code == 200, r.text
    assert r.json()["ignored_columns"] == ["序号", "备注"]
    (m,) = _members(session)
    assert (m.name, m.gender, m.phone) == ("张伟", "male", "13912345678")


def test_title_rows_above_the_header_keep_the_spreadsheet_row_numbers(client, branch):
    cells = [["某某支部党员花名册"], [], *files.table([files.member(branch.code, 1, gender="?")])]
    body = _refused(files.upload(client, files.xlsx(cells, above=1)))
    # One blank row, the title, an empty row, the header on row 4: the member is on row 5.
    assert [(e["row"], e["column"], e["code"]) for e in body["errors"]] == [
        (5, "性别", "invalid_gender")
    ]


@pytest.mark.parametrize(
    "cell",
    [
        "2005-03-01",
        "2005/3/1",
        "2005/03/01",
        "2005年3月1日",
        date(2005, 3, 1),
        datetime(2005, 3, 1, 0, 0),
    ],
)
def test_each_accepted_date_form(client, session, branch, cell):
    row = files.member(branch.code, 1, birth_date=cell, joined_on="")
    r = files.upload(client, files.xlsx(files.table([row])))
    assert r.status_code == 200, r.text
    assert _members(session)[0].birth_date == date(2005, 3, 1)


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("流动党员、外出党员", {"migrant", "outgoing"}),
        ("流动党员,离退休党员", {"migrant", "retired"}),
        ("离退休党员;老弱病残党员", {"retired", "infirm"}),
        ("离退休党员 老弱病残党员", {"retired", "infirm"}),
        ("外出党员，流动党员；离退休党员", {"outgoing", "migrant", "retired"}),
        ("retired, Infirm", {"retired", "infirm"}),
        ("", set()),
    ],
)
def test_categories_as_labels_or_codes_with_each_separator(client, session, branch, cell, expected):
    r = files.upload(
        client, files.xlsx(files.table([files.member(branch.code, 1, categories=cell)]))
    )
    assert r.status_code == 200, r.text
    assert {c.value for c in _members(session)[0].categories} == expected


TOMORROW = (today() + timedelta(days=1)).isoformat()
BAD_CHECK = files.id_number(1)[:17] + ("0" if files.id_number(1)[17] != "0" else "1")


@pytest.mark.parametrize(
    ("over", "column", "code"),
    [
        ({"name": ""}, "姓名", "required"),
        ({"name": "名" * 51}, "姓名", "too_long"),
        ({"gender": "未知"}, "性别", "invalid_gender"),
        ({"gender": None}, "性别", "required"),
        ({"birth_date": "2005-02-30"}, "出生日期", "invalid_date"),
        ({"birth_date": "01/03/2005"}, "出生日期", "invalid_date"),
        ({"birth_date": 38412}, "出生日期", "invalid_date"),
        ({"birth_date": TOMORROW}, "出生日期", "future_date"),
        ({"joined_on": TOMORROW}, "入党日期", "future_date"),
        (
            {"birth_date": "1990-01-01", "joined_on": "1989-12-31"},
            "入党日期",
            "joined_before_birth",
        ),
        ({"id_number": ""}, "身份证号", "required"),
        ({"id_number": BAD_CHECK}, "身份证号", "invalid_id_number"),
        ({"id_number": "37010219500101"}, "身份证号", "invalid_id_number"),
        ({"id_number": 370102195001010011}, "身份证号", "id_number_as_number"),
        ({"id_number": "3.70102E+17"}, "身份证号", "id_number_as_number"),
        ({"phone": "23812345678"}, "手机号", "invalid_phone"),
        ({"phone": "1381234567"}, "手机号", "invalid_phone"),
        ({"branch_code": "NO-SUCH-BRANCH"}, "支部编码", "unknown_branch"),
        ({"branch_code": ""}, "支部编码", "required"),
        ({"categories": "老党员"}, "类别", "unknown_category"),
    ],
)
def test_each_rule_refuses_the_row_naming_row_column_and_code(
    client, session, branch, over, column, code
):
    rows = [files.member(branch.code, 1), files.member(branch.code, 2, **over)]
    body = _refused(files.upload(client, files.xlsx(files.table(rows))))
    assert [(e["row"], e["column"], e["code"]) for e in body["errors"]] == [(3, column, code)]
    assert body["error_count"] == 1
    assert body["errors"][0]["message"]
    assert _members(session) == []


def test_phone_numbers_may_be_number_cells_or_carry_separators(client, session, branch):
    rows = [
        files.member(branch.code, 1, phone=13812345678),
        files.member(branch.code, 2, phone="138-1234-5678"),
        files.member(branch.code, 3, phone="138 1234 5678"),
    ]
    assert files.upload(client, files.xlsx(files.table(rows))).status_code == 200
    assert {m.phone for m in _members(session)} == {"13812345678"}


def test_full_width_digits_typed_by_a_chinese_input_method_are_digits(client, session, branch):
    wide = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")
    row = files.member(branch.code, 1, phone="13812345678".translate(wide))
    row["id_number"] = row["id_number"].translate(wide)
    assert files.upload(client, files.xlsx(files.table([row]))).status_code == 200
    m = _members(session)[0]
    assert (m.id_number, m.phone) == (files.id_number(1), "13812345678")


def test_digits_of_other_scripts_are_not_an_id_number(client, branch):
    arabic_indic = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
    row = files.member(branch.code, 1)
    row["id_number"] = row["id_number"][:17].translate(arabic_indic) + row["id_number"][17]
    body = _refused(files.upload(client, files.xlsx(files.table([row]))))
    assert [e["code"] for e in body["errors"]] == ["invalid_id_number"]


def test_a_lower_case_x_check_character_is_stored_upper_case(client, session, branch):
    n = next(n for n in range(100) if files.id_number(n).endswith("X"))
    row = files.member(branch.code, n, id_number=files.id_number(n).lower())
    assert files.upload(client, files.xlsx(files.table([row]))).status_code == 200
    assert _members(session)[0].id_number == files.id_number(n)


def test_missing_and_repeated_columns_are_reported_on_the_header_row(client, branch):
    cells = [["姓名", "姓名", "性别", "手机号"], ["张伟", "张伟", "男", "13812345678"]]
    body = _refused(files.upload(client, files.xlsx(cells)))
    assert [(e["row"], e["column"], e["code"]) for e in body["errors"]] == [
        (1, "姓名", "duplicate_column"),
        (1, "身份证号", "missing_column"),
        (1, "支部编码", "missing_column"),
    ]


def test_an_id_number_twice_in_the_file_names_the_first_row(client, branch):
    rows = [files.member(branch.code, n) for n in range(3)]
    rows.append(files.member(branch.code, 9, id_number=files.id_number(1)))
    body = _refused(files.upload(client, files.xlsx(files.table(rows))))
    (error,) = body["errors"]
    assert (error["row"], error["code"]) == (5, "duplicate_in_file")
    assert "row 3" in error["message"]


def test_personal_data_in_errors_is_masked(client, branch):
    rows = [files.member(branch.code, 1, id_number=BAD_CHECK, phone="23812345678")]
    body = _refused(files.upload(client, files.xlsx(files.table(rows))))
    values = {e["column"]: e["value"] for e in body["errors"]}
    assert values == {
        "身份证号": BAD_CHECK[:3] + "*" * 11 + BAD_CHECK[-4:],
        "手机号": "238****5678",
    }
    assert BAD_CHECK not in str(body)


def test_one_bad_id_number_among_1000_rows_writes_nothing_then_the_fix_imports_all(
    client, session, branch
):
    existing = len(_members(session))
    rows = [files.member(branch.code, n) for n in range(1000)]
    rows[636] = files.member(branch.code, 636, id_number=files.id_number(636)[:17] + "Y")
    body = _refused(files.upload(client, files.xlsx(files.table(rows))))
    assert [(e["row"], e["column"], e["code"]) for e in body["errors"]] == [
        (638, "身份证号", "invalid_id_number")
    ]
    assert len(_members(session)) == existing

    rows[636] = files.member(branch.code, 636)
    r = files.upload(client, files.xlsx(files.table(rows)))
    assert r.status_code == 200, r.text
    assert r.json()["created"] == 1000
    assert len(_members(session)) == existing + 1000


def test_at_most_200_errors_are_listed_in_row_order_with_the_total(client, branch):
    rows = [files.member(branch.code, n, gender="?", phone="1") for n in range(150)]
    body = _refused(files.upload(client, files.xlsx(files.table(rows))))
    assert body["error_count"] == 300
    assert len(body["errors"]) == 200
    listed = [(e["row"], e["column"]) for e in body["errors"]]
    assert listed[:3] == [(2, "性别"), (2, "手机号"), (3, "性别")]
    assert listed == sorted(listed, key=lambda e: (e[0], files.LABELS.index(e[1])))
    assert "300 error(s) in 150 row(s)" in body["detail"]
