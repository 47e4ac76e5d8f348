"""Targeting index, fan-out and statuses against a real database (SQLite, and PostgreSQL when set)."""

import asyncio
import csv
import itertools
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID, uuid4

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hlasatel_composer import handlers
from hlasatel_composer.adapters.fanout import FanOut
from hlasatel_composer.adapters.index import apply_subscriber_event
from hlasatel_composer.adapters.orm import Base, DeliveryRow
from hlasatel_composer.schemas import MessageCreate, PreviewRequest
from hlasatel_contracts import (
    CATEGORIES,
    AddressPoint,
    AddressRole,
    BuildingKind,
    Channel,
    Contact,
    DeliveryRequest,
    DeliveryState,
    DeliveryStatusChanged,
    IdentityLevel,
    Language,
    SubscribedAddress,
    SubscriberChanged,
    SubscriberErased,
)
from hlasatel_devstack.testing import sessions_on

SECRET = "test-secret"
_phones = itertools.count(1)


@pytest.fixture(scope="module")
def addresses(liberec_csv: Path) -> dict[str, list[AddressPoint]]:
    """Real Liberec address points by street, read straight from the RÚIAN file."""
    by_street: dict[str, list[AddressPoint]] = {}
    with liberec_csv.open(encoding="cp1250", newline="") as f:
        for row in csv.DictReader(f, delimiter=";"):
            point = AddressPoint(
                code=int(row["Kód ADM"]),
                district_code=int(row["Kód části obce"]),
                district=row["Název části obce"],
                street=row["Název ulice"] or None,
                building_kind=BuildingKind.POPISNE,
                building_number=int(row["Číslo domovní"]),
                postcode=row["PSČ"],
                orientation_number=int(row["Číslo orientační"]) if row["Číslo orientační"] else None,
            )
            by_street.setdefault(point.street or "", []).append(point)
    return by_street


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    async with sessions_on(database_url, Base.metadata) as sessions:
        yield sessions


def subscriber(
    *points: AddressPoint,
    version: int = 1,
    subscriber_id: UUID | None = None,
    verified: bool = True,
    identity: IdentityLevel = IdentityLevel.SELF_DECLARED,
    role: AddressRole = AddressRole.RESIDENT,
    phone: str | None = None,
) -> SubscriberChanged:
    sid = subscriber_id or uuid4()
    phone = phone or f"+420777{next(_phones):06d}"
    return SubscriberChanged(
        subscriber_id=sid,
        version=version,
        occurred_at=datetime.now(UTC),
        language=Language.CS,
        identity_level=identity,
        categories=list(CATEGORIES),
        addresses=[SubscribedAddress(address=p, role=role) for p in points],
        contacts=[
            Contact(contact_id=uuid4(), channel=Channel.SMS, value=phone, verified=verified, active=True),
            Contact(
                contact_id=uuid4(), channel=Channel.PUSH, value=f"token-{sid}", verified=True, active=True
            ),
        ],
    )


async def index(
    sessions: async_sessionmaker[AsyncSession], *events: SubscriberChanged | SubscriberErased
) -> None:
    for event in events:
        async with sessions() as session, session.begin():
            await apply_subscriber_event(session, event)


class Published:
    def __init__(self, fail_after: int | None = None) -> None:
        self.requests: list[tuple[str, DeliveryRequest]] = []
        self.fail_after = fail_after

    async def __call__(self, topic: str, key: bytes, request: DeliveryRequest) -> object:
        if self.fail_after is not None and len(self.requests) >= self.fail_after:
            raise ConnectionError("broker went away")
        self.requests.append((topic, request))
        return _done()

    def subscribers(self) -> set[UUID]:
        return {r.subscriber_id for _, r in self.requests}


def _done() -> "asyncio.Future[None]":
    """What the broker hands back for a record it has taken."""
    future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    future.set_result(None)
    return future


async def approved_message(sessions: async_sessionmaker[AsyncSession], target: dict) -> UUID:  # type: ignore[type-arg]
    data = MessageCreate.model_validate(
        {
            "severity": "warning",
            "category": "water",
            "target": target,
            "content": {"cs": {"sms": "Odstávka vody", "push": {"title": "Voda", "body": "Odstávka"}}},
        }
    )
    message = await handlers.create_message(sessions=sessions, data=data)
    await handlers.approve_message(
        sessions=sessions,
        fan_out=FanOut(contact_secret=SECRET, sessions=sessions, publish=Published()),
        message_id=message.id,
    )
    return message.id


