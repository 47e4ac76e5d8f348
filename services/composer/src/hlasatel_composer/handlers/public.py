"""The public feeds: every message the city has sent, as CAP 1.2 and in an Atom feed, without a key."""

from datetime import UTC, datetime
from uuid import UUID

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hlasatel_composer.adapters.orm import MessageRow
from hlasatel_composer.domain.atom import atom_feed
from hlasatel_composer.domain.cap import render_cap
from hlasatel_composer.domain.cap_export import Published, to_atom_entry, to_cap
from hlasatel_composer.domain.messages import Content, MessageState, Severity
from hlasatel_composer.domain.targeting import Target
from hlasatel_composer.handlers.common import MessageNotFound

SENDER_NAME = "Statutární město Liberec"


def _public() -> list[ColumnElement[bool]]:
    """Approved at some point, and meant for the public: never a draft."""
    return [
        MessageRow.public.is_(True),
        MessageRow.approved_at.is_not(None),
        MessageRow.state != MessageState.DRAFT.value,
    ]


async def _published(session: AsyncSession, row: MessageRow, *, with_previous: bool = True) -> Published:
    previous = None
    if with_previous:
        before = await _previous(session, row)
        previous = await _published(session, before, with_previous=False) if before else None
    return Published(
        id=row.id,
        sent=row.approved_at or row.created_at,
        kind=row.kind,
        severity=Severity(row.severity),
        category=row.category,
        content=Content.model_validate(row.content),
        target=Target.model_validate(row.target) if row.target else None,
        expires_at=row.expires_at,
        cap=row.cap,
        previous=previous,
    )


async def _previous(session: AsyncSession, row: MessageRow) -> MessageRow | None:
    """What a follow-up refers to: its original, or the alert's message before it."""
    if row.follows is not None:
        return await session.get(MessageRow, row.follows)
    if row.alert_id is None:
        return None
    return await session.scalar(
        select(MessageRow)
        .where(MessageRow.alert_id == row.alert_id, MessageRow.created_at < row.created_at, *_public())
        .order_by(MessageRow.created_at.desc())
        .limit(1)
    )


async def message_cap(*, sessions: async_sessionmaker[AsyncSession], message_id: UUID, sender: str) -> bytes:
    """One public message as a CAP 1.2 document."""
    async with sessions() as session:
        row = await session.scalar(select(MessageRow).where(MessageRow.id == message_id, *_public()))
        if row is None:
            raise MessageNotFound(f"no public message {message_id}")
        return render_cap(to_cap(await _published(session, row), sender=sender, sender_name=SENDER_NAME))


async def feed(
    *, sessions: async_sessionmaker[AsyncSession], base_url: str, self_link: str, limit: int = 100
) -> bytes:
    """The newest public messages as an Atom feed; each entry links to its CAP document."""
    async with sessions() as session:
        rows = (
            await session.scalars(
                select(MessageRow).where(*_public()).order_by(MessageRow.approved_at.desc()).limit(limit)
            )
        ).all()
        messages = [await _published(session, row, with_previous=False) for row in rows]
    entries = [to_atom_entry(m, link=f"{base_url}/v1/public/messages/{m.id}.cap") for m in messages]
    return atom_feed(
        id=f"{base_url}/v1/public/feed.atom",
        title=f"{SENDER_NAME}: zprávy občanům",
        self_link=self_link,
        updated=entries[0].updated if entries else datetime.now(UTC),
        author=SENDER_NAME,
        entries=entries,
        lang="cs",
    )
