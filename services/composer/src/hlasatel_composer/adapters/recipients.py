"""Resolving a target to the register's address points, and its audience to recipients, streamed from the
index in batches."""

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, Select, and_, exists, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute, aliased

from hlasatel_composer.adapters.index import category_bits
from hlasatel_composer.adapters.orm import (
    DeliveryRow,
    IndexedAddress,
    IndexedContact,
    IndexedPoint,
    IndexedSubscriber,
    MessageHousehold,
    TargetPoint,
)
from hlasatel_composer.adapters.register import current_register
from hlasatel_composer.domain.messages import Severity
from hlasatel_composer.domain.register import Resolved
from hlasatel_composer.domain.requests import Recipient, required_category
from hlasatel_composer.domain.targeting import Target, TargetFilters
from hlasatel_contracts import Channel, Language, QuietHours
from hlasatel_runtime.database import insert_rows
from hlasatel_runtime.errors import describe

log = logging.getLogger(__name__)


async def selected_points(session: AsyncSession, target: Target) -> Resolved:
    """The register's live address points the target selects, whether or not anyone lives there: chosen
    in memory (`domain.register.Register`), in a thread, so that the event loop goes on serving while a
    large polygon is tested."""
    register = await current_register(session)
    return Resolved(register, await asyncio.to_thread(register.resolve, target))


async def resolve_target(session: AsyncSession, *, target: Target, into: UUID) -> Resolved:
    """Store under `into` the register's address points the target selects; returns them."""
    resolved = await selected_points(session, target)
    await store_points(session, resolved.codes, into=into)
    return resolved


async def store_points(session: AsyncSession, codes: Sequence[int], *, into: UUID) -> None:
    await insert_rows(session, TargetPoint, [{"resolution_id": into, "address_point_code": c} for c in codes])


