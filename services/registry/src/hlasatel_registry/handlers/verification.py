"""Contact verification: a six-digit code by SMS, a code and a link by e-mail, on the transactional lane."""

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hlasatel_contracts import Channel, Lane, Language, SendEmail, SendSms, delivery_topic
from hlasatel_registry.adapters import outbox
from hlasatel_registry.adapters.limits import RateLimited, count_attempt, ensure_below, record_attempt
from hlasatel_registry.adapters.orm import ConsentRow, ContactRow, SubscriberRow, VerificationCodeRow
from hlasatel_registry.config import Settings
from hlasatel_registry.domain.codes import BadSignature, keyed_hash, new_code, sign, unsign
from hlasatel_registry.domain.notices import verification_email, verification_sms
from hlasatel_registry.handlers.common import announce, authorized_subscriber, contact_of, subscriber_read
from hlasatel_registry.schemas import SubscriberRead
from hlasatel_runtime.errors import SafeError

HOUR = timedelta(hours=1)
VERIFIABLE = (Channel.SMS, Channel.EMAIL)


class WrongCode(SafeError):
    """The code does not match; the message says how many attempts are left."""


class NoValidCode(SafeError):
    """No unexpired code was sent to this contact: ask for a new one."""


def email_link(settings: Settings, *, contact_id: UUID, code_id: UUID) -> str:
    token = sign(
        settings.secret_key.get_secret_value(),
        "verify-email",
        {"c": str(contact_id), "k": str(code_id)},
        ttl_s=settings.code_ttl_s,
    )
    return f"{settings.public_url.rstrip('/')}/v1/verify/email?token={token}"


async def issue_code(
    session: AsyncSession,
    *,
    settings: Settings,
    subscriber: SubscriberRow,
    contact: ContactRow,
    ip: str | None,
) -> None:
    """Count the request, store the code's hash and queue its SMS or e-mail in the caller's transaction."""
    secret = settings.secret_key.get_secret_value()
    await count_attempt(
        session,
        secret=secret,
        scope="code-contact",
        key=contact.value,
        window=HOUR,
        limit=settings.code_requests_per_contact_per_hour,
        what="code requests for this contact",
    )
    if ip:
        await count_attempt(
            session,
            secret=secret,
            scope="code-ip",
            key=ip,
            window=HOUR,
            limit=settings.code_requests_per_ip_per_hour,
            what="code requests from this address",
        )
    now = datetime.now(UTC)
    # only the newest code counts
    await session.execute(
        update(VerificationCodeRow)
        .where(VerificationCodeRow.contact_id == contact.id, VerificationCodeRow.used_at.is_(None))
        .values(used_at=now)
    )
    code = new_code()
    row = VerificationCodeRow(
        id=uuid4(),
        contact_id=contact.id,
        code_hash=keyed_hash(secret, str(contact.id), code),
        created_at=now,
        expires_at=now + timedelta(seconds=settings.code_ttl_s),
        attempts=0,
    )
    session.add(row)
    language, minutes = Language(subscriber.language), settings.code_ttl_s // 60
    common: dict[str, Any] = {
        "delivery_id": uuid4(),
        "message_id": row.id,
        "subscriber_id": subscriber.id,
        "contact_id": contact.id,
        "lane": Lane.TRANSACTIONAL,
        "category": "verification",
        "requested_at": now,
        "expires_at": row.expires_at,
    }
    request: SendSms | SendEmail
    if contact.channel == Channel.SMS:
        request = SendSms(
            **common, to=contact.value, text=verification_sms(language, code=code, minutes=minutes)
        )
    else:
        link = email_link(settings, contact_id=contact.id, code_id=row.id)
        subject, text = verification_email(language, code=code, link=link, minutes=minutes)
        request = SendEmail(**common, to=contact.value, subject=subject, text=text)
    outbox.enqueue(
        session,
        topic=delivery_topic(request.channel, Lane.TRANSACTIONAL),
        key=str(subscriber.id),
        event=request,
    )


async def request_code(
    *,
    sessions: async_sessionmaker[AsyncSession],
    relay: outbox.OutboxRelay,
    settings: Settings,
    subscriber_id: UUID,
    contact_id: UUID,
    token: str | None,
    ip: str | None,
) -> None:
    """Send a new code to one of the subscriber's phone numbers or e-mail addresses."""
    async with sessions() as session, session.begin():
        subscriber = await authorized_subscriber(
            session, secret=settings.secret_key.get_secret_value(), subscriber_id=subscriber_id, token=token
        )
        contact = contact_of(subscriber, contact_id)
        if Channel(contact.channel) not in VERIFIABLE:
            raise NoValidCode("push tokens are verified by the app that registers them")
        await issue_code(session, settings=settings, subscriber=subscriber, contact=contact, ip=ip)
    relay.wake()


