"""A list report: one ordered statement and how to shape its rows, read a page at a time
(JSON) or all at once (exports, the bulletin)."""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.db import widen_report_memory
from app.pagination import Page, PageParams

T = TypeVar("T")
# Rows fetched per round trip when every row is read; PostgreSQL streams them.
YIELD_PER = 2_000


@dataclass(frozen=True)
class ListReport(Generic[T]):
    statement: sa.Select  # totally ordered, so that pages neither repeat nor skip rows
    shape: Callable[[Any], T]


def report_page(session: Session, report: ListReport[T], page: PageParams) -> Page[T]:
    """One page and the count of all rows, in one statement (a window count beside the
    rows); a page past the end asks for the count alone."""
    widen_report_memory(session)
    stmt = report.statement.add_columns(sa.func.count().over().label("_total"))
    rows = session.execute(stmt.limit(page.limit).offset(page.offset)).all()
    if rows:
        total = rows[0]._total
    else:
        counted = report.statement.order_by(None).subquery()
        total = session.scalar(sa.select(sa.func.count()).select_from(counted)) or 0
    return Page(
        items=[report.shape(r) for r in rows], total=total, limit=page.limit, offset=page.offset
    )


def report_rows(session: Session, report: ListReport[T]) -> Iterator[T]:
    """Every row, shaped, fetched a few thousand at a time."""
    widen_report_memory(session)
    result = session.execute(report.statement.execution_options(yield_per=YIELD_PER))
    for r in result:
        yield report.shape(r)
