"""The composer's tables: the targeting index (a projection of the changelog), messages, deliveries."""

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
    categories: Mapped[list[str] | None] = mapped_column(JSON)
    quiet_hours: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    unsubscribe_token: Mapped[str | None] = mapped_column(String(300))


class IndexedAddress(Base):
    __tablename__ = "index_addresses"
    __table_args__ = (Index("ix_index_addresses_street", "street", "district"),)

    subscriber_id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    address_point_code: Mapped[int] = mapped_column(BigInteger, primary_key=True, index=True)
    role: Mapped[str] = mapped_column(String(16))
    district_code: Mapped[int] = mapped_column(Integer)
    district: Mapped[str] = mapped_column(String(100), index=True)
    street: Mapped[str | None] = mapped_column(String(100))
    building_kind: Mapped[str] = mapped_column(String(2))
    building_number: Mapped[int] = mapped_column(Integer)
    orientation_number: Mapped[int | None] = mapped_column(Integer)
    orientation_letter: Mapped[str | None] = mapped_column(String(2))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)


class IndexedContact(Base):
    __tablename__ = "index_contacts"

    contact_id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    subscriber_id: Mapped[UUID] = mapped_column(Uuid, index=True)
    channel: Mapped[str] = mapped_column(String(8))
    value: Mapped[str] = mapped_column(String(4096))
    verified: Mapped[bool] = mapped_column(Boolean)
    active: Mapped[bool] = mapped_column(Boolean)
    position: Mapped[int] = mapped_column(Integer)


class MessageRow(Base):
    __tablename__ = "messages"

    id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    state: Mapped[str] = mapped_column(String(16), index=True)
    severity: Mapped[str] = mapped_column(String(16))
    category: Mapped[str] = mapped_column(String(40))
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    target: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    approved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    fanout_cursor: Mapped[UUID | None] = mapped_column(Uuid)
    fanout_finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class DeliveryRow(Base):
    __tablename__ = "deliveries"

    delivery_id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    message_id: Mapped[UUID] = mapped_column(Uuid, index=True)
    subscriber_id: Mapped[UUID] = mapped_column(Uuid)
    channel: Mapped[str] = mapped_column(String(8))
    state: Mapped[str] = mapped_column(String(16))
    rank: Mapped[int] = mapped_column(Integer, default=0)
    reason: Mapped[str | None] = mapped_column(String(500))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
