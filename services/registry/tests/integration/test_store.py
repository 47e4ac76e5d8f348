"""The registry against a real database: SQLite, and PostgreSQL when DATABASE_URL is set."""

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import replace

import pytest
from pydantic import TypeAdapter, ValidationError
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hlasatel_contracts import (
    ADDRESS_POINTS,
    SUBSCRIBERS,
    AddressPointChanged,
    SubscriberChanged,
    SubscriberEvent,
)
from hlasatel_registry.adapters.address_search import AddressSearch
from hlasatel_registry.adapters.orm import AddressPointRow, OutboxRow
from hlasatel_registry.adapters.outbox import OutboxRelay
from hlasatel_registry.domain.gazetteer import AddressRecord
from hlasatel_registry.handlers import addresses, subscribers
from hlasatel_registry.schemas import SubscriberCreate, SubscriberCreated
from hlasatel_runtime.secrets import KeyRing

MASARYKOVA_12 = 23657235
Register = Callable[..., Awaitable[SubscriberCreated]]  # the conftest's register fixture
Gazetteer = Callable[..., Awaitable[str]]  # the conftest's gazetteer fixture


class TestGazetteerImport:
    async def test_import_then_reimport_changes_nothing(
        self, sessions: async_sessionmaker[AsyncSession], records: list[AddressRecord], gazetteer: Gazetteer
    ) -> None:
        assert await gazetteer(records) == "added 16140, updated 0, retired 0, unchanged 0"
        assert await gazetteer(records) == "added 0, updated 0, retired 0, unchanged 16140"

    async def test_next_months_file_updates_adds_and_retires(
        self, sessions: async_sessionmaker[AsyncSession], records: list[AddressRecord], gazetteer: Gazetteer
    ) -> None:
        await gazetteer(records[:-1])
        renamed = replace(records[0], postcode="46099")
        next_month = [renamed, *records[2:]]
        assert await gazetteer(next_month) == "added 1, updated 1, retired 1, unchanged 16137"
        async with sessions() as session:
            gone = await session.get(AddressPointRow, records[1].code)
            assert gone is not None and gone.retired_at is not None
            assert (await session.get(AddressPointRow, records[0].code)).postcode == "46099"  # type: ignore[union-attr]
        # the retired point comes back when a later file has it again
        assert (await gazetteer(records)).startswith("added 0, updated 2, retired 0")

    async def test_coordinates_are_stored_in_wgs84(
        self, sessions: async_sessionmaker[AsyncSession], records: list[AddressRecord], gazetteer: Gazetteer
    ) -> None:
        await gazetteer(records)
        async with sessions() as session:
            in_liberec = await session.scalar(
                select(func.count()).where(
                    AddressPointRow.latitude.between(50.66, 50.83),
                    AddressPointRow.longitude.between(14.93, 15.17),
                )
            )
        assert in_liberec == 16_140


class TestRegistration:
    async def test_registration_writes_the_full_state_to_the_outbox(
        self,
        sessions: async_sessionmaker[AsyncSession],
        records: list[AddressRecord],
        register: Register,
        gazetteer: Gazetteer,
    ) -> None:
        await gazetteer(records)
        created = await register(
            {
                "addresses": [{"address_point": MASARYKOVA_12, "role": "owner"}],
                "contacts": [
                    {"channel": "sms", "value": "777 123 456"},
                    {"channel": "email", "value": "a@b.cz"},
                ],
                "language": "en",
            }
        )
        async with sessions() as session:
            (row,) = (await session.scalars(select(OutboxRow).where(OutboxRow.topic == SUBSCRIBERS))).all()
        assert row.key == str(created.id)
        event = TypeAdapter(SubscriberEvent).validate_json(row.payload)
        assert isinstance(event, SubscriberChanged)
        assert event.version == 1
        assert event.addresses[0].address.street == "Masarykova"
        assert event.addresses[0].address.orientation_number == 12
        assert [(c.channel.value, c.value, c.verified) for c in event.contacts] == [
            ("sms", "+420777123456", False),
            ("email", "a@b.cz", False),
        ]
        assert event.unsubscribe_token

    async def test_unknown_address_point_is_refused_and_nothing_is_stored(
        self,
        sessions: async_sessionmaker[AsyncSession],
        records: list[AddressRecord],
        register: Register,
        gazetteer: Gazetteer,
    ) -> None:
        await gazetteer(records[:10])
        with pytest.raises(subscribers.UnknownAddressPoints, match="unknown address points: 1"):
            await register(
                {"addresses": [{"address_point": 1}], "contacts": [{"channel": "push", "value": "tok"}]}
            )
        async with sessions() as session:
            assert await session.scalar(select(func.count()).select_from(OutboxRow)) == 0

    def test_invalid_contact_names_the_field(self) -> None:
        with pytest.raises(ValidationError) as caught:
            SubscriberCreate.model_validate(
                {"addresses": [{"address_point": 1}], "contacts": [{"channel": "sms", "value": "12"}]}
            )
        assert caught.value.errors()[0]["loc"] == ("contacts", 0)

    def test_unknown_category_names_the_field(self) -> None:
        with pytest.raises(ValidationError) as caught:
            SubscriberCreate.model_validate(
                {
                    "addresses": [{"address_point": 1}],
                    "contacts": [{"channel": "push", "value": "t"}],
                    "categories": ["football"],
                }
            )
        assert caught.value.errors()[0]["loc"] == ("categories", 0)


