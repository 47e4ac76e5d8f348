"""Targeting index, fan-out and statuses against a real database (SQLite, and PostgreSQL when set)."""

from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import pytest
from sqlalchemy import func, select

from hlasatel_composer.adapters.orm import DeliveryRow
from hlasatel_composer.handlers import messages, statuses
from hlasatel_contracts import (
    AddressPoint,
    AddressRole,
    Channel,
    DeliveryRequest,
    DeliveryState,
    IdentityLevel,
    SubscriberErased,
)

from ..conftest import status_of

Addresses = dict[str, list[AddressPoint]]


class TestTargetingIndex:
    async def test_replay_and_stale_versions_change_nothing(self, harness: Any, addresses: Addresses) -> None:
        sid = uuid4()
        first = harness.subscriber(addresses["Masarykova"][0], subscriber_id=sid)
        moved = harness.subscriber(addresses["Jablonecká"][0], version=2, subscriber_id=sid)
        await harness.index(first, moved)
        await harness.index(first, moved)  # a replay from the beginning
        await harness.index(first)  # and the old version once more on its own
        await harness.send({"streets": [{"name": "Masarykova"}]})
        assert harness.published.requests == []

    async def test_an_address_point_renamed_by_a_later_record_is_targeted_by_its_new_street(
        self, harness: Any, addresses: Addresses
    ) -> None:
        point = addresses["Masarykova"][0]
        renamed = point.model_copy(update={"street": "Nová ulice"})
        there = harness.subscriber(point)
        neighbour = harness.subscriber(renamed)  # a record after RÚIAN renamed the street
        await harness.index(there)
        await harness.index(neighbour)
        await harness.send({"streets": [{"name": "Masarykova"}]})
        assert harness.published.requests == []
        await harness.send({"streets": [{"name": "Nová ulice"}]})
        assert harness.published.subscribers() == {there.subscriber_id, neighbour.subscriber_id}

    async def test_an_erased_subscriber_is_never_targeted(self, harness: Any, addresses: Addresses) -> None:
        kept = harness.subscriber(addresses["Masarykova"][0])
        erased = harness.subscriber(addresses["Masarykova"][1])
        tombstone = SubscriberErased(
            subscriber_id=erased.subscriber_id, version=2, occurred_at=datetime.now(UTC)
        )
        await harness.index(kept, erased, tombstone)
        await harness.index(erased)  # the older change replayed after the tombstone
        await harness.send({"streets": [{"name": "Masarykova"}]})
        assert harness.published.subscribers() == {kept.subscriber_id}


class TestFanOut:
    async def test_a_street_reaches_its_subscribers_once_per_channel_and_nobody_else(
        self, harness: Any, addresses: Addresses
    ) -> None:
        on_street = [harness.subscriber(p) for p in addresses["Masarykova"][:5]]
        two_houses = harness.subscriber(addresses["Masarykova"][5], addresses["Masarykova"][6])
        elsewhere = [harness.subscriber(p) for p in addresses["Jablonecká"][:5]]
        await harness.index(*on_street, two_houses, *elsewhere)
        message_id = await harness.send({"streets": [{"name": "Masarykova"}]}, batch_size=2)
        assert len(harness.published.requests) == 12
        assert harness.published.subscribers() == {s.subscriber_id for s in [*on_street, two_houses]}
        assert {r.channel for r in harness.published.requests} == {Channel.SMS, Channel.PUSH}
        message = await messages.get_message(uow=harness.uow, message_id=message_id)
        assert message.state == "done"
        assert message.deliveries == {"sms": {"queued": 6}, "push": {"queued": 6}}

    async def test_resumes_after_a_crash_with_the_same_delivery_ids(
        self, harness: Any, addresses: Addresses
    ) -> None:
        subscribers = [harness.subscriber(p) for p in addresses["Masarykova"][:9]]
        await harness.index(*subscribers)
        message_id = await harness.approved({"streets": [{"name": "Masarykova"}]})
        crashed = type(harness.published)(fail_after=5)
        with pytest.raises(ConnectionError):
            await harness.fan_out(crashed, batch_size=2).fan_out(message_id)
        resumed = type(harness.published)()
        await harness.fan_out(resumed, batch_size=2).fan_out(message_id)
        every_id = {r.delivery_id for r in crashed.requests + resumed.requests}
        assert len(every_id) == 18
        assert resumed.subscribers() | crashed.subscribers() == {s.subscriber_id for s in subscribers}
        # only the batch in flight at the crash is published twice
        assert len(crashed.requests) + len(resumed.requests) - 18 <= 4
        async with harness.sessions() as session:
            assert await session.scalar(select(func.count()).select_from(DeliveryRow)) == 18

    async def test_an_emergency_approved_during_a_newsletters_fan_out_goes_out_next(
        self, harness: Any, addresses: Addresses
    ) -> None:
        town = [harness.subscriber(p) for p in addresses["Masarykova"][:9]]
        street = [harness.subscriber(p) for p in addresses["Husova"][:2]]
        await harness.index(*town, *street)
        fan_out = harness.fan_out(batch_size=2)
        newsletter = await harness.approved({"city": True}, severity="info")
        assert await fan_out.next_batch()
        emergency = await harness.approved({"streets": [{"name": "Husova"}]}, severity="emergency")
        while await fan_out.next_batch():
            pass
        order = [r.message_id for r in harness.published.requests]
        # the newsletter's first batch, then the emergency, then the rest of the newsletter
        assert order[: order.index(emergency)] == [newsletter] * 4  # 2 subscribers, sms and push each
        assert order.count(emergency) == 4
        assert set(order[order.index(emergency) + 4 :]) == {newsletter}
        assert len(order) == 4 + (len(town) + len(street)) * 2


