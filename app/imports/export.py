"""The member list as a spreadsheet: the JSON list's filters, every row, Chinese headers and
labels, personal data masked as in every other answer.

The import's columns come first and in its order, so that a city admin's export imports
again (``mode=upsert``) unchanged; the columns after them (支部名称, 所在单位, 状态) are for
reading, and the importer ignores them.
"""

from collections.abc import Callable, Iterator
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased
from starlette.responses import StreamingResponse

from app.auth.principal import Principal
from app.clock import today
from app.imports.columns import COLUMNS
from app.org.enums import Gender, MemberCategory, MemberStatus
from app.org.models import CATEGORY_COLUMNS, Branch, Member, Unit
from app.org.repository import MemberFilter, MemberRepository
from app.privacy import mask_id_number, mask_phone
from app.spreadsheets import (
    XLSX_MAX_ROWS,
    SheetColumn,
    SpreadsheetFormat,
    TooManyRowsForXlsx,
    csv_response,
    xlsx_response,
)

EXPORT_COLUMNS: tuple[SheetColumn, ...] = (
    *(c.sheet_column for c in COLUMNS),
    SheetColumn("支部名称", 28),
    SheetColumn("所在单位", 36),
    SheetColumn("状态", 8),
)
# Rows fetched per round trip; PostgreSQL streams them from a server-side cursor.
_YIELD_PER = 2_000

_GENDER = {g.value: g.label for g in Gender}
_STATUS = {s.value: s.label for s in MemberStatus}
_CATEGORY_FLAGS = [(CATEGORY_COLUMNS[c], c.label) for c in MemberCategory]

# Aliases, so that the scope's and filters' subqueries on branch and unit stay subqueries
# instead of being correlated with the tables joined here.
_branch = aliased(Branch, name="export_branch")
_unit = aliased(Unit, name="export_unit")


def export_query(session: Session, principal: Principal, f: MemberFilter) -> sa.Select[Any]:
    listed = MemberRepository(session, principal).search(f)
    return (
        listed.with_only_columns(
            Member.name,
            Member.gender,
            Member.birth_date,
            Member.id_number,
            Member.phone,
            _branch.code.label("branch_code"),
            *(getattr(Member, column) for column, _ in _CATEGORY_FLAGS),
            Member.joined_on,
            _branch.name.label("branch_name"),
            _unit.name.label("unit_name"),
            Member.status,
        )
        .join_from(Member, _branch, Member.branch_id == _branch.id)
        .join(_unit, _branch.unit_id == _unit.id)
    )


def _shaper(principal: Principal) -> Callable[[Any], list[Any]]:
    masked = not principal.sees_personal_data

    def shape(r: Any) -> list[Any]:
        return [
            r.name,
            _GENDER.get(r.gender, r.gender),
            r.birth_date,
            mask_id_number(r.id_number) if masked else r.id_number,
            mask_phone(r.phone) if masked else r.phone,
            r.branch_code,
            "、".join(label for column, label in _CATEGORY_FLAGS if getattr(r, column)),
            r.joined_on,
            r.branch_name,
            r.unit_name,
            _STATUS.get(r.status, r.status),
        ]

    return shape


def export_members(
    session: Session, principal: Principal, f: MemberFilter, fmt: SpreadsheetFormat
) -> StreamingResponse:
    stmt = export_query(session, principal, f)
    shape = _shaper(principal)
    stamp = today().strftime("%Y%m%d")
    filename, ascii_name = f"党员名册-{stamp}.{fmt.value}", f"members-{stamp}.{fmt.value}"
    if fmt is SpreadsheetFormat.xlsx:
        count = session.scalar(
            sa.select(sa.func.count()).select_from(stmt.order_by(None).subquery())
        )
        if (count or 0) > XLSX_MAX_ROWS:
            raise TooManyRowsForXlsx(
                f"{count:,} members match; one sheet holds {XLSX_MAX_ROWS:,}. Ask for "
                "format=csv, or narrow the list with filters."
            )
        rows = (shape(r) for r in session.execute(stmt.execution_options(yield_per=_YIELD_PER)))
        return xlsx_response(EXPORT_COLUMNS, rows, filename, ascii_name, sheet_name="党员名册")
    # Run once without rows before the answer starts: a value the database refuses (an id
    # past PostgreSQL's integer) is then a 422, not a 500 halfway through the stream.
    session.execute(stmt.limit(0))
    return csv_response(EXPORT_COLUMNS, _streamed(session, stmt, shape), filename, ascii_name)


def _streamed(session: Session, stmt: sa.Select[Any], shape: Callable) -> Iterator[list[Any]]:
    """Rows read while the answer is sent: the request's session is closed by then, so the
    stream reads on a connection of its own, in one snapshot."""
    engine = session.get_bind()

    def rows() -> Iterator[list[Any]]:
        with engine.connect() as conn:
            result = conn.execution_options(yield_per=_YIELD_PER).execute(stmt)
            for r in result:
                yield shape(r)

    return rows()
