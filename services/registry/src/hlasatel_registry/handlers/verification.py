"""Contact verification: a six-digit code by SMS, a code and a link by e-mail, on the transactional lane.

A code proves a contact (purpose `verify`) or, for a citizen who lost their access token, that a verified
contact is theirs (purpose `access`). Every check of a code counts against the caller's address before
anything else is looked at, and its answer says whether the code was right, never more.
"""

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
from hlasatel_registry.domain.codes import BadSignature, hashed_by_any, keyed_hash, new_code, sign, unsign
from hlasatel_registry.domain.notices import access_email, access_sms, verification_email, verification_sms
from hlasatel_registry.handlers.common import NotFound, announce, authorized_subscriber, contact_of
from hlasatel_runtime.errors import SafeError
from hlasatel_runtime.outbox import unit_of_work

HOUR = timedelta(hours=1)
VERIFIABLE = (Channel.SMS, Channel.EMAIL)
VERIFY, ACCESS = "verify", "access"


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
    return f"{settings.pages_url.rstrip('/')}/v1/verify/email?token={token}"


async def issue_code(
    session: AsyncSession,
    *,
    settings: Settings,
    subscriber: SubscriberRow,
    contact: ContactRow,
    ip: str | None,
    purpose: str = VERIFY,
    limit_per_contact: bool = True,
) -> None:
    """Count the request, store the code's hash and queue its SMS or e-mail in the caller's transaction.

    `limit_per_contact` is off for a registration the citizen portal vouched for: a stranger's requests
    to the same number must not lock its owner out of their own registration.
    """
    secret = settings.secret_key.get_secret_value()
    if limit_per_contact:
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
        .where(
            VerificationCodeRow.contact_id == contact.id,
            VerificationCodeRow.used_at.is_(None),
            VerificationCodeRow.purpose == purpose,
        )
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
        purpose=purpose,
    )
    session.add(row)
    outbox.enqueue(
        session,
        topic=delivery_topic(Channel(contact.channel), Lane.TRANSACTIONAL),
        key=str(subscriber.id),
        event=_code_message(settings, subscriber, contact, row, code),
    )


def _code_message(
    settings: Settings, subscriber: SubscriberRow, contact: ContactRow, row: VerificationCodeRow, code: str
) -> SendSms | SendEmail:
    language, minutes = Language(subscriber.language), settings.code_ttl_s // 60
    common: dict[str, Any] = {
        "delivery_id": uuid4(),
        "message_id": row.id,
        "subscriber_id": subscriber.id,
        "contact_id": contact.id,
        "lane": Lane.TRANSACTIONAL,
        "category": "verification",
        "requested_at": row.created_at,
        "expires_at": row.expires_at,
    }
    if contact.channel == Channel.SMS:
        sms = (verification_sms if row.purpose == VERIFY else access_sms)(
            language, code=code, minutes=minutes
        )
        return SendSms(**common, to=contact.value, text=sms)
    if row.purpose == VERIFY:
        link = email_link(settings, contact_id=contact.id, code_id=row.id)
        subject, text = verification_email(language, code=code, link=link, minutes=minutes)
    else:
        subject, text = access_email(language, code=code, minutes=minutes)
    return SendEmail(**common, to=contact.value, subject=subject, text=text)


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
    async with unit_of_work(sessions, relay) as session:
        subscriber = await authorized_subscriber(
            session, keys=settings.keys(), subscriber_id=subscriber_id, token=token
        )
        contact = contact_of(subscriber, contact_id)
        if Channel(contact.channel) not in VERIFIABLE:
            raise NoValidCode("push tokens are verified by the app that registers them")
        await issue_code(session, settings=settings, subscriber=subscriber, contact=contact, ip=ip)


