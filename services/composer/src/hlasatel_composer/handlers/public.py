"""The public feeds: every message the city has sent, as CAP 1.2 and in an Atom feed, and the messages
that concern one address now, without a key."""

from datetime import UTC, datetime, timedelta
from uuid import UUID

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hlasatel_composer.adapters.orm import AlertRow, MessageRow, TargetPoint
from hlasatel_composer.adapters.register import current_register
from hlasatel_composer.domain.alerts import AlertState
from hlasatel_composer.domain.atom import atom_feed
from hlasatel_composer.domain.cap import render_cap
from hlasatel_composer.domain.cap_export import Published, to_atom_entry, to_cap
from hlasatel_composer.domain.cap_export import headline as _headline
from hlasatel_composer.domain.messages import Content, MessageState, Severity
from hlasatel_composer.domain.targeting import Target
from hlasatel_composer.handlers.common import MessageNotFound
from hlasatel_composer.schemas import AddressMessagesRead, PublicMessageRead
from hlasatel_contracts.addresses import label
from hlasatel_runtime.errors import SafeError

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
    # a follow-up concerns the houses its original did: their target, area and onset are its own
    root = (await session.get(MessageRow, row.follows) if row.follows else None) or row
    return Published(
        id=row.id,
        sent=row.approved_at or row.created_at,
        kind=row.kind,
        severity=Severity(row.severity),
        category=row.category,
        content=Content.model_validate(row.content),
        target=Target.model_validate(root.target) if root.target else None,
        expires_at=row.expires_at,
        cap=row.cap,
        previous=previous,
        onset=row.onset or root.onset,
        area=root.area,
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


class AddressNotFound(SafeError):
    """The code is no live address point of the city's register."""


# what tells of something going on: not a word that it no longer concerns someone, is off, or is over
_CURRENT_KINDS = ("alert", "update", "warning")
_SENT = (MessageState.APPROVED.value, MessageState.SENDING.value, MessageState.DONE.value)


def _current(now: datetime, current_for: timedelta) -> list[ColumnElement[bool]]:
    """A public message still in force: not cancelled, not replaced in its alert's chain, not ended;
    until its expiry, or, without one, for `current_for` after it went out."""
    current_of_its_alert = (
        select(AlertRow.id)
        .where(
            AlertRow.id == MessageRow.alert_id,
            AlertRow.state == AlertState.ACTIVE.value,
            AlertRow.current == MessageRow.id,
        )
        .exists()
    )
    return [
        *_public(),
        MessageRow.state.in_(_SENT),
        or_(MessageRow.kind.is_(None), MessageRow.kind.in_(_CURRENT_KINDS)),
        or_(MessageRow.alert_id.is_(None), current_of_its_alert),
        or_(
            MessageRow.expires_at > now,
            and_(MessageRow.expires_at.is_(None), MessageRow.approved_at > now - current_for),
        ),
    ]


async def address_messages(
    *,
    sessions: async_sessionmaker[AsyncSession],
    code: int,
    base_url: str,
    current_for: timedelta,
    limit: int = 50,
) -> AddressMessagesRead:
    """The city's public messages in force now whose target covers this address point (a follow-up by its
    original's), newest first: "is the water off at my house?" without registering."""
    now = datetime.now(UTC)
    async with sessions() as session:
        point = (await current_register(session)).point(code)
        if point is None:
            raise AddressNotFound(f"no address point {code} in the city's register")
        covering = select(TargetPoint.resolution_id).where(TargetPoint.address_point_code == code)
        rows = await session.scalars(
            select(MessageRow)
            .where(
                or_(MessageRow.id.in_(covering), MessageRow.follows.in_(covering)),
                *_current(now, current_for),
            )
            .order_by(MessageRow.approved_at.desc())
            .limit(limit)
        )
        messages = [_public_read(row, base_url) for row in rows]
    return AddressMessagesRead(
        address_point=code,
        address=label(point),
        messages=messages,
        feed=f"{base_url}/v1/public/feed.atom",
    )


def _public_read(row: MessageRow, base_url: str) -> PublicMessageRead:
    content = Content.model_validate(row.content).cs
    return PublicMessageRead(
        id=row.id,
        kind=row.kind,
        category=row.category,
        severity=Severity(row.severity),
        headline=_headline(content),
        text=content.sms or (content.push.body if content.push else _headline(content)),
        sent=row.approved_at or row.created_at,
        onset=row.onset,
        expires_at=row.expires_at,
        cap=f"{base_url}/v1/public/messages/{row.id}.cap",
    )
