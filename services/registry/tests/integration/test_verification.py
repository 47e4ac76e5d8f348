"""Verification codes, abuse limits, access tokens: the registry's handlers on a real database."""

import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hlasatel_contracts import SUBSCRIBERS, Channel, Lane, SendEmail, SendSms, SubscriberChanged
from hlasatel_registry.adapters.limits import RateLimited
from hlasatel_registry.adapters.orm import OutboxRow, VerificationCodeRow
from hlasatel_registry.adapters.outbox import OutboxRelay
from hlasatel_registry.config import Settings
from hlasatel_registry.domain.gazetteer import AddressRecord
from hlasatel_registry.handlers import subscribers, verification
from hlasatel_registry.handlers.common import NotAuthorized
from hlasatel_registry.schemas import SubscriberCreated

Register = Callable[..., Awaitable[SubscriberCreated]]
MASARYKOVA_12 = 23657235
JANA = {
    "addresses": [{"address_point": MASARYKOVA_12}],
    "contacts": [
        {"channel": "sms", "value": "+420777123456"},
        {"channel": "email", "value": "jana@example.cz"},
        {"channel": "push", "value": "push-token"},
    ],
}


@pytest.fixture(autouse=True)
async def masarykova(gazetteer: Callable[..., Awaitable[str]], records: list[AddressRecord]) -> None:
    await gazetteer([r for r in records if r.street in ("Masarykova", "Jablonecká")])


async def sent(sessions: async_sessionmaker[AsyncSession]) -> list[SendSms | SendEmail]:
    """What the registry queued for the dispatchers, oldest first."""
    async with sessions() as session:
        rows = (
            await session.scalars(
                select(OutboxRow).where(OutboxRow.topic != SUBSCRIBERS).order_by(OutboxRow.id)
            )
        ).all()
    return [(SendSms if ".sms." in row.topic else SendEmail).model_validate_json(row.payload) for row in rows]


async def changelog(sessions: async_sessionmaker[AsyncSession]) -> list[SubscriberChanged]:
    async with sessions() as session:
        rows = (
            await session.scalars(
                select(OutboxRow).where(OutboxRow.topic == SUBSCRIBERS).order_by(OutboxRow.id)
            )
        ).all()
    return [
        SubscriberChanged.model_validate_json(r.payload) for r in rows if '"subscriber.changed"' in r.payload
    ]


def code_in(request: SendSms | SendEmail) -> str:
    text = request.text
    match = re.search(r"\b(\d{6})\b", text)
    assert match, "the message carries a six-digit code"
    return match.group(1)


def contact_id(created: SubscriberCreated, channel: str) -> Any:
    return next(c.id for c in created.contacts if c.channel == channel)


class TestCodes:
    async def test_registration_sends_a_code_by_sms_and_a_code_and_link_by_email(
        self, sessions: async_sessionmaker[AsyncSession], register: Register
    ) -> None:
        created = await register(JANA)
        sms, email = await sent(sessions)
        assert isinstance(sms, SendSms) and isinstance(email, SendEmail)
        assert (sms.lane, sms.to, sms.category) == (Lane.TRANSACTIONAL, "+420777123456", "verification")
        assert (
            email.to == "jana@example.cz" and "https://zpravy.liberec.cz/v1/verify/email?token=" in email.text
        )
        assert {c.channel: c.verified for c in created.contacts} == {
            "sms": False,
            "email": False,
            "push": True,
        }
        async with sessions() as session:
            hashes = [row.code_hash for row in await session.scalars(select(VerificationCodeRow))]
        assert len(hashes) == 2 and code_in(sms) not in "".join(hashes), "codes are stored hashed"

    async def test_the_right_code_verifies_once_and_announces_the_change(
        self,
        sessions: async_sessionmaker[AsyncSession],
        register: Register,
        relay: OutboxRelay,
        settings: Settings,
    ) -> None:
        created = await register(JANA)
        sms = (await sent(sessions))[0]
        await verification.verify_code(
            sessions=sessions,
            relay=relay,
            settings=settings,
            subscriber_id=created.id,
            contact_id=contact_id(created, "sms"),
            code=code_in(sms),
            ip="192.0.2.1",
        )
        latest = (await changelog(sessions))[-1]
        assert latest.version == 2 and [c.verified for c in latest.contacts] == [True, False, True]

    async def test_wrong_codes_count_down_then_the_code_is_burnt(
        self,
        sessions: async_sessionmaker[AsyncSession],
        register: Register,
        relay: OutboxRelay,
        settings: Settings,
    ) -> None:
        created = await register(JANA)
        right = code_in((await sent(sessions))[0])
        wrong = f"{(int(right) + 1) % 1_000_000:06d}"
        kwargs = {
            "sessions": sessions,
            "relay": relay,
            "settings": settings,
            "subscriber_id": created.id,
            "contact_id": contact_id(created, "sms"),
            "ip": "192.0.2.1",
        }
        for left in (4, 3, 2, 1):
            with pytest.raises(verification.WrongCode, match=f"{left} attempts left"):
                await verification.verify_code(**kwargs, code=wrong)
        with pytest.raises(RateLimited):
            await verification.verify_code(**kwargs, code=wrong)
        with pytest.raises(verification.NoValidCode, match="request a new one"):
            await verification.verify_code(**kwargs, code=right)

    async def test_an_expired_code_is_refused(
        self,
        sessions: async_sessionmaker[AsyncSession],
        register: Register,
        relay: OutboxRelay,
        settings: Settings,
    ) -> None:
        created = await register(JANA)
        code = code_in((await sent(sessions))[0])
        async with sessions() as session, session.begin():
            await session.execute(
                update(VerificationCodeRow).values(expires_at=datetime.now(UTC) - timedelta(1))
            )
        with pytest.raises(verification.NoValidCode):
            await verification.verify_code(
                sessions=sessions,
                relay=relay,
                settings=settings,
                subscriber_id=created.id,
                contact_id=contact_id(created, "sms"),
                code=code,
                ip=None,
            )

    async def test_the_email_link_verifies_and_a_tampered_one_does_not(
        self,
        sessions: async_sessionmaker[AsyncSession],
        register: Register,
        relay: OutboxRelay,
        settings: Settings,
    ) -> None:
        created = await register(JANA)
        email = (await sent(sessions))[1]
        link = re.search(r"https://\S+", email.text).group(0)  # type: ignore[union-attr]
        token = parse_qs(urlsplit(link).query)["token"][0]
        with pytest.raises(verification.NoValidCode, match="not valid"):
            await verification.verify_email_link(
                sessions=sessions, relay=relay, settings=settings, token=token[:-2] + "xx"
            )
        await verification.verify_email_link(sessions=sessions, relay=relay, settings=settings, token=token)
        latest = (await changelog(sessions))[-1]
        assert latest.subscriber_id == created.id
        assert {c.channel: c.verified for c in latest.contacts}[Channel.EMAIL] is True