class TestTargetingIndex:
    async def test_replay_and_stale_versions_change_nothing(
        self, sessions: async_sessionmaker[AsyncSession], addresses: dict[str, list[AddressPoint]]
    ) -> None:
        sid = uuid4()
        moved = subscriber(addresses["Jablonecká"][0], version=2, subscriber_id=sid)
        await index(sessions, subscriber(addresses["Masarykova"][0], subscriber_id=sid), moved)
        await index(sessions, subscriber(addresses["Masarykova"][0], subscriber_id=sid), moved)  # replay
        publish = Published()
        message_id = await approved_message(sessions, {"streets": [{"name": "Masarykova"}]})
        await FanOut(contact_secret=SECRET, sessions=sessions, publish=publish).fan_out(message_id)
        assert publish.requests == []

    async def test_an_erased_subscriber_is_never_targeted(
        self, sessions: async_sessionmaker[AsyncSession], addresses: dict[str, list[AddressPoint]]
    ) -> None:
        kept, erased = subscriber(addresses["Masarykova"][0]), subscriber(addresses["Masarykova"][1])
        tombstone = SubscriberErased(
            subscriber_id=erased.subscriber_id, version=2, occurred_at=datetime.now(UTC)
        )
        await index(
            sessions, kept, erased, tombstone, erased
        )  # the older change replayed after the tombstone
        publish = Published()
        await FanOut(contact_secret=SECRET, sessions=sessions, publish=publish).fan_out(
            await approved_message(sessions, {"streets": [{"name": "Masarykova"}]})
        )
        assert publish.subscribers() == {kept.subscriber_id}


class TestFanOut:
    async def test_a_street_reaches_its_subscribers_once_per_channel_and_nobody_else(
        self, sessions: async_sessionmaker[AsyncSession], addresses: dict[str, list[AddressPoint]]
    ) -> None:
        on_street = [subscriber(p) for p in addresses["Masarykova"][:5]]
        two_houses = subscriber(addresses["Masarykova"][5], addresses["Masarykova"][6])
        elsewhere = [subscriber(p) for p in addresses["Jablonecká"][:5]]
        await index(sessions, *on_street, two_houses, *elsewhere)
        publish = Published()
        message_id = await approved_message(sessions, {"streets": [{"name": "Masarykova"}]})
        assert (
            await FanOut(contact_secret=SECRET, sessions=sessions, publish=publish, batch_size=2).fan_out(
                message_id
            )
            == 12
        )
        assert publish.subscribers() == {s.subscriber_id for s in [*on_street, two_houses]}
        assert sorted({topic for topic, _ in publish.requests}) == [
            "deliveries.push.bulk.v1",
            "deliveries.sms.bulk.v1",
        ]
        message = await handlers.get_message(sessions=sessions, message_id=message_id)
        assert message.state == "sent"
        assert message.deliveries == {"sms": {"queued": 6}, "push": {"queued": 6}}

    async def test_a_street_within_one_district(
        self, sessions: async_sessionmaker[AsyncSession], addresses: dict[str, list[AddressPoint]]
    ) -> None:
        kubelikova = addresses["Kubelíkova"]
        districts = sorted({p.district for p in kubelikova})
        assert len(districts) == 5
        subscribers = [subscriber(p) for p in kubelikova]
        await index(sessions, *subscribers)
        publish = Published()
        message_id = await approved_message(
            sessions, {"streets": [{"name": "Kubelíkova", "district": districts[0]}]}
        )
        await FanOut(contact_secret=SECRET, sessions=sessions, publish=publish).fan_out(message_id)
        expected = {s.subscriber_id for s in subscribers if s.addresses[0].address.district == districts[0]}
        assert publish.subscribers() == expected

    async def test_resumes_after_a_crash_with_the_same_delivery_ids(
        self, sessions: async_sessionmaker[AsyncSession], addresses: dict[str, list[AddressPoint]]
    ) -> None:
        subscribers = [subscriber(p) for p in addresses["Masarykova"][:9]]
        await index(sessions, *subscribers)
        message_id = await approved_message(sessions, {"streets": [{"name": "Masarykova"}]})
        crashed = Published(fail_after=5)
        with pytest.raises(ConnectionError):
            await FanOut(contact_secret=SECRET, sessions=sessions, publish=crashed, batch_size=2).fan_out(
                message_id
            )
        resumed = Published()
        await FanOut(contact_secret=SECRET, sessions=sessions, publish=resumed, batch_size=2).fan_out(
            message_id
        )
        every_id = {r.delivery_id for _, r in crashed.requests + resumed.requests}
        assert len(every_id) == 18
        assert resumed.subscribers() | crashed.subscribers() == {s.subscriber_id for s in subscribers}
        async with sessions() as session:
            assert await session.scalar(select(func.count()).select_from(DeliveryRow)) == 18


class TestStatuses:
    async def test_counts_follow_statuses_and_never_go_back(
        self, sessions: async_sessionmaker[AsyncSession], addresses: dict[str, list[AddressPoint]]
    ) -> None:
        await index(sessions, subscriber(addresses["Masarykova"][0]))
        publish = Published()
        message_id = await approved_message(sessions, {"address_points": [addresses["Masarykova"][0].code]})
        await FanOut(contact_secret=SECRET, sessions=sessions, publish=publish).fan_out(message_id)
        sms = next(r for _, r in publish.requests if r.channel is Channel.SMS)

        def status(state: DeliveryState) -> DeliveryStatusChanged:
            return DeliveryStatusChanged(
                delivery_id=sms.delivery_id,
                message_id=message_id,
                subscriber_id=sms.subscriber_id,
                contact_id=sms.contact_id,
                channel=Channel.SMS,
                state=state,
                occurred_at=datetime.now(UTC),
            )

        for state in (DeliveryState.ACCEPTED, DeliveryState.DELIVERED, DeliveryState.ACCEPTED):
            await handlers.apply_status(sessions=sessions, status=status(state))
        message = await handlers.get_message(sessions=sessions, message_id=message_id)
        assert message.deliveries == {"sms": {"delivered": 1}, "push": {"queued": 1}}
        assert message.recipients == 1


