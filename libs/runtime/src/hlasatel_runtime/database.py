"""Async SQLAlchemy engines for SQLite (development) and PostgreSQL (production)."""

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import DateTime, Table, event, insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator


def async_url(url: str) -> str:
    """Give a plain ``postgresql://`` or ``sqlite://`` URL its async driver."""
    for plain, driver in (
        ("postgresql://", "postgresql+asyncpg://"),
        ("postgres://", "postgresql+asyncpg://"),
        ("sqlite://", "sqlite+aiosqlite://"),
    ):
        if url.startswith(plain):
            return driver + url[len(plain) :]
    return url


def build_engine(url: str) -> AsyncEngine:
    """An engine with SQLite set up for several writers (WAL, a busy timeout, foreign keys)."""
    url = async_url(url)
    # Parameters are contacts and names: never in an exception message or a log line.
    if not url.startswith("sqlite"):
        return create_async_engine(
            url,
            pool_pre_ping=True,
            pool_size=10,
            max_overflow=10,
            hide_parameters=True,
            # asyncpg prepares every statement, and after five runs PostgreSQL may keep a generic plan made
            # when a table was nearly empty: a batch's `… WHERE id IN (500 ids)` stayed a sequential scan
            # as the index grew (100,000 subscribers: the last tenth loaded at 346/s instead of 6,000/s)
            connect_args={"server_settings": {"plan_cache_mode": "force_custom_plan"}},
        )
    engine = create_async_engine(url, connect_args={"timeout": 30}, hide_parameters=True)

    @event.listens_for(engine.sync_engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    return engine


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


class UtcDateTime(TypeDecorator[datetime]):
    """A timestamp that comes back timezone-aware in UTC from SQLite as from PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


async def insert_rows(
    session: AsyncSession, model: type[DeclarativeBase], rows: Sequence[dict[str, Any]]
) -> None:
    """Insert many rows with one executemany on the model's table.

    Not through the ORM's bulk path, which builds state per row and splits the batch wherever a value is
    None: for tens of thousands of rows this is several times faster.
    """
    if rows:
        await session.execute(insert(cast(Table, model.__table__)), list(rows))


async def insert_ignoring_conflict(
    session: AsyncSession, table: Table, rows: Sequence[dict[str, Any]]
) -> set[Any]:
    """Insert the rows whose primary key is not there yet (one statement, a row another transaction is
    inserting at the same moment included); returns the keys of those inserted. The table's key is one
    column."""
    if not rows:
        return set()
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    (key,) = table.primary_key.columns
    statement = dialect.insert(table).values(list(rows)).on_conflict_do_nothing().returning(key)
    return set(await session.scalars(statement))
