"""Self-service, unsubscribe links, GDPR export and erasure, invalid contacts: handlers on a real database."""

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from uuid import UUID, uuid4

import pytest
from faststream.kafka import TestKafkaBroker
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hlasatel_contracts import (
    CATEGORIES,
    DELIVERY_STATUS,
    SUBSCRIBERS,
    Channel,
    DeliveryState,
    DeliveryStatusChanged,
    SubscriberChanged,
)
from hlasatel_registry.adapters.composer import ComposerHistory
from hlasatel_registry.adapters.orm import (
    ConsentRow,
    ContactRow,
    OutboxRow,
    SubscriberRow,
    VerificationCodeRow,
)
from hlasatel_registry.adapters.outbox import OutboxRelay
from hlasatel_registry.config import Settings
from hlasatel_registry.container import build_registry
from hlasatel_registry.domain.gazetteer import AddressRecord
from hlasatel_registry.entrypoints import consumer
from hlasatel_registry.handlers import erasure, subscribers, unsubscribe
from hlasatel_registry.handlers.common import NotAuthorized, NotFound
from hlasatel_registry.schemas import SubscriberCreated, SubscriberUpdate

Register = Callable[..., Awaitable[SubscriberCreated]]
MASARYKOVA_12, JABLONECKA_6 = 23657235, 23653141
JANA = {
    "addresses": [{"address_point": MASARYKOVA_12}],
    "contacts": [
        {"channel": "email", "value": "jana@example.cz"},
        {"channel": "push", "value": "push-token"},
    ],
    "categories": ["water", "traffic"],
}


@pytest.fixture(autouse=True)
async def streets(gazetteer: Callable[..., Awaitable[str]], records: list[AddressRecord]) -> None:
    await gazetteer([r for r in records if r.street in ("Masarykova", "Jablonecká")])


async def latest_state(sessions: async_sessionmaker[AsyncSession]) -> str:
    async with sessions() as session:
        row = await session.scalar(
            select(OutboxRow).where(OutboxRow.topic == SUBSCRIBERS).order_by(OutboxRow.id.desc()).limit(1)
        )
    assert row is not None
    return row.payload


class TestSelfService:
    async def test_preferences_and_addresses_change_and_each_change_is_consented(
        self,
        sessions: async_sessionmaker[AsyncSession],
        register: Register,
        relay: OutboxRelay,
        settings: Settings,
    ) -> None:
        created = await register(JANA)
        update = SubscriberUpdate.model_validate(
            {
                "language": "en",
                "categories": ["weather"],
                "addresses": [{"address_point": JABLONECKA_6, "role": "owner"}],
                "add_contacts": [{"channel": "sms", "value": "777 123 456"}],
            }
        )
        changed = await subscribers.update_subscriber(
            sessions=sessions,
            relay=relay,
            settings=settings,
            subscriber_id=created.id,
            token=created.access_token,
            data=update,
            ip=None,
        )
        assert (changed.language, changed.categories, changed.version) == ("en", ["weather"], 2)
        assert [(a.address_point, a.role) for a in changed.addresses] == [(JABLONECKA_6, "owner")]
        assert [c.channel for c in changed.contacts] == ["email", "push", "sms"]
        state = SubscriberChanged.model_validate_json(await latest_state(sessions))
        assert state.addresses[0].address.street == "Jablonecká" and state.version == 2
        async with sessions() as session:
            actions = list(await session.scalars(select(ConsentRow.action).order_by(ConsentRow.id)))
        assert actions == ["registered", "preferences_changed"]

    async def test_a_stranger_cannot_change_anything(
        self,
        sessions: async_sessionmaker[AsyncSession],
        register: Register,
        relay: OutboxRelay,
        settings: Settings,
    ) -> None:
        created = await register(JANA)
        with pytest.raises(NotAuthorized):
            await subscribers.update_subscriber(
                sessions=sessions,
                relay=relay,
                settings=settings,
                subscriber_id=created.id,
                token="nope",
                data=SubscriberUpdate(language=None, categories=[]),
                ip=None,
            )