async def _mark_verified(
    session: AsyncSession, settings: Settings, subscriber: SubscriberRow, contact: ContactRow, *, via: str
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
    await announce(session, subscriber, settings.keys())


async def wrong_codes_allowed(session: AsyncSession, settings: Settings, ip: str | None) -> None:
    """Refuse at once when this address has tried too many wrong codes; counted before anything is read."""
    if ip:
        await ensure_below(
            session,
            secret=settings.secret_key.get_secret_value(),
            scope="wrong-code-ip",
            key=ip,
            window=HOUR,
            limit=settings.wrong_codes_per_ip_per_hour,
            what="wrong codes from this address",
        )


def count_wrong_code(session: AsyncSession, settings: Settings, ip: str | None) -> None:
    if ip:
        record_attempt(session, secret=settings.secret_key.get_secret_value(), scope="wrong-code-ip", key=ip)


async def verify_code(
    *,
    sessions: async_sessionmaker[AsyncSession],
    relay: outbox.OutboxRelay,
    settings: Settings,
    subscriber_id: UUID,
    contact_id: UUID,
    code: str,
    ip: str | None,
) -> None:
    """Check a code typed by the citizen; wrong codes are counted per code and per address. Whatever the
    contact, nothing is told but whether the code was right."""
    async with sessions() as session:
        async with session.begin():
            await wrong_codes_allowed(session, settings, ip)
            subscriber = await session.get(SubscriberRow, subscriber_id, with_for_update=True)
            contact = _contact(subscriber, contact_id)
            if subscriber is None or contact is None or Channel(contact.channel) not in VERIFIABLE:
                count_wrong_code(session, settings, ip)
                failure: SafeError | None = NoValidCode("no code was sent to this contact")
            elif contact.verified_at is not None:
                # verified before: the right code (the one it was verified with) says so again
                last = await latest_code(session, contact.id, VERIFY, used=True)
                if last is not None and hashed_by_any(
                    settings.keys().all, last.code_hash, str(contact.id), code.strip()
                ):
                    return
                count_wrong_code(session, settings, ip)
                failure = WrongCode("wrong code")
            else:
                row = await latest_code(session, contact.id, VERIFY)
                if row is None:
                    count_wrong_code(session, settings, ip)
                    failure = NoValidCode("no valid code: request a new one")
                elif hashed_by_any(settings.keys().all, row.code_hash, str(contact.id), code.strip()):
                    row.used_at = datetime.now(UTC)
                    await _mark_verified(
                        session, settings, subscriber, contact, via=f"{contact.channel}_code"
                    )
                    failure = None
                else:
                    failure = wrong_attempt(session, settings, row, ip)
        if failure is not None:
            raise failure
    relay.wake()


def _contact(subscriber: SubscriberRow | None, contact_id: UUID) -> ContactRow | None:
    if subscriber is None:
        return None
    try:
        return contact_of(subscriber, contact_id)
    except NotFound:
        return None


def wrong_attempt(
    session: AsyncSession, settings: Settings, row: VerificationCodeRow, ip: str | None
) -> SafeError:
    """A wrong try of a live code: counted on the code (five burn it) and on the address."""
    row.attempts += 1
    left = settings.code_attempts - row.attempts
    if left <= 0:
        row.used_at = datetime.now(UTC)
    count_wrong_code(session, settings, ip)
    if left <= 0:
        return RateLimited("wrong codes; request a new code", 1)
    return WrongCode(f"wrong code; {left} attempts left")


async def verify_email_link(
    *, sessions: async_sessionmaker[AsyncSession], relay: outbox.OutboxRelay, settings: Settings, token: str
) -> None:
    """Verify an e-mail address through the signed link in the verification e-mail."""
    try:
        claims = unsign(settings.keys().all, "verify-email", token)
        contact_id, code_id = UUID(claims["c"]), UUID(claims["k"])
    except (BadSignature, KeyError, ValueError) as exc:
        raise NoValidCode(str(exc) if isinstance(exc, BadSignature) else "the link is not valid") from None
    async with unit_of_work(sessions, relay) as session:
        contact = await session.get(ContactRow, contact_id)
        code = await session.get(VerificationCodeRow, code_id)
        if contact is None or code is None or code.contact_id != contact.id or code.purpose != VERIFY:
            raise NoValidCode("the link is not valid")
        subscriber = await session.get(SubscriberRow, contact.subscriber_id, with_for_update=True)
        assert subscriber is not None
        if contact.verified_at is None:
            if code.used_at is not None or code.expires_at <= datetime.now(UTC):
                raise NoValidCode("the link has expired or a newer code was sent")
            code.used_at = datetime.now(UTC)
            await _mark_verified(session, settings, subscriber, contact, via="email_link")


async def latest_code(
    session: AsyncSession, contact_id: UUID, purpose: str, *, used: bool = False
) -> VerificationCodeRow | None:
    """The newest live code of the contact for this purpose; with `used`, the newest used one."""
    query = (
        select(VerificationCodeRow)
        .where(VerificationCodeRow.contact_id == contact_id, VerificationCodeRow.purpose == purpose)
        .order_by(VerificationCodeRow.created_at.desc())
        .limit(1)
    )
    if used:
        return await session.scalar(query.where(VerificationCodeRow.used_at.is_not(None)))
    row = await session.scalar(query.where(VerificationCodeRow.used_at.is_(None)))
    if row is None or row.expires_at <= datetime.now(UTC):
        return None
    return row
