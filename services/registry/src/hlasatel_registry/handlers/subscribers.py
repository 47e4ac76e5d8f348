"""Use cases of subscribers: registration, self-service, unsubscribing, export and erasure."""

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hlasatel_contracts import (
    Channel,
    DeliveryState,
    DeliveryStatusChanged,
    IdentityLevel,
)
from hlasatel_registry.adapters import outbox
from hlasatel_registry.adapters.composer import StaffMember
from hlasatel_registry.adapters.limits import count_attempt
from hlasatel_registry.adapters.orm import (
    AddressPointRow,
    ConsentRow,
    ContactRow,
    SubscriberAddressRow,
    SubscriberRow,
)
from hlasatel_registry.adapters.portal import PortalVerifier
from hlasatel_registry.config import Settings
from hlasatel_registry.domain.codes import keyed_hash, new_token, short_mac
from hlasatel_registry.domain.contacts import outside_regions
from hlasatel_registry.handlers.common import (
    announce,
    authorized_subscriber,
    contact_of,
    subscriber_read,
)
from hlasatel_registry.handlers.verification import HOUR, VERIFIABLE, issue_code
from hlasatel_registry.schemas import (
    AddressLink,
    ConsentGiven,
    ContactCreate,
    SubscriberCreate,
    SubscriberCreated,
    SubscriberRead,
    SubscriberUpdate,
)
from hlasatel_runtime.errors import SafeError
from hlasatel_runtime.outbox import unit_of_work

TERMS = "hlasatel-2026"


class UnknownAddressPoints(SafeError):
    """Some address point codes are not in the gazetteer (or were retired)."""

    def __init__(self, codes: Sequence[int]) -> None:
        super().__init__(f"unknown address points: {', '.join(map(str, codes))}")
        self.codes = list(codes)


class AssertionMismatch(SafeError):
    """The portal verified a different address point than those registered."""


class PhoneRegionRefused(SafeError):
    """A phone number of a country the city does not send SMS to."""

    def __init__(self, index: int, region: str, allowed: Sequence[str], field: str) -> None:
        super().__init__(
            f"phone numbers of {region} are not accepted: the city sends SMS to {', '.join(allowed)} numbers"
        )
        self.loc = ["body", field, str(index), "value"]


def check_phone_regions(contacts: Sequence[ContactCreate], settings: Settings, *, field: str) -> None:
    for index, contact in enumerate(contacts):
        if contact.channel is Channel.SMS:
            region = outside_regions(contact.value, settings.allowed_phone_regions)
            if region is not None:
                raise PhoneRegionRefused(index, region, settings.allowed_phone_regions, field)


async def _address_points(session: AsyncSession, links: Sequence[AddressLink]) -> dict[int, AddressPointRow]:
    codes = [link.address_point for link in links]
    found = {
        row.code: row
        for row in await session.scalars(
            select(AddressPointRow).where(
                AddressPointRow.code.in_(codes), AddressPointRow.retired_at.is_(None)
            )
        )
    }
    missing = [code for code in codes if code not in found]
    if missing:
        raise UnknownAddressPoints(missing)
    return found


def _consent(
    subscriber_id: UUID, action: str, via: str, given: ConsentGiven | None = None, **details: Any
) -> ConsentRow:
    """A consent record; where the citizen's own page says what they agreed to, its words and the page."""
    if given is not None:
        via = "web" if via == "api" else via
        details |= {"page": given.page, "statement": given.statement}
    return ConsentRow(
        subscriber_id=subscriber_id,
        at=datetime.now(UTC),
        action=action,
        via=via,
        terms=TERMS,
        details=details,
    )


def _new_contact(contact: ContactCreate, position: int) -> ContactRow:
    # the app that registers a push token proves it; phones and e-mail addresses prove themselves by a code
    now = datetime.now(UTC)
    verified = now if contact.channel is Channel.PUSH else None
    return ContactRow(
        id=uuid4(),
        channel=contact.channel.value,
        value=contact.value,
        verified_at=verified,
        active=True,
        position=position,
        created_at=now,
    )


