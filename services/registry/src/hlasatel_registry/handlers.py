"""The registry's use cases: each takes its input and its dependencies by name."""

from collections.abc import Sequence
from datetime import UTC, datetime
from uuid import UUID, uuid4

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hlasatel_contracts import (
    SUBSCRIBERS,
    AddressPoint,
    AddressRole,
    BuildingKind,
    Channel,
    Contact,
    IdentityLevel,
    Language,
    QuietHours,
    SubscribedAddress,
    SubscriberChanged,
)
from hlasatel_registry.adapters import outbox
from hlasatel_registry.adapters.address_search import AddressSearch
from hlasatel_registry.adapters.orm import AddressPointRow, ContactRow, SubscriberAddressRow, SubscriberRow
from hlasatel_registry.domain.gazetteer import label
from hlasatel_registry.schemas import (
    AddressRead,
    AddressSearchRead,
    ContactRead,
    DistrictRead,
    StreetRead,
    SubscribedAddressRead,
    SubscriberCreate,
    SubscriberRead,
)
from hlasatel_runtime.errors import SafeError


class UnknownAddressPoints(SafeError):
    """Some address point codes are not in the gazetteer (or were retired)."""

    def __init__(self, codes: Sequence[int]) -> None:
        super().__init__(f"unknown address points: {', '.join(map(str, codes))}")
        self.codes = list(codes)


def address_label(row: AddressPointRow) -> str:
    return label(
        street=row.street,
        district=row.district,
        building_kind=BuildingKind(row.building_kind),
        building_number=row.building_number,
        orientation_number=row.orientation_number,
        orientation_letter=row.orientation_letter,
        postcode=row.postcode,
    )


def address_snapshot(row: AddressPointRow) -> AddressPoint:
    return AddressPoint(
        code=row.code,
        district_code=row.district_code,
        district=row.district,
        street_code=row.street_code,
        street=row.street,
        building_kind=BuildingKind(row.building_kind),
        building_number=row.building_number,
        orientation_number=row.orientation_number,
        orientation_letter=row.orientation_letter,
        postcode=row.postcode,
        latitude=row.latitude,
        longitude=row.longitude,
    )


def changelog_event(subscriber: SubscriberRow) -> SubscriberChanged:
    """The subscriber's full current state as the changelog carries it."""
    return SubscriberChanged(
        subscriber_id=subscriber.id,
        version=subscriber.version,
        occurred_at=subscriber.updated_at,
        language=Language(subscriber.language),
        identity_level=IdentityLevel(subscriber.identity_level),
        categories=list(subscriber.categories),
        quiet_hours=QuietHours.model_validate(subscriber.quiet_hours) if subscriber.quiet_hours else None,
        addresses=[
            SubscribedAddress(address=address_snapshot(link.address), role=AddressRole(link.role))
            for link in subscriber.addresses
        ],
        contacts=[
            Contact(
                contact_id=c.id,
                channel=Channel(c.channel),
                value=c.value,
                verified=c.verified_at is not None,
                active=c.active,
            )
            for c in subscriber.contacts
        ],
    )


def subscriber_read(subscriber: SubscriberRow) -> SubscriberRead:
    return SubscriberRead(
        id=subscriber.id,
        version=subscriber.version,
        language=Language(subscriber.language),
        identity_level=IdentityLevel(subscriber.identity_level),
        categories=list(subscriber.categories),
        quiet_hours=QuietHours.model_validate(subscriber.quiet_hours) if subscriber.quiet_hours else None,
        addresses=[
            SubscribedAddressRead(
                address_point=link.address_point_code,
                role=AddressRole(link.role),
                label=address_label(link.address),
            )
            for link in subscriber.addresses
        ],
        contacts=[
            ContactRead(
                id=c.id,
                channel=Channel(c.channel),
                value=c.value,
                verified=c.verified_at is not None,
                active=c.active,
            )
            for c in subscriber.contacts
        ],
        created_at=subscriber.created_at,
        updated_at=subscriber.updated_at,
    )


