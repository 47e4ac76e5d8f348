"""Delivery requests onto the bus in batches, keyed by subscriber: one subscriber's deliveries stay in
order on one partition."""

from collections.abc import Callable, Sequence

from aiokafka import AIOKafkaProducer

from hlasatel_contracts import DeliveryRequest, delivery_topic
from hlasatel_runtime.publisher import BatchPublisher, Record


class DeliveryPublisher:
    """Publishes a list of requests and returns once the broker has them all."""

    def __init__(self, producer: Callable[[], AIOKafkaProducer]) -> None:
        self._batches = BatchPublisher(producer)

    async def __call__(self, requests: Sequence[DeliveryRequest]) -> None:
        await self._batches.publish(
            [
                Record(
                    topic=delivery_topic(request.channel, request.lane),
                    key=str(request.subscriber_id).encode(),
                    value=request.model_dump_json().encode(),
                    correlation_id=str(request.delivery_id),
                )
                for request in requests
            ]
        )

    async def close(self) -> None:
        await self._batches.close()