async def register_subscriber(
    *,
    sessions: async_sessionmaker[AsyncSession],
    relay: outbox.OutboxRelay,
    settings: Settings,
    portal: PortalVerifier,
    data: SubscriberCreate,
    assertion: str | None,
    ip: str | None,
    clerk: StaffMember | None = None,
) -> SubscriberCreated:
    """Store a new subscriber, send codes to their phone and e-mail, and announce them on the changelog; a
    clerk registering a citizen at the office is named in the consent record."""
    check_phone_regions(data.contacts, settings, field="contacts")
    identity = await portal.verify(assertion) if assertion else None
    if identity and identity.address_point not in {link.address_point for link in data.addresses}:
        raise AssertionMismatch("the portal verified an address point that is not among the addresses")
    now, token, subscriber_id = datetime.now(UTC), new_token(), uuid4()
    secret = settings.secret_key.get_secret_value()
    async with unit_of_work(sessions, relay) as session:
        if ip and clerk is None:
            await count_attempt(
                session,
                secret=secret,
                scope="registration-ip",
                key=ip,
                window=HOUR,
                limit=settings.registrations_per_ip_per_hour,
                what="registrations from this address",
            )
        found = await _address_points(session, data.addresses)
        subscriber = SubscriberRow(
            id=subscriber_id,
            version=0,
            language=data.language.value,
            identity_level=(IdentityLevel.VERIFIED if identity else IdentityLevel.SELF_DECLARED).value,
            categories=data.categories,
            created_at=now,
            updated_at=now,
            quiet_hours=data.quiet_hours.model_dump(mode="json") if data.quiet_hours else None,
            access_token_hash=keyed_hash(secret, "access", token),
            unsubscribe_code=short_mac(secret, "unsubscribe", str(subscriber_id)),
            portal_subject=identity.subject if identity else None,
            portal_address_point=identity.address_point if identity else None,
            addresses=[
                SubscriberAddressRow(
                    address_point_code=link.address_point,
                    role=link.role.value,
                    position=i,
                    address=found[link.address_point],
                )
                for i, link in enumerate(data.addresses)
            ],
            contacts=[_new_contact(c, i) for i, c in enumerate(data.contacts)],
        )
        session.add(subscriber)
        await session.flush()
        in_person = {"clerk": clerk.name, "clerk_id": clerk.id} if clerk else {}
        session.add(
            _consent(
                subscriber.id,
                "registered",
                "portal" if identity else "in_person" if clerk else "api",
                data.consent,
                categories=data.categories,
                channels=sorted({c.channel.value for c in data.contacts}),
                addresses=len(data.addresses),
                **in_person,
            )
        )
        for contact in subscriber.contacts:
            if Channel(contact.channel) in VERIFIABLE:
                await issue_code(
                    session,
                    settings=settings,
                    subscriber=subscriber,
                    contact=contact,
                    ip=ip,
                    limit_per_contact=identity is None,
                )
        await announce(session, subscriber, settings.keys())
    return SubscriberCreated(**subscriber_read(subscriber).model_dump(), access_token=token)


async def get_subscriber(
    *, sessions: async_sessionmaker[AsyncSession], settings: Settings, subscriber_id: UUID, token: str | None
) -> SubscriberRead:
    """The subscription, for its owner."""
    async with sessions() as session:
        subscriber = await authorized_subscriber(
            session, keys=settings.keys(), subscriber_id=subscriber_id, token=token
        )
        return subscriber_read(subscriber)


