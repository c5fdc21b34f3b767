"""Importing members from a spreadsheet: every row checked first, then all written or none.

The same function serves the API and the command line. It takes the caller's session and
never commits: the request (or the command) commits once, so a failure anywhere leaves the
database as it was. Checks run over whole sets (one query per thousand ID numbers or branch
codes), the write is a handful of executemany statements, and the import is one audit entry.
"""

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any, BinaryIO

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.audit import service as audit
from app.auth.principal import Action, Principal
from app.clock import utcnow
from app.db import stamp_values
from app.errors import InvalidInput
from app.imports import lookups
from app.imports.cells import CellError, text
from app.imports.columns import BY_CODE, ORDER, Header, find_header
from app.imports.readers import Row, read_rows
from app.imports.schemas import ImportMode, ImportResult
from app.org.enums import MemberCategory, MemberStatus
from app.org.models import CATEGORY_COLUMNS, Member
from app.privacy import mask_id_number, mask_phone

logger = logging.getLogger(__name__)

MAX_ROWS = 100_000
MAX_LISTED_ERRORS = 200
WRITE_CHUNK = 5_000
_MASKS = {"id_number": mask_id_number, "phone": mask_phone}
_SHOWN_VALUE_LENGTH = 100
_REPORT_EVERY = 5_000

# (step, done, total or None while unknown): how the command line draws its progress bar.
Progress = Callable[[str, int, int | None], None]


class TooManyRows(InvalidInput):
    type, title = "too-many-rows", "Too many rows"


class NoMemberRows(InvalidInput):
    type, title = "no-member-rows", "The sheet has no member rows"


class ImportRejected(InvalidInput):
    type, title = "import-rejected", "The file has errors; nothing was imported"

    def __init__(self, errors: list[dict[str, Any]], total: int, rows: int) -> None:
        listed = "" if total == len(errors) else f"; the first {len(errors)} are listed"
        super().__init__(
            f"{total} error(s) in {rows} row(s){listed}. Correct the file and upload it again.",
            errors=errors,
        )
        self.error_count = total

    def body(self) -> dict[str, Any]:
        return super().body() | {"error_count": self.error_count}


@dataclass(frozen=True)
class MemberFile:
    name: str | None
    content: BinaryIO  # seekable


@dataclass
class _Row:
    number: int
    values: dict[str, Any]  # column code -> value, for the cells that were read without error


class _Errors:
    def __init__(self, header: Header) -> None:
        self.header = header
        self.found: list[tuple[int, int, str, str | None, str, str]] = []

    def add(self, row: int, column: str, cell: Any, code: str, message: str) -> None:
        shown = text(cell)
        if shown is not None:
            shown = _MASKS[column](shown) if column in _MASKS else shown[:_SHOWN_VALUE_LENGTH]
        name = self.header.name_of(column)
        self.found.append((row, ORDER[column], name, shown, code, message))

    def raise_if_any(self) -> None:
        if not self.found:
            return
        self.found.sort(key=lambda e: (e[0], e[1]))
        listed = [
            {"row": row, "column": name, "value": value, "code": code, "message": message}
            for row, _, name, value, code, message in self.found[:MAX_LISTED_ERRORS]
        ]
        rows = len({e[0] for e in self.found})
        raise ImportRejected(listed, len(self.found), rows)


@dataclass
class _Plan:
    creates: list[dict[str, Any]]
    updates: list[dict[str, Any]]
    update_columns: list[str]
    unchanged: int
    districts: set[int]


def _no_progress(step: str, done: int, total: int | None) -> None:
    pass


