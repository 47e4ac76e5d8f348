"""Builds a dispatcher service: a batch consumer per lane, one for cancellations, the retry worker,
health and the ledger."""

import functools
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import FastAPI
from faststream import Context
from pydantic import TypeAdapter

from hlasatel_contracts import (
    DEAD_LETTER,
    DELIVERY_REQUEST_BY_CHANNEL,
    DELIVERY_STATUS,
    LANES_BY_PRIORITY,
    MESSAGE_CANCELLATIONS,
    SUBSCRIBERS,
    Channel,
    DeadLetter,
    DeliveryStatusChanged,
    MessageCancelled,
    SubscriberErased,
    delivery_topic,
)
from hlasatel_dispatch import ledger
from hlasatel_dispatch.circuit import CircuitBreaker
from hlasatel_dispatch.config import AccountT, DispatchSettings
from hlasatel_dispatch.dispatcher import Account, Dispatcher
from hlasatel_dispatch.ledger import Base
from hlasatel_dispatch.limits import AccountLimits
from hlasatel_dispatch.providers import Provider, RequestT
from hlasatel_dispatch.retry import RetryPolicy
from hlasatel_runtime.database import build_engine, session_factory
from hlasatel_runtime.deadletter import dead_letter_middleware, undecoded_batch, valid_records
from hlasatel_runtime.kafka import build_broker, build_producer, consumer_options
from hlasatel_runtime.publisher import BatchPublisher, Record
from hlasatel_runtime.service import Runtime, build_app
from hlasatel_runtime.worker import Worker

_TOMBSTONE: TypeAdapter[SubscriberErased] = TypeAdapter(SubscriberErased)


def build_dispatcher_app(
    *,
    channel: Channel,
    settings: DispatchSettings[AccountT],
    provider: Callable[[AccountT], Provider[RequestT]],
) -> tuple[FastAPI, Dispatcher[RequestT]]:
    """Everything a dispatcher runs, built in one place and handed in by name. `provider` makes the client
    of one of the settings' accounts (named, with its timeout); the accounts are used in order of
    preference: the first while it works, the next while the one before keeps failing."""
    name = f"dispatch-{channel.value}"
    engine = build_engine(settings.database_url)
    sessions = session_factory(engine)
    broker = build_broker(settings.kafka, client_id=name, middlewares=[dead_letter_middleware(name)])
    dead_letters = broker.publisher(DEAD_LETTER, title=f"{name} dead letters")
    # statuses go out a chunk at a time, keyed by delivery: a delivery's statuses stay in order
    statuses = BatchPublisher(lambda: build_producer(settings.kafka, client_id=f"{name}.statuses"))

    async def publish_statuses(changes: Sequence[DeliveryStatusChanged]) -> None:
        await statuses.publish(
            [
                Record(
                    topic=DELIVERY_STATUS,
                    key=str(change.delivery_id).encode(),
                    value=change.model_dump_json().encode(),
                    correlation_id=str(change.delivery_id),
                )
                for change in changes
            ]
        )

    async def publish_dead_letter(letter: DeadLetter) -> None:
        await dead_letters.publish(letter, key=letter.key.encode() if letter.key else None)

    accounts: list[Account[RequestT]] = []
    for configured in settings.accounts:
        rate, concurrency = settings.limits_of(configured)
        limits = AccountLimits(rate_per_s=rate, concurrency=concurrency)
        accounts.append(Account(provider(configured), limits))
    dispatcher: Dispatcher[RequestT] = Dispatcher(
        channel=channel,
        accounts=accounts,
        sessions=sessions,
        publish_statuses=publish_statuses,
        publish_dead_letter=publish_dead_letter,
        retry=RetryPolicy(
            max_attempts=settings.retry_max_attempts, base_s=settings.retry_base_s, cap_s=settings.retry_cap_s
        ),
        breaker=functools.partial(
            CircuitBreaker,
            failure_threshold=settings.breaker_failures,
            reset_after_s=settings.breaker_reset_s,
        ),
        stale_after_s=settings.stale_after_s,
        # a day short of the ledger's memory: a request older than that could be a repeat it forgot
        max_request_age=timedelta(days=max(settings.ledger_retention_days - 1, 0.5)),
    )
    adapter: TypeAdapter[Any] = TypeAdapter(DELIVERY_REQUEST_BY_CHANNEL[channel])
    for lane in LANES_BY_PRIORITY:

        @broker.subscriber(
            delivery_topic(channel, lane),
            batch=True,
            max_records=settings.batch_size,
            decoder=undecoded_batch,
            **consumer_options(settings.kafka, group_id=f"{name}.{lane.value}"),
        )
        async def on_requests(values: list[bytes], message: Any = Context("message")) -> None:
            requests = await valid_records(broker, service=name, records=message.raw_message, adapter=adapter)
            await dispatcher.handle_batch(requests)

    # every replica shares the service's one database, so one group per service writes the cancellations
    @broker.subscriber(
        MESSAGE_CANCELLATIONS, **consumer_options(settings.kafka, group_id=f"{name}.cancellations")
    )
    async def on_cancellation(cancellation: MessageCancelled) -> None:
        await dispatcher.cancel(cancellation)

    # the registry's erasures, from the changelog's tombstones: what is still queued for them is not sent
    @broker.subscriber(
        SUBSCRIBERS,
        batch=True,
        max_records=500,
        decoder=undecoded_batch,
        **consumer_options(settings.kafka, group_id=f"{name}.erasures"),
    )
    async def on_changelog(values: list[bytes], message: Any = Context("message")) -> None:
        tombstones = [r for r in message.raw_message if r.value and b'"subscriber.erased"' in r.value]
        erased = await valid_records(broker, service=name, records=tombstones, adapter=_TOMBSTONE)
        await dispatcher.forget_erased([str(event.subscriber_id) for event in erased])

    async def retry_step(_: Any) -> bool:
        return await dispatcher.retry_due() > 0

    async def forget_step(_: Any) -> bool:
        before = datetime.now(UTC) - timedelta(days=settings.ledger_retention_days)
        async with sessions() as session, session.begin():
            await ledger.forget_older_than(session, before=before)
        return False

    retries = Worker(name=f"{name} retries", step=retry_step, idle_poll_s=settings.retry_poll_s)
    forgetting = Worker(name=f"{name} retention", step=forget_step, idle_poll_s=3600)
    runtime = Runtime(
        name=name,
        settings=settings,
        engine=engine,
        sessions=sessions,
        broker=broker,
        metadata=Base.metadata,
        background=[retries.run, forgetting.run],
    )
    for client in accounts:
        runtime.closers.append(client.provider.close)
    runtime.closers.append(statuses.close)
    app = build_app(
        runtime,
        title=f"Hlasatel {name}",
        description=f"Delivers {channel.value} messages from the bus to the provider.",
    )
    app.state.broker = broker  # for the tests of its consumers' wiring (TestKafkaBroker)
    return app, dispatcher
