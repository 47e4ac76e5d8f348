"""What the registry consumes: delivery statuses, for contacts a provider says do not exist."""

from faststream import Context
from faststream.kafka import KafkaRoute, KafkaRouter

from hlasatel_contracts import DELIVERY_STATUS, DeliveryStatusChanged
from hlasatel_registry.container import Registry
from hlasatel_registry.handlers.subscribers import deactivate_invalid_contact
from hlasatel_runtime.kafka import consumer_options
from hlasatel_runtime.settings import KafkaSettings


async def on_delivery_status(status: DeliveryStatusChanged, registry: Registry = Context("registry")) -> None:
    """A `contact_invalid` status deactivates the contact; any other status is not the registry's."""
    await deactivate_invalid_contact(
        sessions=registry.sessions, relay=registry.relay, status=status, settings=registry.settings
    )


def router(kafka: KafkaSettings) -> KafkaRouter:
    return KafkaRouter(
        handlers=[
            KafkaRoute(
                on_delivery_status, DELIVERY_STATUS, **consumer_options(kafka, group_id="registry.contacts")
            )
        ]
    )