def import_members(
    session: Session,
    principal: Principal,
    file: MemberFile,
    *,
    mode: ImportMode = ImportMode.create,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> ImportResult:
    principal.require(Action.write_member)
    report = progress or _no_progress
    rows = read_rows(file.content)
    header = find_header(rows)
    errors = _Errors(header)
    for column, code, message in header.problems:
        errors.add(header.row, column, None, code, message)
    # Without its columns no row can be checked: the header's errors alone say what to fix.
    errors.raise_if_any()
    read = _read(rows, header, errors, report)
    if not read:
        raise NoMemberRows(f"Nothing below the header (row {header.row}) to import.")
    report("checking", 0, None)
    plan = _plan(session, principal, read, header, mode, errors)
    report("checking", 1, 1)
    errors.raise_if_any()
    result = ImportResult(
        file_name=file.name,
        mode=mode,
        dry_run=dry_run,
        rows=len(read),
        created=len(plan.creates),
        updated=len(plan.updates),
        unchanged=plan.unchanged,
        ignored_columns=header.ignored,
    )
    if not dry_run:
        _write(session, plan, report)
        audit.record(
            session,
            principal,
            "import",
            "member",
            None,
            # District admins read their own imports; one across districts is the city's.
            district_id=next(iter(plan.districts)) if len(plan.districts) == 1 else None,
            after=result.model_dump(
                include={"file_name", "mode", "rows", "created", "updated", "unchanged"}
            ),
        )
    logger.info(
        "member import (%s%s): %d rows, %d created, %d updated",
        mode.value,
        ", dry run" if dry_run else "",
        result.rows,
        result.created,
        result.updated,
    )
    return result


def _read(rows: Iterator[Row], header: Header, errors: _Errors, report: Progress) -> list[_Row]:
    readers = [(code, index, BY_CODE[code].read) for code, index in header.positions.items()]
    read: list[_Row] = []
    for number, cells in rows:
        if len(read) == MAX_ROWS:
            raise TooManyRows(f"At most {MAX_ROWS:,} members per file; split the file.")
        values: dict[str, Any] = {}
        for code, index, reader in readers:
            cell = cells[index] if index < len(cells) else None
            try:
                values[code] = reader(cell)
            except CellError as exc:
                errors.add(number, code, cell, exc.code, exc.message)
        _check_dates(
            number, values.get("birth_date"), values.get("joined_on"), cells, header, errors
        )
        read.append(_Row(number, values))
        if len(read) % _REPORT_EVERY == 0:
            report("reading", len(read), None)
    report("reading", len(read), len(read))
    return read


def _check_dates(
    number: int, birth: Any, joined: Any, cells: list[Any], header: Header, errors: _Errors
) -> None:
    # The API's rule (app.org.service): one joins the party after being born.
    if birth is None or joined is None or joined > birth:
        return
    cell = cells[header.positions["joined_on"]]
    errors.add(number, "joined_on", cell, "joined_before_birth", "must be after the birth date")


def _check_against_stored(
    number: int, birth: date | None, joined: date | None, in_file: str, errors: _Errors
) -> None:
    """The same rule for an upsert whose file has one of the two dates: the error is on the
    column the file has, and names the registered date it clashes with."""
    if birth is None or joined is None or joined > birth:
        return
    if in_file == "joined_on":
        message = f"must be after the registered birth date, {birth.isoformat()}"
        errors.add(number, "joined_on", joined, "joined_before_birth", message)
    else:
        message = f"must be before the registered joining date, {joined.isoformat()}"
        errors.add(number, "birth_date", birth, "joined_before_birth", message)


def _plan(
    session: Session,
    principal: Principal,
    read: list[_Row],
    header: Header,
    mode: ImportMode,
    errors: _Errors,
) -> _Plan:
    first_row: dict[str, int] = {}
    for row in read:
        id_number = row.values.get("id_number")
        if id_number is None:
            continue
        first = first_row.setdefault(id_number, row.number)
        if first != row.number:
            errors.add(
                row.number, "id_number", id_number, "duplicate_in_file", f"the same as row {first}"
            )

    codes = {row.values["branch_code"] for row in read if "branch_code" in row.values}
    branches = lookups.branches_by_code(session, principal, codes)
    for row in read:
        code = row.values.get("branch_code")
        if code is not None and code not in branches:
            errors.add(
                row.number, "branch_code", code, "unknown_branch", "no such branch in your scope"
            )

    holders = lookups.members_by_id_number(session, first_row.keys())
    visible = lookups.visible_members(session, principal, {h.id for h in holders.values()})
    branch_codes = lookups.branch_codes(
        session, {h.branch_id for h in holders.values() if h.id in visible}
    )
    update_columns = _update_columns(header)
    plan = _Plan([], [], update_columns, 0, {b.district_id for b in branches.values()})
    for row in read:
        id_number, code = row.values.get("id_number"), row.values.get("branch_code")
        holder = holders.get(id_number) if id_number else None
        branch = branches.get(code) if code else None
        if holder is None:
            if branch is not None:
                plan.creates.append(_new_member(row.values, branch.id))
            continue
        if holder.id not in visible:
            errors.add(
                row.number,
                "id_number",
                id_number,
                "registered_elsewhere",
                "registered in another part of the city; ask the organisation department to "
                "transfer the member instead of registering them again",
            )
        elif mode is ImportMode.create:
            errors.add(
                row.number,
                "id_number",
                id_number,
                "already_registered",
                f"already registered (member {holder.id}); import with mode=upsert to update",
            )
        elif branch is not None and branch.id != holder.branch_id:
            errors.add(
                row.number,
                "branch_code",
                code,
                "different_branch",
                f"the member belongs to branch {branch_codes.get(holder.branch_id)}; moving a "
                "member is a transfer (POST /members/{id}/transfer), not an import",
            )
        else:
            _plan_update(row, holder, header, update_columns, plan, errors)
    return plan


def _update_columns(header: Header) -> list[str]:
    """Member columns an upsert sets: those the file has (a column left out stays as it is)."""
    columns = [
        c for c in ("name", "gender", "birth_date", "joined_on", "phone") if c in header.positions
    ]
    if "categories" in header.positions:
        columns += CATEGORY_COLUMNS.values()
    return columns


def _plan_update(
    row: _Row,
    holder: sa.Row,
    header: Header,
    columns: list[str],
    plan: _Plan,
    errors: _Errors,
) -> None:
    new = _member_columns(row.values)
    merged = {c: new[c] if c in columns else getattr(holder, c) for c in lookups.MEMBER_COLUMNS}
    in_file = [c for c in ("birth_date", "joined_on") if c in header.positions]
    if len(in_file) == 1:  # both: checked as read; neither: the stored dates, checked before
        _check_against_stored(
            row.number, merged["birth_date"], merged["joined_on"], in_file[0], errors
        )
    if all(merged[c] == getattr(holder, c) for c in columns):
        plan.unchanged += 1
        return
    plan.updates.append({"member_id": holder.id} | {f"new_{c}": merged[c] for c in columns})


def _member_columns(values: dict[str, Any]) -> dict[str, Any]:
    categories: frozenset[MemberCategory] = values.get("categories", frozenset())
    return {
        "name": values.get("name"),
        "gender": values.get("gender"),
        "birth_date": values.get("birth_date"),
        "joined_on": values.get("joined_on"),
        "phone": values.get("phone"),
    } | {column: category in categories for category, column in CATEGORY_COLUMNS.items()}


def _new_member(values: dict[str, Any], branch_id: int) -> dict[str, Any]:
    return _member_columns(values) | {
        "branch_id": branch_id,
        "id_number": values.get("id_number"),
        "status": MemberStatus.active.value,
    }


def _write(session: Session, plan: _Plan, report: Progress) -> None:
    table = Member.__table__
    conn = session.connection()
    # One timestamp for the whole import, rendered once rather than converted per row.
    stamps = stamp_values(conn.dialect, utcnow())
    total = len(plan.creates) + len(plan.updates)
    done = 0
    report("writing", done, total)
    insert = table.insert().values(stamps)
    for start in range(0, len(plan.creates), WRITE_CHUNK):
        chunk = plan.creates[start : start + WRITE_CHUNK]
        conn.execute(insert, chunk)
        done += len(chunk)
        report("writing", done, total)
    if not plan.updates:
        return
    update = (
        table.update()
        .where(table.c.id == sa.bindparam("member_id"))
        .values({c: sa.bindparam(f"new_{c}") for c in plan.update_columns})
        .values(updated_at=stamps["updated_at"])
    )
    for start in range(0, len(plan.updates), WRITE_CHUNK):
        chunk = plan.updates[start : start + WRITE_CHUNK]
        conn.execute(update, chunk)
        done += len(chunk)
        report("writing", done, total)
