"""Statements over a whole set of rows or ids whose SQL text does not grow with the set.

The attendance write runs them for every secretary's PUT, many at once. On PostgreSQL a
list of N ids or rows becomes one text parameter (``= ANY('{1,2,3}'::bigint[])``,
``INSERT ... SELECT FROM json_to_recordset(...)``): one statement, one round trip, the same
text for every size, so neither SQLAlchemy nor psycopg compiles or parses it again, and the
values travel as one string made by pydantic-core's encoder instead of N protocol messages
(an executemany) or N element dumps by psycopg's list dumper, which is pure Python. SQLite
runs in process, where an expanding IN and an executemany cost nothing of the kind.

The statements are Core statements over tables, so they go to the session's connection
directly: the ORM's execution layer would only add its bookkeeping to every call.
"""

from collections.abc import Callable, Mapping, Sequence
from functools import cache
from typing import Any

import sqlalchemy as sa
from pydantic_core import to_json
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import Insert

# An insert of the dialect in use, to which the caller may add an ON CONFLICT clause
# (``postgresql.insert`` and ``sqlite.insert`` both offer ``on_conflict_do_update``).
# A module-level function, so that the statement built with it can be kept and reused.
Finish = Callable[[Insert], Insert]


def _unchanged(insert: Insert) -> Insert:
    return insert


def connection(session: Session) -> Connection:
    """The session's connection, for Core statements, after the session's pending objects
    have been written (as ``session.execute`` would have done)."""
    session.flush()
    return session.connection()


def among_ids_param(
    dialect: str, column: sa.ColumnElement[int], name: str
) -> sa.ColumnElement[bool]:
    """``column IN :name`` for integer ids, as one array parameter on PostgreSQL; run with
    ``ids_value`` as the parameter's value, so that the statement can be built once."""
    if dialect == "postgresql":
        ids = sa.bindparam(name, type_=sa.Text)
        return column == sa.any_(sa.cast(ids, postgresql.ARRAY(sa.BigInteger)))
    return column.in_(sa.bindparam(name, expanding=True))


def ids_value(dialect: str, ids: Sequence[int]) -> Any:
    """The value of an ``among_ids_param`` parameter."""
    if dialect == "postgresql":
        return "{" + ",".join(str(int(i)) for i in ids) + "}"
    return list(ids)


@cache
def _from_json(
    table: sa.Table, names: tuple[str, ...], finish: Finish, order_by: tuple[str, ...]
) -> sa.Executable:
    """The PostgreSQL insert of a JSON array of rows, built once per shape: its cache key
    and compiled form are then found at once on every later call."""
    values = (
        sa.func.json_to_recordset(sa.cast(sa.bindparam("rows", type_=sa.Text), postgresql.JSON))
        .table_valued(*(sa.column(n, table.c[n].type) for n in names))
        .render_derived(name="v", with_types=True)
    )
    select = sa.select(*(values.c[n] for n in names)).order_by(*(values.c[n] for n in order_by))
    return finish(postgresql.insert(table).from_select(list(names), select))


@cache
def _executemany(table: sa.Table, finish: Finish) -> sa.Executable:
    return finish(sqlite.insert(table))


def insert_rows(
    session: Session,
    table: sa.Table,
    rows: Sequence[Mapping[str, Any]],
    *,
    finish: Finish = _unchanged,
    order_by: Sequence[str] = (),
) -> None:
    """Inserts ``rows`` (dicts with the same keys) into ``table``: in one statement on
    PostgreSQL, in the order of ``order_by`` (so that concurrent upserts lock rows in one
    order and cannot deadlock); as an executemany elsewhere, in the order given."""
    if not rows:
        return
    conn = connection(session)
    if conn.dialect.name != "postgresql":
        conn.execute(_executemany(table, finish), list(rows))
        return
    # Decimals, dates and UUIDs go as their text forms, which the column types read back.
    statement = _from_json(table, tuple(rows[0]), finish, tuple(order_by))
    conn.execute(statement, {"rows": to_json(rows).decode()})