def _push_only(code: int, token: str) -> dict[str, object]:
    return {"addresses": [{"address_point": code}], "contacts": [{"channel": "push", "value": token}]}


class TestOutboxRelay:
    async def test_relay_publishes_in_order_once_and_marks_rows(
        self,
        sessions: async_sessionmaker[AsyncSession],
        records: list[AddressRecord],
        register: Register,
        gazetteer: Gazetteer,
    ) -> None:
        await gazetteer(records[:50])
        published: list[tuple[str, bytes, bytes]] = []

        async def publish(topic: str, key: bytes, payload: bytes) -> object:
            published.append((topic, key, payload))
            return _done()

        for code in [r.code for r in records[:3]]:
            await register(_push_only(code, f"t{code}"))
        relay = OutboxRelay(sessions=sessions, publish=publish, batch_size=2)
        assert [await relay.relay_once() for _ in range(3)] == [2, 1, 0]
        async with sessions() as session:
            assert await session.scalar(select(func.count()).select_from(OutboxRow)) == 0, (
                "published rows are gone"
            )
        tokens = [json.loads(p)["contacts"][0]["value"] for _, _, p in published]
        assert tokens == [f"t{r.code}" for r in records[:3]]

    async def test_a_failed_publish_leaves_rows_for_the_next_attempt(
        self,
        sessions: async_sessionmaker[AsyncSession],
        records: list[AddressRecord],
        register: Register,
        gazetteer: Gazetteer,
    ) -> None:
        await gazetteer(records[:5])

        async def broker_down(topic: str, key: bytes, payload: bytes) -> object:
            raise ConnectionError("broker down")

        await register(_push_only(records[0].code, "t"))
        with pytest.raises(ConnectionError):
            await OutboxRelay(sessions=sessions, publish=broker_down).relay_once()
        async with sessions() as session:
            assert await session.scalar(select(func.count()).select_from(OutboxRow)) == 1


def _done() -> "asyncio.Future[None]":
    """What the broker hands back for a record it has taken."""
    future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    future.set_result(None)
    return future


class TestAddressSearch:
    async def test_search_answers_from_the_database_and_follows_a_new_import(
        self, sessions: async_sessionmaker[AsyncSession], records: list[AddressRecord], gazetteer: Gazetteer
    ) -> None:
        search = AddressSearch(sessions)
        without_masarykova = [r for r in records if r.street != "Masarykova"]
        await gazetteer(without_masarykova)
        with pytest.raises(addresses.NoAddressMatches):
            await addresses.search_addresses(sessions=sessions, search=search, text="Masarykova 12", limit=5)
        await gazetteer(records)
        found = await addresses.search_addresses(
            sessions=sessions, search=search, text="Masarykova 12", limit=5
        )
        assert found.results[0].label == "Masarykova 522/12, Liberec I-Staré Město, 460 01"

    async def test_no_match_comes_with_the_nearest_addresses(
        self, sessions: async_sessionmaker[AsyncSession], records: list[AddressRecord], gazetteer: Gazetteer
    ) -> None:
        await gazetteer(records)
        search = AddressSearch(sessions)
        with pytest.raises(addresses.NoAddressMatches) as caught:
            await addresses.search_addresses(sessions=sessions, search=search, text="Masarykova 47", limit=5)
        assert caught.value.suggestions[0].label.startswith("Masarykova 988/46,")

    async def test_streets_of_a_district(
        self, sessions: async_sessionmaker[AsyncSession], records: list[AddressRecord], gazetteer: Gazetteer
    ) -> None:
        await gazetteer(records)
        rochlice = next(r.district_code for r in records if r.district == "Liberec VI-Rochlice")
        streets = await addresses.list_streets(sessions=sessions, district_code=rochlice)
        kubelikova = [s for s in streets if s.name == "Kubelíkova"]  # crosses five districts
        assert [s.address_points for s in kubelikova] == [7]
        assert sum(s.address_points for s in streets) == sum(
            1 for r in records if r.district_code == rochlice and r.street
        )


