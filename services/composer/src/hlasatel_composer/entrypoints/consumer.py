"""What the composer consumes, in batches: the registry's address register (the city it targets), its
changelog (the targeting index) and the dispatchers' delivery statuses (its reports). A record that does
not validate, or fails on its own, goes to the dead-letter topic; the rest of its batch is kept."""

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from faststream import Context
from faststream.kafka import KafkaRoute, KafkaRouter
from pydantic import TypeAdapter
from sqlalchemy.ext.asyncio import AsyncSession

from hlasatel_composer.adapters.index import apply_subscriber_events
from hlasatel_composer.adapters.register import apply_register_events
from hlasatel_composer.config import Settings
from hlasatel_composer.container import Composer
from hlasatel_composer.handlers.statuses import apply_statuses
from hlasatel_contracts import (
    ADDRESS_POINTS,
    DELIVERY_STATUS,
    SUBSCRIBERS,
    AddressPointChanged,
    DeliveryStatusChanged,
    SubscriberEvent,
)
from hlasatel_runtime.deadletter import apply_isolated, undecoded_batch, valid_pairs
from hlasatel_runtime.kafka import consumer_options

_SUBSCRIBER_EVENT: TypeAdapter[SubscriberEvent] = TypeAdapter(SubscriberEvent)
_STATUS: TypeAdapter[DeliveryStatusChanged] = TypeAdapter(DeliveryStatusChanged)
_ADDRESS_POINT: TypeAdapter[AddressPointChanged] = TypeAdapter(AddressPointChanged)
T = TypeVar("T")


async def on_address_points(
    values: list[bytes], message: Any = Context("message"), composer: Composer = Context("composer")
) -> None:
    """The register, a batch per transaction, into the composer's city."""
    await _applied(message, composer, _ADDRESS_POINT, _in_a_transaction(composer, apply_register_events))


async def on_subscriber_events(
    values: list[bytes], message: Any = Context("message"), composer: Composer = Context("composer")
) -> None:
    """The changelog, a batch per transaction, into the targeting index."""
    await _applied(message, composer, _SUBSCRIBER_EVENT, _in_a_transaction(composer, apply_subscriber_events))


async def on_delivery_statuses(
    values: list[bytes], message: Any = Context("message"), composer: Composer = Context("composer")
) -> None:
    """The dispatchers' statuses, a batch per transaction, into the delivery rows."""

    async def apply(batch: Sequence[DeliveryStatusChanged]) -> None:
        await apply_statuses(sessions=composer.sessions, statuses=batch)

    await _applied(message, composer, _STATUS, apply)


async def _applied(
    message: Any, composer: Composer, adapter: TypeAdapter[T], apply: Callable[[Sequence[T]], Awaitable[None]]
) -> None:
    """The batch's records that validate, applied together; one that fails alone is dead-lettered."""
    items = await valid_pairs(
        composer.broker, service="composer", records=message.raw_message, adapter=adapter
    )
    await apply_isolated(composer.broker, service="composer", items=items, apply=apply)


def _in_a_transaction(
    composer: Composer, apply: Callable[[AsyncSession, Sequence[T]], Awaitable[object]]
) -> Callable[[Sequence[T]], Awaitable[None]]:
    async def applied(batch: Sequence[T]) -> None:
        async with composer.sessions() as session, session.begin():
            await apply(session, batch)

    return applied


def router(settings: Settings) -> KafkaRouter:
    kafka = settings.kafka
    return KafkaRouter(
        handlers=[
            KafkaRoute(
                on_address_points,
                ADDRESS_POINTS,
                batch=True,
                max_records=settings.index_batch_size,
                decoder=undecoded_batch,
                **consumer_options(kafka, group_id="composer.register"),
            ),
            KafkaRoute(
                on_subscriber_events,
                SUBSCRIBERS,
                batch=True,
                max_records=settings.index_batch_size,
                decoder=undecoded_batch,
                **consumer_options(kafka, group_id="composer.index"),
            ),
            KafkaRoute(
                on_delivery_statuses,
                DELIVERY_STATUS,
                batch=True,
                max_records=settings.status_batch_size,
                decoder=undecoded_batch,
                **consumer_options(kafka, group_id="composer.reports"),
            ),
        ]
    )