async def register_subscriber(
    *, sessions: async_sessionmaker[AsyncSession], relay: outbox.OutboxRelay, data: SubscriberCreate
) -> SubscriberRead:
    """Store a new subscriber and announce it on the changelog in the same transaction."""
    now = datetime.now(UTC)
    codes = [link.address_point for link in data.addresses]
    async with sessions() as session, session.begin():
        found = {
            row.code: row
            for row in (
                await session.scalars(
                    select(AddressPointRow).where(
                        AddressPointRow.code.in_(codes), AddressPointRow.retired_at.is_(None)
                    )
                )
            ).all()
        }
        missing = [code for code in codes if code not in found]
        if missing:
            raise UnknownAddressPoints(missing)
        subscriber = SubscriberRow(
            id=uuid4(),
            version=1,
            language=data.language.value,
            identity_level=IdentityLevel.SELF_DECLARED.value,
            categories=data.categories,
            quiet_hours=data.quiet_hours.model_dump(mode="json") if data.quiet_hours else None,
            created_at=now,
            updated_at=now,
            addresses=[
                SubscriberAddressRow(
                    address_point_code=link.address_point,
                    role=link.role.value,
                    position=i,
                    address=found[link.address_point],
                )
                for i, link in enumerate(data.addresses)
            ],
            contacts=[
                ContactRow(
                    id=uuid4(),
                    channel=c.channel.value,
                    value=c.value,
                    verified_at=None,
                    active=True,
                    position=i,
                )
                for i, c in enumerate(data.contacts)
            ],
        )
        session.add(subscriber)
        await session.flush()
        outbox.enqueue(session, topic=SUBSCRIBERS, key=str(subscriber.id), event=changelog_event(subscriber))
    relay.wake()
    return subscriber_read(subscriber)


async def get_subscriber(
    *, sessions: async_sessionmaker[AsyncSession], subscriber_id: UUID
) -> SubscriberRead | None:
    async with sessions() as session:
        subscriber = await session.get(SubscriberRow, subscriber_id)
        return subscriber_read(subscriber) if subscriber else None


async def get_address(*, sessions: async_sessionmaker[AsyncSession], code: int) -> AddressRead | None:
    async with sessions() as session:
        row = await session.get(AddressPointRow, code)
    if row is None or row.retired_at is not None:
        return None
    return _address_read(row)


async def list_districts(*, sessions: async_sessionmaker[AsyncSession]) -> list[DistrictRead]:
    async with sessions() as session:
        rows = (
            await session.execute(
                select(AddressPointRow.district_code, AddressPointRow.district, func.count())
                .where(AddressPointRow.retired_at.is_(None))
                .group_by(AddressPointRow.district_code, AddressPointRow.district)
                .order_by(AddressPointRow.district_code)
            )
        ).all()
    return [DistrictRead(code=code, name=name, address_points=count) for code, name, count in rows]


def _address_read(row: AddressPointRow) -> AddressRead:
    return AddressRead(
        code=row.code,
        label=address_label(row),
        district_code=row.district_code,
        district=row.district,
        street=row.street,
        building_kind=row.building_kind,
        building_number=row.building_number,
        orientation_number=row.orientation_number,
        orientation_letter=row.orientation_letter,
        postcode=row.postcode,
        latitude=row.latitude,
        longitude=row.longitude,
    )


async def _addresses(sessions: async_sessionmaker[AsyncSession], codes: list[int]) -> list[AddressRead]:
    async with sessions() as session:
        rows = {
            r.code: r
            for r in await session.scalars(select(AddressPointRow).where(AddressPointRow.code.in_(codes)))
        }
    return [_address_read(rows[code]) for code in codes if code in rows]


class NoAddressMatches(SafeError):
    """Nothing in the gazetteer matches what was typed."""

    def __init__(self, suggestions: list[AddressRead]) -> None:
        super().__init__("no address matches; the nearest are suggested")
        self.suggestions = suggestions


async def search_addresses(
    *, sessions: async_sessionmaker[AsyncSession], search: AddressSearch, text: str, limit: int
) -> AddressSearchRead:
    """Address points matching what a person typed, best first."""
    index = await search.index()
    matches = index.search(text, limit=limit)
    if not matches:
        raise NoAddressMatches(await _addresses(sessions, [e.code for e in index.suggest(text)]))
    return AddressSearchRead(query=text, results=await _addresses(sessions, [m.entry.code for m in matches]))


async def list_streets(*, sessions: async_sessionmaker[AsyncSession], district_code: int) -> list[StreetRead]:
    """The streets of one district (část obce); a street crossing districts is listed in each."""
    async with sessions() as session:
        rows = (
            await session.execute(
                select(
                    AddressPointRow.street_code,
                    AddressPointRow.street,
                    AddressPointRow.district_code,
                    AddressPointRow.district,
                    func.count(),
                )
                .where(
                    AddressPointRow.district_code == district_code,
                    AddressPointRow.street_code.is_not(None),
                    AddressPointRow.retired_at.is_(None),
                )
                .group_by(
                    AddressPointRow.street_code,
                    AddressPointRow.street,
                    AddressPointRow.district_code,
                    AddressPointRow.district,
                )
                .order_by(AddressPointRow.street)
            )
        ).all()
    return [
        StreetRead(code=code, name=name, district_code=dcode, district=district, address_points=count)
        for code, name, dcode, district, count in rows
        if code is not None and name is not None
    ]