class TestReimportReachesTheChangelog:
    async def test_a_renamed_street_is_announced_for_its_subscribers(
        self, sessions: async_sessionmaker[AsyncSession], records: list[AddressRecord], register: Register
    ) -> None:
        masarykova = [r for r in records if r.street == "Masarykova"]
        await addresses.import_gazetteer(
            sessions=sessions, records=masarykova, source="2023-12", keys=KeyRing("test")
        )
        created = await register(_push_only(MASARYKOVA_12, "t"))
        renamed = [
            replace(r, street="Masarykova třída") if r.code == MASARYKOVA_12 else r for r in masarykova
        ]
        counts, announced = await addresses.import_gazetteer(
            keys=KeyRing("test"), sessions=sessions, records=renamed, source="2024-01"
        )
        assert (counts.updated, announced) == (1, 1)
        async with sessions() as session:
            payload = await session.scalar(
                select(OutboxRow.payload)
                .where(OutboxRow.topic == SUBSCRIBERS)
                .order_by(OutboxRow.id.desc())
                .limit(1)
            )
        state = SubscriberChanged.model_validate_json(payload or "")
        assert (state.subscriber_id, state.version) == (created.id, 2)
        assert state.addresses[0].address.street == "Masarykova třída"


class TestTheRegisterOnTheBus:
    """An import announces what it changed on registry.address-points.v1, through the outbox, in its own
    transaction: the first import every point, next month's file its changes only."""

    @staticmethod
    async def announced(sessions: async_sessionmaker[AsyncSession]) -> list[AddressPointChanged]:
        async with sessions() as session, session.begin():
            rows = list(
                await session.scalars(
                    select(OutboxRow).where(OutboxRow.topic == ADDRESS_POINTS).order_by(OutboxRow.id)
                )
            )
            for row in rows:
                await session.delete(row)  # as the relay does once they are on the bus
        return [AddressPointChanged.model_validate_json(row.payload) for row in rows]

    async def test_a_reimport_announces_the_changes_only(
        self, sessions: async_sessionmaker[AsyncSession], records: list[AddressRecord]
    ) -> None:
        async def load(subset: list[AddressRecord]) -> None:
            await addresses.import_gazetteer(
                sessions=sessions, records=subset, source="x", keys=KeyRing("test")
            )

        await load(records[:-1])
        first = await self.announced(sessions)
        assert len(first) == 16_139 and {e.version for e in first} == {1}
        assert {e.municipality_code for e in first} == {563889} and first[0].address.latitude is not None
        await load(records[:-1])
        assert await self.announced(sessions) == []
        renamed = replace(records[0], postcode="46099")
        await load([renamed, *records[2:]])
        changes = {e.address.code: e for e in await self.announced(sessions)}
        assert set(changes) == {records[0].code, records[1].code, records[-1].code}
        assert (changes[records[0].code].version, changes[records[0].code].address.postcode) == (2, "46099")
        retired = changes[records[1].code]
        assert retired.version == 2 and retired.retired_at is not None
        assert retired.address.street == records[1].street  # a retirement carries the point's whole state
        assert (changes[records[-1].code].version, changes[records[-1].code].retired_at) == (1, None)
        # the whole register again, as it is now, on request
        assert await addresses.announce_register(sessions=sessions) == 16_140
        again = {e.address.code: e for e in await self.announced(sessions)}
        assert len(again) == 16_140 and again[records[1].code] == retired.model_copy(
            update={"occurred_at": again[records[1].code].occurred_at}
        )