async def _mark_verified(
    session: AsyncSession, subscriber: SubscriberRow, contact: ContactRow, *, via: str
) -> None:
    now = datetime.now(UTC)
    contact.verified_at = now
    session.add(
        ConsentRow(
            subscriber_id=subscriber.id,
            at=now,
            action="contact_verified",
            via=via,
            terms="hlasatel-2026",
            details={"channel": contact.channel, "contact_id": str(contact.id)},
        )
    )
    await announce(session, subscriber)


async def verify_code(
    *,
    sessions: async_sessionmaker[AsyncSession],
    relay: outbox.OutboxRelay,
    settings: Settings,
    subscriber_id: UUID,
    contact_id: UUID,
    code: str,
    ip: str | None,
) -> SubscriberRead:
    """Check a code typed by the citizen; wrong codes are counted per code and per address."""
    secret = settings.secret_key.get_secret_value()
    async with sessions() as session:
        async with session.begin():
            subscriber = await session.get(SubscriberRow, subscriber_id, with_for_update=True)
            if subscriber is None:
                raise NoValidCode("no code was sent to this contact")
            contact = contact_of(subscriber, contact_id)
            if contact.verified_at is not None:
                return subscriber_read(subscriber)
            if ip:
                await ensure_below(
                    session,
                    secret=secret,
                    scope="wrong-code-ip",
                    key=ip,
                    window=HOUR,
                    limit=settings.wrong_codes_per_ip_per_hour,
                    what="wrong codes from this address",
                )
            row = await _current_code(session, contact.id)
            if keyed_hash(secret, str(contact.id), code.strip()) == row.code_hash:
                row.used_at = datetime.now(UTC)
                await _mark_verified(session, subscriber, contact, via=f"{contact.channel}_code")
                result = subscriber_read(subscriber)
            else:
                result = None
                row.attempts += 1
                left = settings.code_attempts - row.attempts
                if left <= 0:
                    row.used_at = datetime.now(UTC)
                if ip:
                    record_attempt(session, secret=secret, scope="wrong-code-ip", key=ip)
        if result is None:
            if left <= 0:
                raise RateLimited("wrong codes; request a new code", 1)
            raise WrongCode(f"wrong code; {left} attempts left")
    relay.wake()
    return result


async def verify_email_link(
    *, sessions: async_sessionmaker[AsyncSession], relay: outbox.OutboxRelay, settings: Settings, token: str
) -> SubscriberRead:
    """Verify an e-mail address through the signed link in the verification e-mail."""
    try:
        claims = unsign(settings.secret_key.get_secret_value(), "verify-email", token)
        contact_id, code_id = UUID(claims["c"]), UUID(claims["k"])
    except (BadSignature, KeyError, ValueError) as exc:
        raise NoValidCode(str(exc) if isinstance(exc, BadSignature) else "the link is not valid") from None
    async with sessions() as session, session.begin():
        contact = await session.get(ContactRow, contact_id)
        code = await session.get(VerificationCodeRow, code_id)
        if contact is None or code is None or code.contact_id != contact.id:
            raise NoValidCode("the link is not valid")
        subscriber = await session.get(SubscriberRow, contact.subscriber_id, with_for_update=True)
        assert subscriber is not None
        if contact.verified_at is None:
            if code.used_at is not None or code.expires_at <= datetime.now(UTC):
                raise NoValidCode("the link has expired or a newer code was sent")
            code.used_at = datetime.now(UTC)
            await _mark_verified(session, subscriber, contact, via="email_link")
        result = subscriber_read(subscriber)
    relay.wake()
    return result


async def _current_code(session: AsyncSession, contact_id: UUID) -> VerificationCodeRow:
    row = await session.scalar(
        select(VerificationCodeRow)
        .where(VerificationCodeRow.contact_id == contact_id, VerificationCodeRow.used_at.is_(None))
        .order_by(VerificationCodeRow.created_at.desc())
        .limit(1)
    )
    if row is None or row.expires_at <= datetime.now(UTC):
        raise NoValidCode("no valid code: request a new one")
    return row
