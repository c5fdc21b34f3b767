"""Bulk writes for the seed: Core executemany, or COPY on PostgreSQL through psycopg.

Everything runs on the caller's connection, inside its transaction, so the seed is
written whole or not at all.
"""

from collections.abc import Callable, Sequence
from datetime import datetime
from operator import itemgetter
from typing import Any

import sqlalchemy as sa

from app.db import TIMESTAMPS, stamp_values

# Any constant will do, as long as nothing else in the service locks on it: the seed runs
# one at a time per database.
SEED_LOCK_KEY = 0x63616D70_64656D6F  # "campdemo"


def claim_empty_database(conn: sa.Connection, district: sa.Table) -> bool:
    """True when this transaction may seed: no district yet, and no other seed running.

    On SQLite the caller's transaction already holds the write lock (BEGIN IMMEDIATE), so a
    second seed waits for the first to commit and then sees its rows. PostgreSQL takes row
    locks only on write, so a transaction-scoped advisory lock serialises the check instead;
    after waiting, READ COMMITTED's next statement sees what the first seed committed.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": SEED_LOCK_KEY})
    return conn.execute(sa.select(district.c.id).limit(1)).first() is None


def uses_copy(conn: sa.Connection) -> bool:
    return conn.dialect.name == "postgresql" and conn.dialect.driver == "psycopg"


def insert_rows(
    conn: sa.Connection, table: sa.Table, rows: Sequence[dict[str, Any]], stamp: datetime
) -> None:
    """Insert rows that all have the same keys, with ``stamp`` as created_at and updated_at
    (of those the table has: attendance rows carry no timestamps)."""
    if not rows:
        return
    columns = list(rows[0])
    unknown = set(columns) - set(table.c.keys())
    if unknown:
        raise KeyError(f"no such column in {table.name}: {sorted(unknown)}")
    stamped = tuple(name for name in TIMESTAMPS if name in table.c)
    if uses_copy(conn):
        _copy(conn, table, columns, rows, stamp, stamped)
        return
    statement = table.insert().values(stamp_values(conn.dialect, stamp, stamped))
    if not _executemany_by_column(conn, table, statement, columns, rows, stamped):
        conn.execute(statement, rows)


def _executemany_by_column(
    conn: sa.Connection,
    table: sa.Table,
    statement: sa.Insert,
    columns: list[str],
    rows: Sequence[dict[str, Any]],
    stamped: tuple[str, ...],
) -> bool:
    """The executemany SQLAlchemy would run, with the types' own bind processors applied a
    column at a time instead of a parameter dict built per row: on SQLite, about a third
    less time for the 400,000 attendance rows, stored byte for byte the same. False (and
    nothing done) where the dialect binds by name, or where an omitted column has a default
    that only Core would apply."""
    given = {*columns, *stamped}
    if any(c.default is not None for c in table.c if c.name not in given):
        return False
    compiled = statement.values({name: sa.bindparam(name) for name in columns}).compile(
        dialect=conn.dialect
    )
    if not compiled.positional or sorted(compiled.positiontup or ()) != sorted(columns):
        return False
    order = list(compiled.positiontup or ())
    values = (
        list(zip(*map(itemgetter(*order), rows), strict=True))
        if len(order) > 1
        else [tuple(row[order[0]] for row in rows)]
    )
    for i, name in enumerate(order):
        process = table.c[name].type._cached_bind_processor(conn.dialect)
        if process is not None:
            values[i] = _processed(process, values[i])
    conn.exec_driver_sql(str(compiled), list(zip(*values, strict=True)))
    return True


def _processed(process: Callable[[Any], Any], column: Sequence[Any]) -> Sequence[Any]:
    """``process`` applied to each value, once per distinct value: a chunk's attendance
    rows name a few hundred sessions and a few hours, not thousands."""
    try:
        done = {value: process(value) for value in set(column)}
    except TypeError:  # an unhashable value
        return tuple(map(process, column))
    return tuple(map(done.__getitem__, column))


def _copy(
    conn: sa.Connection,
    table: sa.Table,
    columns: list[str],
    rows: Sequence[dict[str, Any]],
    stamp: datetime,
    stamped: tuple[str, ...],
) -> None:
    quoted = ", ".join(f'"{name}"' for name in [*columns, *stamped])
    statement = f'COPY "{table.name}" ({quoted}) FROM STDIN'
    # itemgetter of one column answers a value, not a tuple.
    row_values = itemgetter(*columns) if len(columns) > 1 else lambda row: (row[columns[0]],)
    stamps = (stamp,) * len(stamped)
    dbapi = conn.connection.driver_connection
    assert dbapi is not None
    # COPY goes around SQLAlchemy's type processing. The seed's processed types are
    # UTCDateTime, Uuid and Numeric: psycopg writes aware datetimes as timestamptz, and
    # uuid.UUID and Decimal as they are, unchanged.
    with dbapi.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(row_values(row) + stamps)


def reset_sequences(conn: sa.Connection, tables: Sequence[sa.Table]) -> None:
    """After rows were given explicit ids, make PostgreSQL's next default id follow them.

    SQLite needs nothing: an INTEGER PRIMARY KEY takes max(id) + 1.
    """
    if conn.dialect.name != "postgresql":
        return
    for table in tables:
        conn.execute(
            sa.text(
                f"SELECT setval(pg_get_serial_sequence(:name, 'id'), "
                f'(SELECT coalesce(max(id), 0) + 1 FROM "{table.name}"), false)'
            ),
            {"name": table.name},
        )


def analyze(conn: sa.Connection, tables: Sequence[sa.Table]) -> None:
    """Give the planner statistics of the rows just written, in the same transaction.
    Without them PostgreSQL takes the new tables for nearly empty (the look-back's join of
    35,000 members with their totals ran as a nested loop for 37 s instead of 30 ms until
    autovacuum came by), and SQLite picks any index on an equality, e.g. member.status for
    a join on branch and status: every active member scanned once per branch, 34 s for a
    coverage report at seed scale instead of tens of ms."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("ANALYZE " + ", ".join(f'"{table.name}"' for table in tables))
        return
    # A sample per index is enough to rank them, and keeps this under a second at scale 10.
    conn.exec_driver_sql("PRAGMA analysis_limit=2000")
    for table in tables:
        conn.exec_driver_sql(f'ANALYZE "{table.name}"')
