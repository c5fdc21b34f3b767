"""Statements over a whole set of rows or ids whose SQL text does not grow with the set.

The attendance write runs them for every secretary's PUT, many at once. On PostgreSQL a
list of N ids or rows becomes one text parameter (``= ANY('{1,2,3}'::bigint[])``,
``INSERT ... SELECT FROM json_to_recordset(...)``): one statement, one round trip, the same
text for every size, so neither SQLAlchemy nor psycopg compiles or parses it again, and the
values travel as one string made by the C JSON encoder instead of N protocol messages (an
executemany) or N element dumps by psycopg's list dumper, which is pure Python. SQLite runs
in process, where an expanding IN and an executemany cost nothing of the kind.
"""

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import Insert

# An insert of the dialect in use, to which the caller may add an ON CONFLICT clause
# (``postgresql.insert`` and ``sqlite.insert`` both offer ``on_conflict_do_update``).
Finish = Callable[[Insert], Insert]


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def _text(value: str) -> sa.BindParameter[str]:
    return sa.bindparam(None, value, type_=sa.Text)


def among_ids(
    session: Session, column: sa.ColumnElement[int], ids: Sequence[int]
) -> sa.ColumnElement[bool]:
    """``column IN ids`` for integer ids, as one array parameter on PostgreSQL."""
    if _dialect(session) == "postgresql":
        literal = "{" + ",".join(str(int(i)) for i in ids) + "}"
        return column == sa.any_(sa.cast(_text(literal), postgresql.ARRAY(sa.BigInteger)))
    return column.in_(ids)


def insert_rows(
    session: Session,
    table: sa.Table,
    rows: Sequence[Mapping[str, Any]],
    *,
    finish: Finish = lambda insert: insert,
    order_by: Sequence[str] = (),
) -> None:
    """Inserts ``rows`` (dicts with the same keys) into ``table``: in one statement on
    PostgreSQL, in the order of ``order_by`` (so that concurrent upserts lock rows in one
    order and cannot deadlock); as an executemany elsewhere, in the order given."""
    if not rows:
        return
    if _dialect(session) != "postgresql":
        session.execute(finish(sqlite.insert(table)), list(rows))
        return
    names = list(rows[0])
    # Decimals, dates and UUIDs go as their text forms, which the column types read back.
    document = json.dumps(rows, default=str, separators=(",", ":"))
    values = (
        sa.func.json_to_recordset(sa.cast(_text(document), postgresql.JSON))
        .table_valued(*(sa.column(n, table.c[n].type) for n in names))
        .render_derived(name="v", with_types=True)
    )
    select = sa.select(*(values.c[n] for n in names)).order_by(*(values.c[n] for n in order_by))
    session.execute(finish(postgresql.insert(table).from_select(names, select)))