class TestStatuses:
    async def test_counts_follow_statuses_and_never_go_back(self, harness: Any, addresses: Addresses) -> None:
        await harness.index(harness.subscriber(addresses["Masarykova"][0]))
        message_id = await harness.send({"address_points": [addresses["Masarykova"][0].code]})
        sms = next(r for r in harness.published.requests if r.channel is Channel.SMS)
        for state in (DeliveryState.ACCEPTED, DeliveryState.DELIVERED, DeliveryState.ACCEPTED):
            await statuses.apply_status(sessions=harness.sessions, status=status_of(sms, state))
        message = await messages.get_message(uow=harness.uow, message_id=message_id)
        assert message.deliveries == {"sms": {"delivered": 1}, "push": {"queued": 1}}
        assert message.recipients == 1

    async def test_a_status_arriving_while_the_batch_is_still_being_published_is_counted(
        self, harness: Any, addresses: Addresses
    ) -> None:
        await harness.index(*(harness.subscriber(p) for p in addresses["Masarykova"][:3]))
        message_id = await harness.approved({"streets": [{"name": "Masarykova"}]})

        async def dispatcher_at_once(requests: list[DeliveryRequest]) -> None:
            # a dispatcher so fast that its status comes back before the fan-out has finished publishing
            for request in requests:
                await statuses.apply_status(
                    sessions=harness.sessions, status=status_of(request, DeliveryState.ACCEPTED)
                )

        await harness.fan_out(dispatcher_at_once).fan_out(message_id)
        message = await messages.get_message(uow=harness.uow, message_id=message_id)
        assert message.deliveries == {"sms": {"accepted": 3}, "push": {"accepted": 3}}


class TestWhoIsReached:
    async def test_unverified_contacts_receive_nothing(self, harness: Any, addresses: Addresses) -> None:
        await harness.index(harness.subscriber(addresses["Masarykova"][0], verified=False))
        await harness.send({"streets": [{"name": "Masarykova"}]})
        assert [r.channel for r in harness.published.requests] == [Channel.PUSH]

    async def test_verified_residents_only(self, harness: Any, addresses: Addresses) -> None:
        house = addresses["Masarykova"][0]
        resident = harness.subscriber(house, identity=IdentityLevel.VERIFIED)
        owner = harness.subscriber(house, identity=IdentityLevel.VERIFIED, role=AddressRole.OWNER)
        self_declared = harness.subscriber(house)
        await harness.index(resident, owner, self_declared)
        await harness.send(
            {"address_points": [house.code], "filters": {"identity_level": "verified", "roles": ["resident"]}}
        )
        assert harness.published.subscribers() == {resident.subscriber_id}

    async def test_only_subscribers_of_the_category_unless_it_is_an_emergency(
        self, harness: Any, addresses: Addresses
    ) -> None:
        house = addresses["Masarykova"][0]
        water, culture = harness.subscriber(house), harness.subscriber(house, categories=["culture"])
        await harness.index(water, culture)
        await harness.send({"address_points": [house.code]})
        assert harness.published.subscribers() == {water.subscriber_id}
        harness.published.requests.clear()
        await harness.send({"address_points": [house.code]}, severity="emergency")
        assert harness.published.subscribers() == {water.subscriber_id, culture.subscriber_id}
        assert {r.lane.value for r in harness.published.requests} == {"emergency"}


class TestOnePersonOnce:
    async def test_a_phone_in_two_subscriptions_gets_one_sms(
        self, harness: Any, addresses: Addresses
    ) -> None:
        first = harness.subscriber(addresses["Masarykova"][0], phone="+420777123456")
        second = harness.subscriber(addresses["Masarykova"][1], phone="+420777123456")
        await harness.index(first, second)
        for batch_size in (500, 1):  # in one batch and across batches
            harness.published.requests.clear()
            message_id = await harness.send({"streets": [{"name": "Masarykova"}]}, batch_size=batch_size)
            sms = [r for r in harness.published.requests if r.channel is Channel.SMS]
            assert len(sms) == 1, "the phone's SMS is published once, not once per subscription"
            message = await messages.get_message(uow=harness.uow, message_id=message_id)
            assert message.deliveries["sms"] == {"queued": 1} and message.deliveries["push"] == {"queued": 2}

    async def test_a_subscriber_at_several_targeted_houses_gets_one_message_per_channel(
        self, harness: Any, addresses: Addresses
    ) -> None:
        street = addresses["Masarykova"]
        landlord = harness.subscriber(street[0], street[1], street[2], role=AddressRole.OWNER)
        await harness.index(landlord)
        await harness.send({"address_points": [p.code for p in street[:3]]})
        assert sorted(r.channel.value for r in harness.published.requests) == ["push", "sms"]
