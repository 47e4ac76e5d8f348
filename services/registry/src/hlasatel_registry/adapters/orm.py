"""The registry's tables."""

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import JSON, BigInteger, Float, ForeignKey, Index, Integer, MetaData, String, Uuid
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from hlasatel_runtime.database import UtcDateTime
from hlasatel_runtime.outbox import OutboxColumns


class Base(DeclarativeBase):
    metadata = MetaData()


class AddressPointRow(Base):
    __tablename__ = "address_points"

    code: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    municipality_code: Mapped[int] = mapped_column(Integer, index=True)
    municipality: Mapped[str] = mapped_column(String(100))
    district_code: Mapped[int] = mapped_column(Integer, index=True)
    district: Mapped[str] = mapped_column(String(100))
    street_code: Mapped[int | None] = mapped_column(Integer, index=True)
    street: Mapped[str | None] = mapped_column(String(100), index=True)
    building_kind: Mapped[str] = mapped_column(String(2))
    building_number: Mapped[int] = mapped_column(Integer)
    orientation_number: Mapped[int | None] = mapped_column(Integer)
    orientation_letter: Mapped[str | None] = mapped_column(String(2))
    postcode: Mapped[str] = mapped_column(String(5))
    sjtsk_y: Mapped[float | None] = mapped_column(Float)
    sjtsk_x: Mapped[float | None] = mapped_column(Float)
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    retired_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # grows with every change the imports make, retirement included: the register topic's version
    version: Mapped[int] = mapped_column(Integer, default=1)


class SubscriberRow(Base):
    __tablename__ = "subscribers"

    id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    language: Mapped[str] = mapped_column(String(2))
    identity_level: Mapped[str] = mapped_column(String(16))
    categories: Mapped[list[str]] = mapped_column(JSON)
    quiet_hours: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # keyed hash of the bearer token the citizen manages the subscription with
    access_token_hash: Mapped[str] = mapped_column(String(64), index=True)
    portal_subject: Mapped[str | None] = mapped_column(String(200))
    portal_address_point: Mapped[int | None] = mapped_column(BigInteger)
    # a MAC of the id (72 bits): short enough for an SMS footer, and only the registry can make one
    unsubscribe_code: Mapped[str] = mapped_column(String(16), unique=True)

    addresses: Mapped[list["SubscriberAddressRow"]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="SubscriberAddressRow.position"
    )
    contacts: Mapped[list["ContactRow"]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="ContactRow.position"
    )
    unsubscribe_codes: Mapped[list["UnsubscribeCodeRow"]] = relationship(
        cascade="all, delete-orphan", lazy="selectin"
    )


class SubscriberAddressRow(Base):
    __tablename__ = "subscriber_addresses"

    subscriber_id: Mapped[UUID] = mapped_column(
        ForeignKey("subscribers.id", ondelete="CASCADE"), primary_key=True
    )
    address_point_code: Mapped[int] = mapped_column(
        ForeignKey("address_points.code"), primary_key=True, index=True
    )
    role: Mapped[str] = mapped_column(String(16))
    position: Mapped[int] = mapped_column(Integer)
    address: Mapped[AddressPointRow] = relationship(lazy="selectin")


class ContactRow(Base):
    __tablename__ = "contacts"

    id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    subscriber_id: Mapped[UUID] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(8))
    value: Mapped[str] = mapped_column(String(4096))
    verified_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    active: Mapped[bool]
    deactivated_reason: Mapped[str | None] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer)
    # when it was added (or added again): an unverified contact is deleted after REGISTRY_UNVERIFIED_TTL_H
    created_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class UnsubscribeCodeRow(Base):
    """A code in the links of city messages: good for one category, or ('all') for every non-emergency
    message after a confirmation. A MAC of the subscriber and the scope, stored so that a replaced secret
    leaves the links already sent working."""

    __tablename__ = "unsubscribe_codes"

    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    subscriber_id: Mapped[UUID] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"), index=True)
    scope: Mapped[str] = mapped_column(String(40))


class OutboxRow(OutboxColumns, Base):
    """Events written in the same transaction as the change they announce (hlasatel_runtime.outbox)."""


class GazetteerImportRow(Base):
    """One run of import-addresses: running services rebuild their search index when a new one appears."""

    __tablename__ = "gazetteer_imports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    imported_at: Mapped[datetime] = mapped_column(UtcDateTime)
    source: Mapped[str] = mapped_column(String(300))
    added: Mapped[int] = mapped_column(Integer)
    updated: Mapped[int] = mapped_column(Integer)
    retired: Mapped[int] = mapped_column(Integer)
    unchanged: Mapped[int] = mapped_column(Integer)


class VerificationCodeRow(Base):
    """A code sent to a contact; only its keyed hash is kept."""

    __tablename__ = "verification_codes"

    id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    contact_id: Mapped[UUID] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # verify: proves a new contact; access: proves a verified one, for a new access token
    purpose: Mapped[str] = mapped_column(String(16), default="verify")


class RateEventRow(Base):
    """One counted attempt; the key (a phone number, an IP) is stored only as a keyed hash."""

    __tablename__ = "rate_events"
    __table_args__ = (Index("ix_rate_events_scope_key_at", "scope", "key_hash", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    scope: Mapped[str] = mapped_column(String(40))
    key_hash: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UtcDateTime)


class ConsentRow(Base):
    """What the citizen agreed to, when, and through which channel: one row per change."""

    __tablename__ = "consents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    subscriber_id: Mapped[UUID] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    action: Mapped[str] = mapped_column(String(40))
    via: Mapped[str] = mapped_column(String(40))
    terms: Mapped[str] = mapped_column(String(40))
    details: Mapped[dict[str, Any]] = mapped_column(JSON)


class OperatorKeyRow(Base):
    """A key of the city's registry operators (made with `registry create-operator-key`), stored hashed."""

    __tablename__ = "operator_keys"

    id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class OperatorAuditRow(Base):
    """What an operator did: looked a contact up, erased a subscriber; who, when, which, and why."""

    __tablename__ = "operator_audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    operator: Mapped[str] = mapped_column(String(100))
    operator_key_id: Mapped[UUID] = mapped_column(Uuid)
    action: Mapped[str] = mapped_column(String(40))
    subscriber_id: Mapped[UUID | None] = mapped_column(Uuid)
    reason: Mapped[str | None] = mapped_column(String(500))
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)
