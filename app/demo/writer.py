"""Bulk writes for the seed: Core executemany, or COPY on PostgreSQL through psycopg.

Everything runs on the caller's connection, inside its transaction, so the seed is
written whole or not at all.
"""

from collections.abc import Sequence
from datetime import datetime
from operator import itemgetter
from typing import Any

import sqlalchemy as sa

from app.db import UTCDateTime

# Any constant will do, as long as nothing else in the service locks on it: the seed runs
# one at a time per database.
SEED_LOCK_KEY = 0x63616D70_64656D6F  # "campdemo"
TIMESTAMPS = ("created_at", "updated_at")


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
    """Insert rows that all have the same keys, with ``stamp`` as created_at and updated_at."""
    if not rows:
        return
    columns = list(rows[0])
    unknown = set(columns) - set(table.c.keys())
    if unknown:
        raise KeyError(f"no such column in {table.name}: {sorted(unknown)}")
    if uses_copy(conn):
        _copy(conn, table, columns, rows, stamp)
    else:
        conn.execute(table.insert().values(stamp_values(conn.dialect, stamp)), rows)


def stamp_values(dialect: sa.Dialect, stamp: datetime) -> dict[str, sa.ColumnElement[Any]]:
    """The timestamps as one SQL literal each, rendered once by UTCDateTime itself.

    A bound value would be converted again for every row of the executemany; the stamp is
    the same for all, and on SQLite that conversion was a third of the seed's write time.
    The value is our own clock's, never input, so rendering it into the SQL is safe.
    """
    rendered = sa.literal(stamp, UTCDateTime).compile(
        dialect=dialect, compile_kwargs={"literal_binds": True}
    )
    return {name: sa.literal_column(str(rendered), UTCDateTime) for name in TIMESTAMPS}


def _copy(
    conn: sa.Connection,
    table: sa.Table,
    columns: list[str],
    rows: Sequence[dict[str, Any]],
    stamp: datetime,
) -> None:
    quoted = ", ".join(f'"{name}"' for name in [*columns, *TIMESTAMPS])
    statement = f'COPY "{table.name}" ({quoted}) FROM STDIN'
    row_values = itemgetter(*columns)
    stamps = (stamp, stamp)
    dbapi = conn.connection.driver_connection
    assert dbapi is not None
    # COPY goes around SQLAlchemy's type processing; the only processed type in the seed
    # is UTCDateTime, and psycopg writes aware datetimes as timestamptz unchanged.
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