class TestUnsubscribeLinks:
    @staticmethod
    async def _leave(
        sessions: async_sessionmaker[AsyncSession],
        relay: OutboxRelay,
        settings: Settings,
        code: str,
        *,
        category: str | None = None,
        confirmed: bool = False,
    ) -> bool:
        _, done = await unsubscribe.unsubscribe(
            sessions=sessions,
            relay=relay,
            settings=settings,
            code=code,
            category=category,
            confirmed=confirmed,
            via="email_link",
        )
        return done

    async def test_a_category_link_leaves_its_own_category_whatever_the_url_names(
        self,
        sessions: async_sessionmaker[AsyncSession],
        register: Register,
        relay: OutboxRelay,
        settings: Settings,
    ) -> None:
        await register(JANA)
        codes = SubscriberChanged.model_validate_json(await latest_state(sessions)).unsubscribe_tokens
        assert set(codes) == {*CATEGORIES, "all"} and len(set(codes.values())) == len(codes)
        assert await self._leave(sessions, relay, settings, codes["water"], category="traffic")
        state = SubscriberChanged.model_validate_json(await latest_state(sessions))
        assert state.categories == ["traffic"], "the water link left water, not the category in the URL"

    async def test_everything_asks_first_and_still_lets_emergencies_through(
        self,
        sessions: async_sessionmaker[AsyncSession],
        register: Register,
        relay: OutboxRelay,
        settings: Settings,
    ) -> None:
        await register(JANA)
        everything = SubscriberChanged.model_validate_json(await latest_state(sessions)).unsubscribe_tokens[
            "all"
        ]
        assert not await self._leave(sessions, relay, settings, everything)
        assert SubscriberChanged.model_validate_json(await latest_state(sessions)).categories == [
            "water",
            "traffic",
        ]
        assert await self._leave(sessions, relay, settings, everything, confirmed=True)
        state = SubscriberChanged.model_validate_json(await latest_state(sessions))
        assert state.categories == []
        assert [c.active for c in state.contacts] == [True, True], "an emergency still reaches them"

    async def test_a_link_of_an_older_message_leaves_the_category_it_names(
        self,
        sessions: async_sessionmaker[AsyncSession],
        register: Register,
        relay: OutboxRelay,
        settings: Settings,
    ) -> None:
        await register(JANA)
        legacy = SubscriberChanged.model_validate_json(await latest_state(sessions)).unsubscribe_token
        assert legacy
        assert await self._leave(sessions, relay, settings, legacy, category="water")
        assert SubscriberChanged.model_validate_json(await latest_state(sessions)).categories == ["traffic"]

    async def test_a_contact_deactivated_by_its_provider_is_switched_back_on_after_a_new_code(
        self,
        sessions: async_sessionmaker[AsyncSession],
        register: Register,
        relay: OutboxRelay,
        settings: Settings,
    ) -> None:
        created = await register(JANA)
        email = next(c for c in created.contacts if c.channel == "email")
        async with sessions() as session, session.begin():
            row = await session.get(ContactRow, email.id)
            assert row is not None
            row.active, row.deactivated_reason = False, "reported invalid by smtp"
        back = await subscribers.update_subscriber(
            sessions=sessions,
            relay=relay,
            settings=settings,
            subscriber_id=created.id,
            token=created.access_token,
            data=SubscriberUpdate.model_validate(
                {"add_contacts": [{"channel": "email", "value": "jana@example.cz"}]}
            ),
            ip=None,
        )
        again = next(c for c in back.contacts if c.channel == "email")
        assert (again.active, again.verified) == (True, False)
        async with sessions() as session:
            codes = await session.scalar(select(func.count()).select_from(VerificationCodeRow))
        assert codes == 2, "a new code was sent"

    async def test_a_forged_link_does_nothing(
        self,
        sessions: async_sessionmaker[AsyncSession],
        register: Register,
        relay: OutboxRelay,
        settings: Settings,
    ) -> None:
        await register(JANA)
        code = SubscriberChanged.model_validate_json(await latest_state(sessions)).unsubscribe_tokens["water"]
        forged = code[:-2] + ("AA" if code[-2:] != "AA" else "BB")
        with pytest.raises(NotFound):
            await self._leave(sessions, relay, settings, forged, category="water")