@dataclass(frozen=True)
class Audience:
    """Who a message reaches: subscribers at the address points a target resolved to (stored under
    `resolution_id`; or, `all_but`, at every live point of the register but those stored there — none, for
    the whole city), in the roles and at the identity level and languages its filters ask for, who chose
    the message's category unless it is an emergency; or, for an update, whoever the original reached,
    whatever they have chosen since, except (`unless_at`) those at the address points another message
    resolved to.

    Whether a subscriber is reached at a point is decided on their row of `index_addresses`, which holds
    their language, identity level, categories and contacts beside the point and the role."""

    resolution_id: UUID | None = None
    all_but: bool = False
    follows: UUID | None = None
    unless_at: UUID | None = None
    filters: TargetFilters = field(default_factory=TargetFilters)
    category: str | None = None
    severity: Severity | None = None

    def _all_but(self) -> list[ColumnElement[bool]]:
        """On `index_addresses`: the row's point is a live one of the register, and not one of those left
        out."""
        code = IndexedAddress.address_point_code
        conditions: list[ColumnElement[bool]] = [
            code.not_in(select(IndexedPoint.code).where(IndexedPoint.retired.is_(True)))
        ]
        if self.resolution_id is not None:
            left_out = select(TargetPoint.address_point_code).where(
                TargetPoint.resolution_id == self.resolution_id
            )
            conditions.append(code.not_in(left_out))
        return conditions

    def _at_target(self) -> ColumnElement[bool]:
        """On `index_addresses`: the row's point is one of the target's, tested row by row."""
        if self.all_but:
            return and_(*self._all_but())
        return (
            select(TargetPoint.address_point_code)
            .where(
                TargetPoint.resolution_id == self.resolution_id,
                TargetPoint.address_point_code == IndexedAddress.address_point_code,
            )
            .exists()
        )

    def _reached_there(self) -> list[ColumnElement[bool]]:
        """On `index_addresses`: the subscriber, as they are at this point, is one the message is for."""
        conditions: list[ColumnElement[bool]] = []
        if self.filters.roles:
            conditions.append(IndexedAddress.role.in_([role.value for role in self.filters.roles]))
        if self.filters.identity_level is not None:
            conditions.append(IndexedAddress.identity_level == self.filters.identity_level.value)
        if self.filters.languages:
            conditions.append(IndexedAddress.language.in_([lang.value for lang in self.filters.languages]))
        if (category := required_category(self.category, self.severity)) is not None:
            conditions.append(IndexedAddress.categories.op("&")(category_bits([category])) != 0)
        return conditions

    def rows(self, *columns: Any) -> Select[Any]:
        """These columns of the audience's rows of `index_addresses` (for an update, every row of the
        subscribers it reaches). Joined from the target's points, so that the database starts from the few
        dozen of a street rather than from every subscriber."""
        if self.follows is not None:
            reached = select(DeliveryRow.subscriber_id).where(DeliveryRow.message_id == self.follows)
            return select(*columns).where(
                IndexedAddress.subscriber_id.in_(reached),
                *self._not_at_other_points(IndexedAddress.subscriber_id),
            )
        if self.all_but:
            # the whole table in the order of its key, a subscriber's rows together, so that SQLite counts
            # distinct subscribers as they come: the role, which the points' index leaves out, keeps it
            # from walking that index instead (no row lacks a role)
            walk_the_table = IndexedAddress.role.is_not(None)
            return select(*columns).where(*self._all_but(), walk_the_table, *self._reached_there())
        return (
            select(*columns)
            .select_from(TargetPoint)
            .join(IndexedAddress, IndexedAddress.address_point_code == TargetPoint.address_point_code)
            .where(TargetPoint.resolution_id == self.resolution_id, *self._reached_there())
        )

    def conditions(self, *, one_by_one: bool = False) -> list[ColumnElement[bool]]:
        """On `index_subscribers`: the subscriber is in the audience.

        As sets by default, which suits counting. `one_by_one` tests each subscriber instead, which suits
        walking them in id order a batch at a time: a set would be built again for every batch.
        """
        alive = IndexedSubscriber.erased.is_(False)
        if self.follows is not None:
            reached = select(DeliveryRow.subscriber_id).where(DeliveryRow.message_id == self.follows)
            return [
                alive,
                _member(reached, DeliveryRow.subscriber_id, one_by_one),
                *self._not_at_other_points(IndexedSubscriber.subscriber_id),
            ]
        if one_by_one:
            there = select(IndexedAddress.subscriber_id).where(
                IndexedAddress.subscriber_id == IndexedSubscriber.subscriber_id,
                self._at_target(),
                *self._reached_there(),
            )
            return [alive, there.exists()]
        return [alive, IndexedSubscriber.subscriber_id.in_(self.rows(IndexedAddress.subscriber_id))]

    def _not_at_other_points(self, subscriber: Any) -> list[ColumnElement[bool]]:
        """The subscriber (a column of the outer query) has no address at the points `unless_at` names."""
        if self.unless_at is None:
            return []
        elsewhere = aliased(IndexedAddress)
        at_points = (
            select(elsewhere.subscriber_id)
            .join(TargetPoint, TargetPoint.address_point_code == elsewhere.address_point_code)
            .where(TargetPoint.resolution_id == self.unless_at, elsewhere.subscriber_id == subscriber)
        )
        return [~exists(at_points)]

    def households_of(self) -> Select[UUID, int]:
        """Each subscriber of the audience with each targeted address point they are reached at."""
        if self.follows is not None:
            return (
                select(MessageHousehold.subscriber_id, MessageHousehold.address_point_code)
                .join(IndexedSubscriber, IndexedSubscriber.subscriber_id == MessageHousehold.subscriber_id)
                .where(
                    MessageHousehold.message_id == self.follows,
                    IndexedSubscriber.erased.is_(False),
                    *self._not_at_other_points(MessageHousehold.subscriber_id),
                )
            )
        return self.rows(IndexedAddress.subscriber_id, IndexedAddress.address_point_code)

    async def households(
        self, session: AsyncSession, subscriber_ids: Sequence[UUID]
    ) -> list[tuple[UUID, int]]:
        """The targeted address points at which each of these subscribers (of the audience) is reached."""
        if not subscriber_ids:
            return []
        if self.follows is not None:
            query = select(MessageHousehold.subscriber_id, MessageHousehold.address_point_code).where(
                MessageHousehold.message_id == self.follows,
                MessageHousehold.subscriber_id.in_(subscriber_ids),
            )
        else:
            # driven by the subscribers, not by the points: SQLite would otherwise walk every target point
            # for each batch (5.7 s a batch for the whole city at 100,000 subscribers)
            query = select(IndexedAddress.subscriber_id, IndexedAddress.address_point_code).where(
                IndexedAddress.subscriber_id.in_(subscriber_ids), self._at_target(), *self._reached_there()
            )
        return [(row[0], row[1]) for row in await session.execute(query)]


