"""The database engine and the request's session: one place for both."""

import sqlite3
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from functools import lru_cache
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import Depends, Request
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel
from starlette.concurrency import run_in_threadpool

from app.config import get_settings

# Named constraints, so that migrations can drop and alter them on SQLite (batch mode) too.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# An execution option: SQLite transactions that will write start with BEGIN IMMEDIATE, so
# that a second writer waits on the busy timeout instead of failing when its read lock
# cannot be upgraded ("database is locked"). Ignored on PostgreSQL.
_SQLITE_IMMEDIATE = "campaign_sqlite_immediate"

READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def create_db_engine(url: str, *, statement_timeout_ms: int = 0) -> Engine:
    """hide_parameters: statement logs and errors never show the values bound (ID numbers,
    phones, password hashes).

    ``statement_timeout_ms`` (PostgreSQL): every statement of this engine's connections is
    cancelled past it. The app's engine sets it; the command line's (migrations, the demo,
    imports of any size) does not.
    """
    settings = get_settings()
    if url.startswith("sqlite"):
        engine = sa.create_engine(
            url,
            hide_parameters=True,
            connect_args={
                "check_same_thread": False,
                "timeout": settings.sqlite_busy_timeout_ms / 1000,
            },
        )
        _configure_sqlite(engine, settings.sqlite_busy_timeout_ms)
        return engine
    options = f"-c statement_timeout={int(statement_timeout_ms)}" if statement_timeout_ms else ""
    return sa.create_engine(
        url,
        hide_parameters=True,
        pool_pre_ping=True,
        pool_size=10,
        max_overflow=10,
        connect_args={"options": options} if options else {},
    )


def _configure_sqlite(engine: Engine, busy_timeout_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from pysqlite so that BEGIN is ours to emit.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        if conn.get_execution_options().get(_SQLITE_IMMEDIATE, False):
            _begin_immediate(conn, busy_timeout_ms)
        else:
            conn.exec_driver_sql("BEGIN")


def _begin_immediate(conn: sa.Connection, busy_timeout_ms: int) -> None:
    """BEGIN IMMEDIATE, tried again every millisecond until the busy timeout.

    SQLite's own busy handler backs off to one try per 100 ms. Under steady writes the lock
    is free only in the short gaps between other writers' transactions, which a waiter
    looking ten times a second mostly misses: with four writer processes, waits of several
    seconds, then "database is locked". Trying every millisecond catches the gaps.
    """
    raw = conn.connection.dbapi_connection
    raw.execute("PRAGMA busy_timeout=0")
    try:
        deadline = time.monotonic() + busy_timeout_ms / 1000
        while time.monotonic() < deadline:
            try:
                raw.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if exc.sqlite_errorcode & 0xFF != sqlite3.SQLITE_BUSY:
                    raise
            time.sleep(0.001)
        conn.exec_driver_sql("BEGIN IMMEDIATE")  # the last try: its error as SQLAlchemy's
    finally:
        raw.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")


@lru_cache
def get_engine() -> Engine:
    """The command line's engine: no statement timeout."""
    return create_db_engine(get_settings().database_url)


def create_request_engine() -> Engine:
    """The app's engine: statements of a request are cut off at the configured timeout."""
    settings = get_settings()
    return create_db_engine(
        settings.database_url, statement_timeout_ms=settings.statement_timeout_ms
    )


def advisory_xact_lock(session: Session, key: str, *, wait: bool = True) -> bool:
    """Serialises work on ``key`` until the transaction ends, across every worker: on
    PostgreSQL a transaction-scoped advisory lock (``wait=False``: answers whether it was
    free). SQLite's writing transactions already run one at a time, so there it is a no-op."""
    if session.get_bind().dialect.name != "postgresql":
        return True
    lock = sa.func.pg_advisory_xact_lock if wait else sa.func.pg_try_advisory_xact_lock
    taken = session.scalar(sa.select(lock(sa.func.hashtext(key))))
    return True if wait else bool(taken)


def widen_report_memory(executor: Session | sa.Connection) -> None:
    """Lets the rest of this transaction's report statements sort and hash in
    ``report_work_mem_mb`` of memory (PostgreSQL; see app/config.py). Transaction-scoped, so
    the pooled connection goes back with the server's setting. One small statement per
    call: a report calling it more than once in one transaction (the bulletin, four times)
    pays it each time."""
    mb = get_settings().report_work_mem_mb
    bind = executor if isinstance(executor, sa.Connection) else executor.get_bind()
    if mb and bind.dialect.name == "postgresql":
        executor.execute(sa.select(sa.func.set_config("work_mem", f"{mb}MB", True)))


def writer(engine: Engine) -> Engine:
    """The same engine, marked so that its transactions take SQLite's write lock up front;
    elsewhere the engine itself (every writing request asks, and a marked copy costs one)."""
    if not is_sqlite(engine):
        return engine
    return engine.execution_options(**{_SQLITE_IMMEDIATE: True})


def new_session(engine: Engine, *, write: bool) -> Session:
    # Objects stay readable after commit: routes shape their answer after the session closes.
    return Session(writer(engine) if write else engine, expire_on_commit=False)


async def get_session(request: Request) -> AsyncIterator[Session]:
    """The request's session: committed once when the route returns, rolled back on error.

    Used with ``Depends(get_session, scope="function")`` so that the commit happens before
    the response is sent, and a failed commit becomes an error answer instead of a lost write.

    Made on the event loop (a Session touches no connection until its first statement), and
    finished in the thread pool (commit and close talk to the database): a plain generator
    would cost one more hand-off to a worker thread on every request. Most routes commit
    it themselves, in the thread they ran in (app/routing.py); it is then closed here.
    """
    engine: Engine = request.app.state.engine
    session = new_session(engine, write=request.method not in READ_ONLY_METHODS)
    try:
        yield session
    except BaseException:
        await _end(session, commit=False)
        raise
    await _end(session, commit=True)


async def _end(session: Session, *, commit: bool) -> None:
    if session.in_transaction():
        await run_in_threadpool(_finish, session, commit=commit)
    else:
        session.close()  # no transaction, no connection: nothing to wait for


def _finish(session: Session, *, commit: bool) -> None:
    try:
        if commit:
            session.commit()
        else:
            session.rollback()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """Stores instants in UTC and hands them back timezone-aware on every database.

    SQLite keeps no zone, so without this a timestamp read back would be naive there and
    aware on PostgreSQL.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where an instant is stored")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# The columns every Timestamped table has (app/org/models.py).
TIMESTAMPS = ("created_at", "updated_at")


def stamp_values(
    dialect: sa.Dialect, stamp: datetime, names: tuple[str, ...] = TIMESTAMPS
) -> dict[str, sa.ColumnElement[Any]]:
    """The timestamps as one SQL literal each, rendered once by UTCDateTime itself.

    A bound value would be converted again for every row of the executemany; the stamp is
    the same for all, and on SQLite that conversion was a third of the seed's write time.
    The value is our own clock's, never input, so rendering it into the SQL is safe.
    """
    rendered = sa.literal(stamp, UTCDateTime).compile(
        dialect=dialect, compile_kwargs={"literal_binds": True}
    )
    return {name: sa.literal_column(str(rendered), UTCDateTime) for name in names}


# Integer keys that can outgrow 2**31 (members, moves, later attendance) on PostgreSQL, and
# stay SQLite's rowid alias there so that they autoincrement.
BigIntKey = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


# The request's session; committed before the answer is sent (see get_session).
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
