"""Resolving a target to address points and recipients, streamed from the index in batches."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from uuid import UUID

from sqlalchemy import ColumnElement, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from hlasatel_composer.adapters.orm import (
    DeliveryRow,
    IndexedAddress,
    IndexedContact,
    IndexedPoint,
    IndexedSubscriber,
    MessageHousehold,
    TargetPoint,
)
from hlasatel_composer.domain.messages import Severity
from hlasatel_composer.domain.requests import Recipient, wants
from hlasatel_composer.domain.targeting import Target, TargetFilters
from hlasatel_contracts import Channel, Language, QuietHours


async def resolve_target(session: AsyncSession, *, target: Target, into: UUID) -> int:
    """Store under `into` the indexed address points the target selects; returns how many."""
    points = (await session.execute(select(*IndexedPoint.__table__.columns))).all()
    rows = [{"resolution_id": into, "address_point_code": p.code} for p in points if target.selects(p)]
    for start in range(0, len(rows), 5000):
        await session.execute(insert(TargetPoint), rows[start : start + 5000])
    return len(rows)


@dataclass(frozen=True)
class Audience:
    """Who a message reaches: subscribers at the address points a target resolved to, in the roles and at
    the identity level and languages its filters ask for; or, for an update, whoever the original reached."""

    resolution_id: UUID | None = None
    follows: UUID | None = None
    filters: TargetFilters = field(default_factory=TargetFilters)

    def takes(self, recipient: Recipient, *, category: str | None, severity: Severity) -> bool:
        """An update goes to whoever had the original, whatever they have chosen since; otherwise the
        message's category decides (no category: everyone, as in a preview without one)."""
        return (
            self.follows is not None
            or category is None
            or wants(recipient, category=category, severity=severity)
        )

    def _roles(self) -> list[ColumnElement[bool]]:
        roles = self.filters.roles
        return [IndexedAddress.role.in_([role.value for role in roles])] if roles else []

    def conditions(self) -> list[ColumnElement[bool]]:
        conditions: list[ColumnElement[bool]] = [IndexedSubscriber.erased.is_(False)]
        if self.follows is not None:
            reached = select(DeliveryRow.subscriber_id).where(DeliveryRow.message_id == self.follows)
            return [*conditions, IndexedSubscriber.subscriber_id.in_(reached)]
        if self.filters.identity_level is not None:
            conditions.append(IndexedSubscriber.identity_level == self.filters.identity_level.value)
        if self.filters.languages:
            conditions.append(IndexedSubscriber.language.in_([lang.value for lang in self.filters.languages]))
        at_target = (
            select(IndexedAddress.subscriber_id)
            .join(TargetPoint, TargetPoint.address_point_code == IndexedAddress.address_point_code)
            .where(
                TargetPoint.resolution_id == self.resolution_id,
                IndexedAddress.subscriber_id == IndexedSubscriber.subscriber_id,
                *self._roles(),
            )
        )
        return [*conditions, at_target.exists()]

    async def households(
        self, session: AsyncSession, subscriber_ids: Sequence[UUID]
    ) -> list[tuple[UUID, int]]:
        """The targeted address points at which each of these subscribers is reached."""
        if not subscriber_ids:
            return []
        if self.follows is not None:
            query = select(MessageHousehold.subscriber_id, MessageHousehold.address_point_code).where(
                MessageHousehold.message_id == self.follows,
                MessageHousehold.subscriber_id.in_(subscriber_ids),
            )
        else:
            # driven by the subscribers, not by the points: SQLite would otherwise walk every target point
            targeted = select(TargetPoint.address_point_code).where(
                TargetPoint.resolution_id == self.resolution_id,
                TargetPoint.address_point_code == IndexedAddress.address_point_code,
            )
            query = select(IndexedAddress.subscriber_id, IndexedAddress.address_point_code).where(
                IndexedAddress.subscriber_id.in_(subscriber_ids), targeted.exists(), *self._roles()
            )
        return [(row[0], row[1]) for row in await session.execute(query)]


async def recipients_after(
    session: AsyncSession, *, audience: Audience, after: UUID | None, limit: int
) -> list[Recipient]:
    """The next batch of subscribers, ordered by id, each once however many of its addresses match."""
    query = (
        select(
            IndexedSubscriber.subscriber_id,
            IndexedSubscriber.language,
            IndexedSubscriber.categories,
            IndexedSubscriber.unsubscribe_token,
            IndexedSubscriber.quiet_hours,
        )
        .where(*audience.conditions())
        .order_by(IndexedSubscriber.subscriber_id)
        .limit(limit)
    )
    if after is not None:
        query = query.where(IndexedSubscriber.subscriber_id > after)
    subscribers = (await session.execute(query)).all()
    contacts = await _contacts(session, [row.subscriber_id for row in subscribers])
    return [
        Recipient(
            subscriber_id=row.subscriber_id,
            language=Language(row.language),
            categories=tuple(row.categories or ()),
            contacts=contacts.get(row.subscriber_id, {}),
            unsubscribe_token=row.unsubscribe_token,
            quiet_hours=QuietHours.model_validate(row.quiet_hours) if row.quiet_hours else None,
        )
        for row in subscribers
    ]


async def _contacts(
    session: AsyncSession, subscriber_ids: Sequence[UUID]
) -> dict[UUID, dict[Channel, tuple[UUID, str]]]:
    """The first verified, active contact of each channel: one message per channel and subscriber."""
    if not subscriber_ids:
        return {}
    rows = (
        await session.execute(
            select(
                IndexedContact.subscriber_id,
                IndexedContact.channel,
                IndexedContact.contact_id,
                IndexedContact.value,
            )
            .where(
                IndexedContact.subscriber_id.in_(subscriber_ids),
                IndexedContact.active.is_(True),
                IndexedContact.verified.is_(True),
            )
            .order_by(IndexedContact.subscriber_id, IndexedContact.position)
        )
    ).all()
    found: dict[UUID, dict[Channel, tuple[UUID, str]]] = {}
    for row in rows:
        found.setdefault(row.subscriber_id, {}).setdefault(Channel(row.channel), (row.contact_id, row.value))
    return found


async def contact_still_reachable(session: AsyncSession, *, subscriber_id: UUID, contact_id: UUID) -> bool:
    """The subscriber is not erased and the contact is still verified and active."""
    found = await session.scalar(
        select(IndexedContact.contact_id)
        .join(IndexedSubscriber, IndexedSubscriber.subscriber_id == IndexedContact.subscriber_id)
        .where(
            IndexedContact.contact_id == contact_id,
            IndexedContact.subscriber_id == subscriber_id,
            IndexedContact.verified.is_(True),
            IndexedContact.active.is_(True),
            IndexedSubscriber.erased.is_(False),
        )
    )
    return found is not None


async def streets_of(session: AsyncSession, codes: set[int]) -> list[str]:
    """The streets these address points lie on, as 'street (district)'."""
    streets: set[str] = set()
    ordered = sorted(codes)
    for start in range(0, len(ordered), 5000):
        rows = await session.execute(
            select(IndexedPoint.street, IndexedPoint.district).where(
                IndexedPoint.code.in_(ordered[start : start + 5000]), IndexedPoint.street.is_not(None)
            )
        )
        streets.update(f"{street} ({district})" for street, district in rows)
    return sorted(streets)
