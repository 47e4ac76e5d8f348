"""Unsubscribing through the link in a message, without signing in.

Each link's code is good for what it was issued for: the category of the message it came in, or 'all'.
Leaving everything asks for a confirmation first and never silences emergencies: the subscriber keeps
their contacts and addresses, so an emergency at their address still reaches them.
"""

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hlasatel_contracts import CATEGORIES
from hlasatel_registry.adapters import outbox
from hlasatel_registry.adapters.orm import ConsentRow, SubscriberRow, UnsubscribeCodeRow
from hlasatel_registry.config import Settings
from hlasatel_registry.handlers.common import ALL, NotFound, announce
from hlasatel_runtime.outbox import unit_of_work

TERMS = "hlasatel-2026"


@dataclass(frozen=True)
class UnsubscribeLink:
    """What a link's code may do: leave one category, or, confirmed, every non-emergency message."""

    scope: str  # a category, or 'all'
    category: str | None  # what it leaves: its category; None for everything

    @property
    def everything(self) -> bool:
        return self.category is None


async def _subscriber_of(session: AsyncSession, code: str) -> tuple[SubscriberRow, str]:
    found = await session.execute(
        select(SubscriberRow, UnsubscribeCodeRow.scope)
        .join(UnsubscribeCodeRow, UnsubscribeCodeRow.subscriber_id == SubscriberRow.id)
        .where(UnsubscribeCodeRow.code == code)
        .with_for_update()
    )
    row = found.first()
    if row is None:
        # a link sent before codes were kept per category carries the subscriber's first code
        legacy = await session.scalar(
            select(SubscriberRow).where(SubscriberRow.unsubscribe_code == code).with_for_update()
        )
        if legacy is None:
            raise NotFound("this unsubscribe link is not valid, or the subscription no longer exists")
        return legacy, ALL
    return row[0], row[1]


def _link(scope: str, category: str | None) -> UnsubscribeLink:
    """A category code leaves its category whatever the URL says; an 'all' code leaves the category the
    URL names (links of older messages), or everything."""
    if category is not None and category not in CATEGORIES:
        raise NotFound(f"unknown category {category!r}")
    if scope != ALL:
        return UnsubscribeLink(scope=scope, category=scope)
    return UnsubscribeLink(scope=ALL, category=category)


async def describe_link(
    *, sessions: async_sessionmaker[AsyncSession], code: str, category: str | None
) -> UnsubscribeLink:
    """What the link would do, for the page that asks before doing it."""
    async with sessions() as session:
        _, scope = await _subscriber_of(session, code)
    return _link(scope, category)


async def unsubscribe(
    *,
    sessions: async_sessionmaker[AsyncSession],
    relay: outbox.OutboxRelay,
    settings: Settings,
    code: str,
    category: str | None,
    confirmed: bool,
    via: str,
) -> tuple[UnsubscribeLink, bool]:
    """Leave what the link is for; everything only once confirmed. Returns the link and whether anything
    was done (False: everything, not yet confirmed)."""
    async with unit_of_work(sessions, relay) as session:
        subscriber, scope = await _subscriber_of(session, code)
        link = _link(scope, category)
        if link.everything and not confirmed:
            return link, False
        if link.everything:
            subscriber.categories = []
        else:
            subscriber.categories = [c for c in subscriber.categories if c != link.category]
        session.add(
            ConsentRow(
                subscriber_id=subscriber.id,
                at=datetime.now(UTC),
                action="unsubscribed",
                via=via,
                terms=TERMS,
                details={"category": link.category or "all", "emergencies": "still sent"},
            )
        )
        await announce(session, subscriber, settings.keys())
    return link, True