class TestPreview:
    async def test_preview_counts_what_the_fan_out_would_reach(
        self, sessions: async_sessionmaker[AsyncSession], addresses: dict[str, list[AddressPoint]]
    ) -> None:
        masarykova = addresses["Masarykova"]
        two_houses = subscriber(masarykova[0], masarykova[1])
        neighbour = subscriber(masarykova[1])
        elsewhere = subscriber(addresses["Jablonecká"][0])
        await index(sessions, two_houses, neighbour, elsewhere)
        preview = await handlers.preview(
            sessions=sessions,
            request=PreviewRequest.model_validate({"target": {"streets": [{"name": "Masarykova"}]}}),
        )
        assert (preview.address_points, preview.subscribers) == (2, 2)
        assert preview.deliveries == {"sms": 2, "email": 0, "push": 2}
        assert preview.streets == [f"Masarykova ({masarykova[0].district})"]


class TestWhoIsReached:
    async def test_unverified_contacts_receive_nothing(
        self, sessions: async_sessionmaker[AsyncSession], addresses: dict[str, list[AddressPoint]]
    ) -> None:
        await index(sessions, subscriber(addresses["Masarykova"][0], verified=False))
        publish = Published()
        await FanOut(contact_secret=SECRET, sessions=sessions, publish=publish).fan_out(
            await approved_message(sessions, {"streets": [{"name": "Masarykova"}]})
        )
        assert [r.channel for _, r in publish.requests] == [Channel.PUSH]

    async def test_verified_residents_only(
        self, sessions: async_sessionmaker[AsyncSession], addresses: dict[str, list[AddressPoint]]
    ) -> None:
        house = addresses["Masarykova"][0]
        resident = subscriber(house, identity=IdentityLevel.VERIFIED)
        owner = subscriber(house, identity=IdentityLevel.VERIFIED, role=AddressRole.OWNER)
        self_declared = subscriber(house)
        await index(sessions, resident, owner, self_declared)
        publish = Published()
        target = {
            "address_points": [house.code],
            "filters": {"identity_level": "verified", "roles": ["resident"]},
        }
        await FanOut(contact_secret=SECRET, sessions=sessions, publish=publish).fan_out(
            await approved_message(sessions, target)
        )
        assert publish.subscribers() == {resident.subscriber_id}


class TestOnePersonOnce:
    async def test_a_phone_in_two_subscriptions_gets_one_sms(
        self, sessions: async_sessionmaker[AsyncSession], addresses: dict[str, list[AddressPoint]]
    ) -> None:
        first = subscriber(addresses["Masarykova"][0], phone="+420777123456")
        second = subscriber(addresses["Masarykova"][1], phone="+420777123456")
        await index(sessions, first, second)
        for batch_size in (500, 1):  # in one batch and across batches
            publish = Published()
            message_id = await approved_message(sessions, {"streets": [{"name": "Masarykova"}]})
            await FanOut(
                contact_secret=SECRET, sessions=sessions, publish=publish, batch_size=batch_size
            ).fan_out(message_id)
            sms_ids = {r.delivery_id for _, r in publish.requests if r.channel is Channel.SMS}
            assert len(sms_ids) == 1
            message = await handlers.get_message(sessions=sessions, message_id=message_id)
            assert message.deliveries["sms"] == {"queued": 1} and message.deliveries["push"] == {"queued": 2}


class TestFastStatuses:
    async def test_a_status_arriving_while_the_batch_is_still_being_published_is_counted(
        self, sessions: async_sessionmaker[AsyncSession], addresses: dict[str, list[AddressPoint]]
    ) -> None:
        await index(sessions, *(subscriber(p) for p in addresses["Masarykova"][:3]))
        message_id = await approved_message(sessions, {"streets": [{"name": "Masarykova"}]})

        async def dispatcher_at_once(topic: str, key: bytes, request: DeliveryRequest) -> object:
            # a dispatcher so fast that its status comes back before the fan-out has finished publishing
            await handlers.apply_status(
                sessions=sessions,
                status=DeliveryStatusChanged(
                    delivery_id=request.delivery_id,
                    message_id=request.message_id,
                    subscriber_id=request.subscriber_id,
                    contact_id=request.contact_id,
                    channel=request.channel,
                    state=DeliveryState.ACCEPTED,
                    occurred_at=datetime.now(UTC),
                ),
            )
            return _done()

        await FanOut(contact_secret=SECRET, sessions=sessions, publish=dispatcher_at_once).fan_out(message_id)
        message = await handlers.get_message(sessions=sessions, message_id=message_id)
        assert message.deliveries == {"sms": {"accepted": 3}, "push": {"accepted": 3}}