class TestGdpr:
    async def test_export_holds_everything(
        self, sessions: async_sessionmaker[AsyncSession], register: Register, settings: Settings
    ) -> None:
        created = await register(JANA)
        exported = await erasure.export_subscriber(
            sessions=sessions,
            settings=settings,
            history=ComposerHistory(base_url=None, key=None),
            subscriber_id=created.id,
            token=created.access_token,
        )
        assert exported["addresses"][0]["label"] == "Masarykova 522/12, Liberec I-Staré Město, 460 01"
        assert {c["value"] for c in exported["contacts"]} == {"jana@example.cz", "push-token"}
        assert [c["action"] for c in exported["consents"]] == ["registered"]
        assert len(exported["verification_codes_sent"]) == 1

    async def test_erasure_deletes_everything_and_leaves_a_tombstone_without_personal_data(
        self,
        sessions: async_sessionmaker[AsyncSession],
        register: Register,
        relay: OutboxRelay,
        settings: Settings,
    ) -> None:
        created = await register(JANA)
        await erasure.erase_subscriber(
            sessions=sessions,
            relay=relay,
            settings=settings,
            subscriber_id=created.id,
            token=created.access_token,
        )
        async with sessions() as session:
            for table in (SubscriberRow, ContactRow, ConsentRow, VerificationCodeRow):
                assert await session.scalar(select(func.count()).select_from(table)) == 0, table.__name__
        async with sessions() as session:
            left = [row.payload for row in await session.scalars(select(OutboxRow))]
        (tombstone,) = left  # the registration's state and the e-mail's code went with the rest
        assert '"subscriber.erased"' in tombstone and '"version":2' in tombstone
        assert "jana" not in tombstone and "push-token" not in tombstone


class TestInvalidContacts:
    async def test_the_consumer_bootstrap_wires_takes_a_contact_invalid_status_off_the_bus(
        self, sessions: async_sessionmaker[AsyncSession], register: Register, settings: Settings
    ) -> None:
        """The registry's subscriber on delivery statuses, through FastStream's TestKafkaBroker: a
        `contact_invalid` deactivates the contact, an `accepted` of another contact changes nothing."""
        created = await register(JANA)
        email, push = (next(c for c in created.contacts if c.channel == kind) for kind in ("email", "push"))
        registry = build_registry(settings)
        registry.broker.include_router(consumer.router(settings.kafka))
        registry.broker.context.set_global("registry", registry)

        def status(contact_id: UUID, state: DeliveryState) -> DeliveryStatusChanged:
            channel = Channel.PUSH if contact_id == push.id else Channel.EMAIL
            return DeliveryStatusChanged(
                delivery_id=uuid4(),
                message_id=uuid4(),
                subscriber_id=created.id,
                contact_id=contact_id,
                channel=channel,
                state=state,
                occurred_at=datetime.now(UTC),
                provider="fcm",
            )

        async with TestKafkaBroker(registry.broker) as broker:
            await broker.publish(status(email.id, DeliveryState.ACCEPTED), DELIVERY_STATUS)
            await broker.publish(status(push.id, DeliveryState.CONTACT_INVALID), DELIVERY_STATUS)
        await registry.engine.dispose()
        state = SubscriberChanged.model_validate_json(await latest_state(sessions))
        assert [(c.channel, c.active) for c in state.contacts] == [
            (Channel.EMAIL, True),
            (Channel.PUSH, False),
        ]

    async def test_a_token_the_provider_does_not_know_is_deactivated_once(
        self,
        sessions: async_sessionmaker[AsyncSession],
        register: Register,
        relay: OutboxRelay,
        settings: Settings,
    ) -> None:
        created = await register(JANA)
        push = next(c for c in created.contacts if c.channel == "push")
        status = DeliveryStatusChanged(
            delivery_id=uuid4(),
            message_id=uuid4(),
            subscriber_id=created.id,
            contact_id=push.id,
            channel=Channel.PUSH,
            state=DeliveryState.CONTACT_INVALID,
            occurred_at=datetime.now(UTC),
            provider="fcm",
        )
        applied = [
            await subscribers.deactivate_invalid_contact(
                sessions=sessions, relay=relay, settings=settings, status=status
            )
            for _ in range(2)
        ]
        assert applied == [True, False]
        state = SubscriberChanged.model_validate_json(await latest_state(sessions))
        assert [(c.channel, c.active) for c in state.contacts] == [
            (Channel.EMAIL, True),
            (Channel.PUSH, False),
        ]