def _member(ids: Select[UUID], column: InstrumentedAttribute[UUID], one_by_one: bool) -> ColumnElement[bool]:
    """The subscriber is among `ids`: as a set, or tested on its own (`column` is the ids' column)."""
    if one_by_one:
        return ids.where(column == IndexedSubscriber.subscriber_id).exists()
    return IndexedSubscriber.subscriber_id.in_(ids)


async def recipients_after(
    session: AsyncSession, *, audience: Audience, after: UUID | None, limit: int
) -> list[Recipient]:
    """The next batch of subscribers, ordered by id, each once however many of its addresses match."""
    query = (
        _subscribers().where(*audience.conditions(one_by_one=True)).order_by(IndexedSubscriber.subscriber_id)
    )
    if after is not None:
        query = query.where(IndexedSubscriber.subscriber_id > after)
    return await _recipients(session, query.limit(limit))


async def recipients_by_id(session: AsyncSession, subscriber_ids: Sequence[UUID]) -> list[Recipient]:
    """These subscribers as the fan-out saw them, unless erased since."""
    query = _subscribers().where(
        IndexedSubscriber.subscriber_id.in_(subscriber_ids), IndexedSubscriber.erased.is_(False)
    )
    return await _recipients(session, query)


def _subscribers() -> Select[Any]:
    return select(
        IndexedSubscriber.subscriber_id,
        IndexedSubscriber.language,
        IndexedSubscriber.unsubscribe_token,
        IndexedSubscriber.unsubscribe_tokens,
        IndexedSubscriber.quiet_hours,
    )


async def _recipients(session: AsyncSession, query: Select[Any]) -> list[Recipient]:
    subscribers = (await session.execute(query)).all()
    contacts = await _contacts(session, [row.subscriber_id for row in subscribers])
    return [_recipient(row, contacts.get(row.subscriber_id, {})) for row in subscribers]


def _recipient(row: Any, contacts: dict[Channel, tuple[UUID, str]]) -> Recipient:
    """The subscriber as the fan-out needs them; a record that cannot be read (stored before its fields
    were checked as they are now) makes a recipient with the problem, whom the fan-out tells nothing and
    reports as failed, while the rest of the batch goes out."""
    try:
        return Recipient(
            subscriber_id=row.subscriber_id,
            language=Language(row.language),
            contacts=contacts,
            unsubscribe_token=row.unsubscribe_token,
            unsubscribe_tokens=dict(row.unsubscribe_tokens or {}),
            quiet_hours=QuietHours.model_validate(row.quiet_hours) if row.quiet_hours else None,
        )
    except Exception as exc:  # one bad record never stops the batch
        reason = f"the subscriber's record cannot be used: {describe(exc)}"
        log.warning("subscriber %s skipped: %s", row.subscriber_id, reason)
        return Recipient(
            subscriber_id=row.subscriber_id, language=Language.CS, contacts=contacts, problem=reason
        )


async def _contacts(
    session: AsyncSession, subscriber_ids: Sequence[UUID]
) -> dict[UUID, dict[Channel, tuple[UUID, str]]]:
    """The chosen contact of each channel: one message per channel and subscriber."""
    if not subscriber_ids:
        return {}
    rows = (
        await session.execute(
            select(
                IndexedContact.subscriber_id,
                IndexedContact.channel,
                IndexedContact.contact_id,
                IndexedContact.value,
            ).where(IndexedContact.subscriber_id.in_(subscriber_ids), IndexedContact.chosen.is_(True))
        )
    ).all()
    found: dict[UUID, dict[Channel, tuple[UUID, str]]] = {}
    for row in rows:
        found.setdefault(row.subscriber_id, {})[Channel(row.channel)] = (row.contact_id, row.value)
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
