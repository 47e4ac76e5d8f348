"""Builds a dispatcher service: a consumer per lane and one for cancellations, health, ledger."""

from fastapi import FastAPI

from hlasatel_contracts import (
    DELIVERY_REQUEST_BY_CHANNEL,
    DELIVERY_STATUS,
    LANES_BY_PRIORITY,
    MESSAGE_CANCELLATIONS,
    Channel,
    DeliveryStatusChanged,
    MessageCancelled,
    delivery_topic,
)
from hlasatel_dispatch.dispatcher import Dispatcher
from hlasatel_dispatch.ledger import Base
from hlasatel_dispatch.providers import Provider, RequestT
from hlasatel_runtime.database import build_engine, session_factory
from hlasatel_runtime.deadletter import dead_letter_middleware
from hlasatel_runtime.kafka import build_broker, consumer_options
from hlasatel_runtime.service import Runtime, build_app
from hlasatel_runtime.settings import ServiceSettings


def build_dispatcher_app(
    *, channel: Channel, settings: ServiceSettings, provider: Provider[RequestT]
) -> tuple[FastAPI, Dispatcher[RequestT]]:
    """Everything a dispatcher runs, built in one place and handed in by name."""
    name = f"dispatch-{channel.value}"
    engine = build_engine(settings.database_url)
    sessions = session_factory(engine)
    broker = build_broker(settings.kafka, client_id=name, middlewares=[dead_letter_middleware(name)])
    status_publisher = broker.publisher(DELIVERY_STATUS, title=f"{name} statuses")

    async def publish_status(status: DeliveryStatusChanged) -> None:
        await status_publisher.publish(status, key=str(status.delivery_id).encode())

    dispatcher: Dispatcher[RequestT] = Dispatcher(
        channel=channel, provider=provider, sessions=sessions, publish_status=publish_status
    )
    model = DELIVERY_REQUEST_BY_CHANNEL[channel]
    for lane in LANES_BY_PRIORITY:
        subscriber = broker.subscriber(
            delivery_topic(channel, lane), **consumer_options(settings.kafka, group_id=f"{name}.{lane.value}")
        )

        @subscriber
        async def on_request(request: model) -> None:  # type: ignore[valid-type]
            await dispatcher.handle(request)

    # every replica shares the service's one database, so one group per service writes the cancellations
    @broker.subscriber(
        MESSAGE_CANCELLATIONS, **consumer_options(settings.kafka, group_id=f"{name}.cancellations")
    )
    async def on_cancellation(cancellation: MessageCancelled) -> None:
        await dispatcher.cancel(cancellation)

    runtime = Runtime(
        name=name, settings=settings, engine=engine, sessions=sessions, broker=broker, metadata=Base.metadata
    )
    runtime.closers.append(provider.close)
    app = build_app(
        runtime,
        title=f"Hlasatel {name}",
        description=f"Delivers {channel.value} messages from the bus to the provider.",
    )
    return app, dispatcher
