"""The composer's tables: the targeting index (a projection of the changelog), messages, deliveries,
what each message targeted and reached, API keys and the audit log."""

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import JSON, BigInteger, Boolean, Float, Index, Integer, MetaData, String, Uuid
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from hlasatel_runtime.database import UtcDateTime


class Base(DeclarativeBase):
    metadata = MetaData()


class IndexedSubscriber(Base):
    __tablename__ = "index_subscribers"

    subscriber_id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    erased: Mapped[bool] = mapped_column(Boolean, default=False)
    language: Mapped[str | None] = mapped_column(String(2))
    identity_level: Mapped[str | None] = mapped_column(String(16))
    quiet_hours: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    unsubscribe_token: Mapped[str | None] = mapped_column(String(300))


class IndexedPoint(Base):
    """An address point as the latest changelog record that mentioned it described it."""

    __tablename__ = "index_points"

    code: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    district_code: Mapped[int] = mapped_column(Integer)
    district: Mapped[str] = mapped_column(String(100))
    street: Mapped[str | None] = mapped_column(String(100))
    building_kind: Mapped[str] = mapped_column(String(2))
    building_number: Mapped[int] = mapped_column(Integer)
    orientation_number: Mapped[int | None] = mapped_column(Integer)
    orientation_letter: Mapped[str | None] = mapped_column(String(2))
    postcode: Mapped[str] = mapped_column(String(10))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)


class IndexedAddress(Base):
    __tablename__ = "index_addresses"

    subscriber_id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    address_point_code: Mapped[int] = mapped_column(BigInteger, primary_key=True, index=True)
    role: Mapped[str] = mapped_column(String(16))


class IndexedCategory(Base):
    """A category the subscriber has chosen: a table of its own so that SQL can ask who wants one."""

    __tablename__ = "index_categories"

    subscriber_id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    category: Mapped[str] = mapped_column(String(40), primary_key=True)


class IndexedContact(Base):
    __tablename__ = "index_contacts"
    __table_args__ = (Index("ix_index_contacts_reach", "subscriber_id", "chosen", "channel"),)

    contact_id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    subscriber_id: Mapped[UUID] = mapped_column(Uuid)
    channel: Mapped[str] = mapped_column(String(8))
    value: Mapped[str] = mapped_column(String(4096))
    verified: Mapped[bool] = mapped_column(Boolean)
    active: Mapped[bool] = mapped_column(Boolean)
    # the one contact of its channel a message goes to: the subscriber's first verified, active one
    chosen: Mapped[bool] = mapped_column(Boolean, default=False)


class MessageRow(Base):
    __tablename__ = "messages"

    id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    state: Mapped[str] = mapped_column(String(16), index=True)
    severity: Mapped[str] = mapped_column(String(16))
    category: Mapped[str] = mapped_column(String(40))
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    target: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    follows: Mapped[UUID | None] = mapped_column(Uuid, index=True)
    sms_transliterate: Mapped[bool] = mapped_column(Boolean, default=False)
    author: Mapped[str] = mapped_column(String(100))
    approved_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    approved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    send_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    fanout_cursor: Mapped[UUID | None] = mapped_column(Uuid)
    fanout_finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class TargetPoint(Base):
    """The address points a target resolved to: kept per message, thrown away after a preview."""

    __tablename__ = "target_points"

    resolution_id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    address_point_code: Mapped[int] = mapped_column(BigInteger, primary_key=True)


class MessageHousehold(Base):
    """Who was sent the message at which targeted address point: the basis of the per-house report."""

    __tablename__ = "message_households"

    message_id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    address_point_code: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    subscriber_id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)


class DeliveryRow(Base):
    __tablename__ = "deliveries"
    __table_args__ = (Index("ix_deliveries_message_subscriber", "message_id", "subscriber_id"),)

    delivery_id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    message_id: Mapped[UUID] = mapped_column(Uuid)
    subscriber_id: Mapped[UUID] = mapped_column(Uuid)
    contact_id: Mapped[UUID | None] = mapped_column(Uuid)
    channel: Mapped[str] = mapped_column(String(8))
    state: Mapped[str] = mapped_column(String(16))
    rank: Mapped[int] = mapped_column(Integer, default=0)
    reason: Mapped[str | None] = mapped_column(String(500))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # a delivery waiting for the end of the subscriber's quiet hours: when, and what to publish then
    not_before: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    held_request: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))


class ApiKeyRow(Base):
    __tablename__ = "api_keys"

    id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), index=True)
    role: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    created_by: Mapped[str] = mapped_column(String(100))
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class AuditRow(Base):
    """Who did what to which message when, and how many it reached; never a citizen's data."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    actor: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(40))
    message_id: Mapped[UUID | None] = mapped_column(Uuid, index=True)
    target_size: Mapped[int | None] = mapped_column(Integer)
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)
