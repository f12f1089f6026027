"""The database: one engine per URL, sessions as context managers."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

_engines: dict[str, Engine] = {}
_makers: dict[str, sessionmaker] = {}
_autocommit: dict[str, Engine] = {}


def get_engine(url: str) -> Engine:
    """The engine for ``url``, created once per process."""
    engine = _engines.get(url)
    if engine is None:
        if url.startswith("sqlite"):
            engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
            event.listen(engine, "connect", _sqlite_pragmas)
            event.listen(engine, "begin", _sqlite_begin)
        else:
            # No pre-ping (a round trip on every checkout): a connection found dead raises, the
            # callback path retries once on a fresh one, and jobs are retried by rq and the sweeper.
            # connect_timeout: a database that does not answer fails a callback in seconds (WeCom
            # resends it) instead of holding it past WeCom's 5-second wait.
            engine = create_engine(url, pool_size=5, max_overflow=5, pool_recycle=1800,
                                   connect_args={"connect_timeout": 3})
        _engines[url] = engine
        _makers[url] = sessionmaker(engine, expire_on_commit=False)
    return engine


def get_autocommit_engine(url: str) -> Engine:
    """The engine for ``url`` in autocommit mode (each statement commits itself), same pool."""
    engine = _autocommit.get(url)
    if engine is None:
        engine = _autocommit[url] = get_engine(url).execution_options(isolation_level="AUTOCOMMIT")
    return engine


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    dbapi_conn.isolation_level = None  # let SQLAlchemy's "begin" event issue BEGIN IMMEDIATE
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def _sqlite_begin(conn) -> None:
    # Take the write lock at the start of each transaction: SQLite then serialises writers
    # instead of failing one of them with "database is locked" half-way through.
    conn.exec_driver_sql("BEGIN IMMEDIATE")


@contextmanager
def session_scope(url: str) -> Iterator[Session]:
    """A session that commits on success and rolls back on any error."""
    get_engine(url)
    session = _makers[url]()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def ping(url: str) -> bool:
    """Whether the database answers."""
    try:
        with get_engine(url).connect() as conn:
            conn.execute(text("SELECT 1"))
        return True
    except Exception:
        return False


def dispose_all() -> None:
    """Close every pooled connection (after fork, and between tests)."""
    for engine in _engines.values():
        engine.dispose()
    _engines.clear()
    _makers.clear()
    _autocommit.clear()


def add_unique(session: Session, row) -> bool:
    """Add ``row`` in a savepoint; False, and nothing added, when a unique constraint already holds
    its key (another transaction got there first). Any other integrity error is raised."""
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError as exc:
        if not is_unique_violation(exc):
            raise
        return False
    return True


def is_unique_violation(exc: Exception) -> bool:
    """Whether an IntegrityError came from a unique constraint (on SQLite or PostgreSQL)."""
    text_ = str(getattr(exc, "orig", exc)).lower()
    return "unique" in text_ or "duplicate key" in text_


def require_schema(url: str) -> None:
    """Stop a command with one clear line when the database at ``url`` has no tables yet."""
    import sys
    from pathlib import Path

    from sqlalchemy import inspect
    from sqlalchemy.engine import make_url

    try:
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite" and parsed.database and not Path(parsed.database).exists():
            present = False   # do not create an empty file just to look inside it
        else:
            present = inspect(get_engine(url)).has_table("ticket")
    except Exception as exc:  # unreachable, bad credentials: say which database
        sys.stderr.write(f"数据库无法打开 / cannot open the database {_safe(url)}: {type(exc).__name__}\n")
        sys.exit(2)
    if not present:
        sys.stderr.write(f"数据库里还没有数据表 / no tables in {_safe(url)}: 先运行 qingche db upgrade "
                         "(或 qingche demo)，或用 DATABASE_URL 指向已有的数据库\n")
        sys.exit(2)


def _safe(url: str) -> str:
    """``url`` without its password."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "DATABASE_URL"
