"""Reconciliation: deliveries a lost broker swallowed are published again, the same ones, until a
dispatcher reports on them or the composer gives up and reports them failed."""

from datetime import UTC, datetime
from typing import Any

from hlasatel_composer.handlers import messages, statuses
from hlasatel_composer.handlers.redrive import Redrive
from hlasatel_contracts import AddressPoint, DeliveryState, DeliveryStatusChanged

Addresses = dict[str, list[AddressPoint]]


def redrive(harness: Any, publish: Any, max_redrives: int = 3) -> Redrive:
    return Redrive(
        sessions=harness.sessions,
        publish=publish,
        contact_secret=harness.secret,
        unsubscribe_base_url=None,
        after_s=0,
        max_redrives=max_redrives,
        poll_s=1,
    )


def bus(harness: Any) -> Any:
    """A fresh recording bus, of the harness's own kind."""
    return type(harness.published)()


class TestRedrive:
    async def test_deliveries_without_a_status_go_out_again_the_same(
        self, harness: Any, addresses: Addresses
    ) -> None:
        await harness.index(*(harness.subscriber(p) for p in addresses["Masarykova"][:3]))
        message_id = await harness.send({"streets": [{"name": "Masarykova"}]})
        lost = harness.published.requests
        again = bus(harness)
        assert await redrive(harness, again).redrive() == len(lost)

        def same(requests: list[Any]) -> dict[Any, dict[str, Any]]:
            return {r.delivery_id: r.model_dump(exclude={"requested_at"}) for r in requests}

        assert same(again.requests) == same(lost)
        # a dispatcher reports on one: it is not sent again
        reported = lost[0]
        await statuses.apply_status(
            sessions=harness.sessions,
            status=DeliveryStatusChanged(
                delivery_id=reported.delivery_id,
                message_id=message_id,
                subscriber_id=reported.subscriber_id,
                contact_id=reported.contact_id,
                channel=reported.channel,
                state=DeliveryState.ACCEPTED,
                occurred_at=datetime.now(UTC),
            ),
        )
        once_more = bus(harness)
        await redrive(harness, once_more).redrive()
        assert {r.delivery_id for r in once_more.requests} == {r.delivery_id for r in lost[1:]}

    async def test_after_the_last_attempt_the_delivery_is_reported_failed(
        self, harness: Any, addresses: Addresses
    ) -> None:
        await harness.index(harness.subscriber(addresses["Masarykova"][0], push=False))
        message_id = await harness.send({"streets": [{"name": "Masarykova"}]})
        worker = redrive(harness, bus(harness), max_redrives=1)
        assert await worker.redrive() == 1
        assert await worker.redrive() == 1
        message = await messages.get_message(uow=harness.uow, message_id=message_id)
        assert message.deliveries == {"sms": {"failed": 1}}
        assert await worker.redrive() == 0

    async def test_a_cancelled_message_is_not_driven_again(self, harness: Any, addresses: Addresses) -> None:
        await harness.index(harness.subscriber(addresses["Masarykova"][0]))
        message_id = await harness.send({"streets": [{"name": "Masarykova"}]})
        await messages.cancel_message(
            uow=harness.uow,
            principal=harness.approver,
            message_id=message_id,
        )
        again = bus(harness)
        assert await redrive(harness, again).redrive() == 0 and again.requests == []