async def update_subscriber(
    *,
    sessions: async_sessionmaker[AsyncSession],
    relay: outbox.OutboxRelay,
    settings: Settings,
    subscriber_id: UUID,
    token: str | None,
    data: SubscriberUpdate,
    ip: str | None,
) -> SubscriberRead:
    """Change language, categories, quiet hours, addresses, or add contacts (each gets a code)."""
    check_phone_regions(data.add_contacts or [], settings, field="add_contacts")
    async with unit_of_work(sessions, relay) as session:
        subscriber = await authorized_subscriber(
            session, keys=settings.keys(), subscriber_id=subscriber_id, token=token
        )
        changed = data.model_dump(exclude_unset=True, exclude={"consent"}, mode="json")
        if data.language is not None:
            subscriber.language = data.language.value
        if "categories" in data.model_fields_set and data.categories is not None:
            subscriber.categories = list(data.categories)
        if "quiet_hours" in data.model_fields_set:
            subscriber.quiet_hours = data.quiet_hours.model_dump(mode="json") if data.quiet_hours else None
        if data.addresses is not None:
            found = await _address_points(session, data.addresses)
            subscriber.addresses = [
                SubscriberAddressRow(
                    address_point_code=link.address_point,
                    role=link.role.value,
                    position=i,
                    address=found[link.address_point],
                )
                for i, link in enumerate(data.addresses)
            ]
            if subscriber.portal_address_point not in {link.address_point for link in data.addresses}:
                # the portal vouched for one address point; without it the identity is only self-declared
                subscriber.identity_level = IdentityLevel.SELF_DECLARED.value
        for contact in data.add_contacts or []:
            row = next(
                (c for c in subscriber.contacts if c.channel == contact.channel and c.value == contact.value),
                None,
            )
            if row is not None and row.active:
                continue
            if row is not None:
                # back after unsubscribing, or after a provider called it invalid: prove it again
                row.active, row.deactivated_reason, row.created_at = True, None, datetime.now(UTC)
                if contact.channel in VERIFIABLE:
                    row.verified_at = None
            else:
                row = _new_contact(contact, len(subscriber.contacts))
                subscriber.contacts.append(row)
            await session.flush()
            if contact.channel in VERIFIABLE:
                await issue_code(session, settings=settings, subscriber=subscriber, contact=row, ip=ip)
        session.add(
            _consent(subscriber.id, "preferences_changed", "api", data.consent, changed=sorted(changed))
        )
        await announce(session, subscriber, settings.keys())
    return subscriber_read(subscriber)


async def remove_contact(
    *,
    sessions: async_sessionmaker[AsyncSession],
    relay: outbox.OutboxRelay,
    settings: Settings,
    subscriber_id: UUID,
    token: str | None,
    contact_id: UUID,
) -> SubscriberRead:
    """Remove one contact; the subscription stays."""
    async with unit_of_work(sessions, relay) as session:
        subscriber = await authorized_subscriber(
            session, keys=settings.keys(), subscriber_id=subscriber_id, token=token
        )
        contact = contact_of(subscriber, contact_id)
        subscriber.contacts.remove(contact)
        session.add(_consent(subscriber.id, "contact_removed", "api", channel=contact.channel))
        await announce(session, subscriber, settings.keys())
    return subscriber_read(subscriber)


async def deactivate_invalid_contact(
    *,
    sessions: async_sessionmaker[AsyncSession],
    relay: outbox.OutboxRelay,
    settings: Settings,
    status: DeliveryStatusChanged,
) -> bool:
    """A provider said the number, address or token does not exist: stop using it. Safe to run twice. A
    report older than the contact's last verification (the citizen has proved it works since) is not
    believed."""
    if status.state is not DeliveryState.CONTACT_INVALID:
        return False
    async with unit_of_work(sessions, relay) as session:
        contact = await session.get(ContactRow, status.contact_id)
        if contact is None or not contact.active:
            return False
        if contact.verified_at is not None and status.occurred_at <= contact.verified_at:
            return False
        subscriber = await session.get(SubscriberRow, contact.subscriber_id, with_for_update=True)
        assert subscriber is not None
        contact.active = False
        contact.deactivated_reason = f"reported invalid by {status.provider or 'the provider'}"
        await announce(session, subscriber, settings.keys())
    return True
