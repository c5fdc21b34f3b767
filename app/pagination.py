"""The one way lists are paged: ``?limit=&offset=`` in, ``{items, total, limit, offset}`` out."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

import sqlalchemy as sa
from fastapi import Depends, Query
from pydantic import BaseModel
from sqlalchemy.orm import Session

from app.schemas import MAX_ID

MAX_LIMIT = 500
DEFAULT_LIMIT = 50

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


@dataclass(frozen=True)
class PageParams:
    limit: int = DEFAULT_LIMIT
    offset: int = 0


async def page_params(  # async: no I/O, so no trip to the thread pool
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Rows per page, at most 500.")] = (
        DEFAULT_LIMIT
    ),
    # Bounded like an id: past 64 bits the database driver, not the API, would refuse it.
    offset: Annotated[int, Query(ge=0, le=MAX_ID, description="Rows to skip.")] = 0,
) -> PageParams:
    return PageParams(limit=limit, offset=offset)


PageQuery = Annotated[PageParams, Depends(page_params)]


def paginate(
    session: Session,
    stmt: sa.Select[Any],
    params: PageParams,
    to_item: Callable[[Any], T],
) -> Page[T]:
    """Runs a filtered, ordered select as one page plus the count of all rows it matches.

    The statement must carry a total order (end with the primary key), or rows could repeat
    or vanish between pages.
    """
    return paginate_batch(session, stmt, params, lambda rows: [to_item(r) for r in rows])


def paginate_batch(
    session: Session,
    stmt: sa.Select[Any],
    params: PageParams,
    to_items: Callable[[list[Any]], list[T]],
) -> Page[T]:
    """As ``paginate``, shaping the page's rows together (one query for their details)."""
    total = session.scalar(sa.select(sa.func.count()).select_from(stmt.order_by(None).subquery()))
    rows = list(session.scalars(stmt.limit(params.limit).offset(params.offset)).all())
    return Page(items=to_items(rows), total=total or 0, limit=params.limit, offset=params.offset)