class TestAbuseLimits:
    async def test_code_requests_per_number_are_limited_with_retry_after(
        self,
        sessions: async_sessionmaker[AsyncSession],
        register: Register,
        relay: OutboxRelay,
        settings: Settings,
    ) -> None:
        strict = settings.model_copy(update={"code_requests_per_contact_per_hour": 2})
        created = await register(JANA, settings_=strict)
        ask = {
            "sessions": sessions,
            "relay": relay,
            "settings": strict,
            "subscriber_id": created.id,
            "contact_id": contact_id(created, "sms"),
            "token": created.access_token,
            "ip": "192.0.2.9",
        }
        await verification.request_code(**ask)
        with pytest.raises(RateLimited) as caught:
            await verification.request_code(**ask)
        assert 3500 < caught.value.retry_after <= 3601

    async def test_code_requests_per_ip_are_limited(
        self, sessions: async_sessionmaker[AsyncSession], register: Register, settings: Settings
    ) -> None:
        strict = settings.model_copy(update={"code_requests_per_ip_per_hour": 3})
        await register(JANA, settings_=strict, ip="198.51.100.7")  # two codes: SMS and e-mail
        other = {
            **JANA,
            "contacts": [
                {"channel": "sms", "value": "+420777000009"},
                {"channel": "sms", "value": "+420777000010"},
            ],
        }
        with pytest.raises(RateLimited, match="from this address"):
            await register(other, settings_=strict, ip="198.51.100.7")
        assert len(await sent(sessions)) == 2, "the refused registration left nothing behind"

    async def test_wrong_codes_per_ip_are_limited_across_contacts(
        self,
        sessions: async_sessionmaker[AsyncSession],
        register: Register,
        relay: OutboxRelay,
        settings: Settings,
    ) -> None:
        strict = settings.model_copy(update={"wrong_codes_per_ip_per_hour": 2})
        created = await register(JANA, settings_=strict)
        for channel in ("sms", "email"):
            with pytest.raises(verification.WrongCode):
                await verification.verify_code(
                    sessions=sessions,
                    relay=relay,
                    settings=strict,
                    subscriber_id=created.id,
                    contact_id=contact_id(created, channel),
                    code="000000",
                    ip="203.0.113.5",
                )
        with pytest.raises(RateLimited, match="wrong codes from this address"):
            await verification.verify_code(
                sessions=sessions,
                relay=relay,
                settings=strict,
                subscriber_id=created.id,
                contact_id=contact_id(created, "sms"),
                code="000000",
                ip="203.0.113.5",
            )


class TestAccess:
    async def test_only_the_access_token_opens_the_subscription(
        self, sessions: async_sessionmaker[AsyncSession], register: Register, settings: Settings
    ) -> None:
        created = await register(JANA)
        for token in (None, "guess", created.access_token[:-1]):
            with pytest.raises(NotAuthorized):
                await subscribers.get_subscriber(
                    sessions=sessions, settings=settings, subscriber_id=created.id, token=token
                )
        own = await subscribers.get_subscriber(
            sessions=sessions, settings=settings, subscriber_id=created.id, token=created.access_token
        )
        assert own.id == created.id
