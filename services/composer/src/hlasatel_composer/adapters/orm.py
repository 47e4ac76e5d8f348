"""The composer's tables: the city's register and the targeting index (projections of the registry's
topics), messages, deliveries, what each message targeted and reached, alerts and their templates, API
keys, idempotent requests and the audit log."""

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import JSON, BigInteger, Boolean, Float, Index, Integer, MetaData, String, Text, Uuid
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from hlasatel_runtime.database import UtcDateTime
from hlasatel_runtime.outbox import OutboxColumns


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
    # the registry's codes per category (and 'all'), each unsubscribing from that alone
    unsubscribe_tokens: Mapped[dict[str, str] | None] = mapped_column(JSON(none_as_null=True))


class IndexedPoint(Base):
    """An address point of the city's register, projected from the register topic
    (registry.address-points.v1); until the register's record of a point arrives, as the subscriber
    records that mention it describe it (version 0), which the register's record then replaces."""

    __tablename__ = "index_points"

    code: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    # the register's version of the point; 0 while only subscriber records have described it
    version: Mapped[int] = mapped_column(Integer, default=0)
    # no longer in the register: never targeted or looked up, still named in old reports
    retired: Mapped[bool] = mapped_column(Boolean, default=False)
    municipality_code: Mapped[int | None] = mapped_column(Integer)
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


class RegisterState(Base):
    """One row: a number that moves with every change of `index_points`, so that each composer process
    knows when to read the register into memory again."""

    __tablename__ = "register_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    generation: Mapped[int] = mapped_column(Integer)
    changed_at: Mapped[datetime] = mapped_column(UtcDateTime)


class DistrictOutline(Base):
    """A district's outline for the console's map: the hull of its live address points, made again when
    an import changes them."""

    __tablename__ = "district_outlines"

    district_code: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    district: Mapped[str] = mapped_column(String(100))
    address_points: Mapped[int] = mapped_column(Integer)
    # a GeoJSON Polygon or MultiPolygon, [longitude, latitude] as GeoJSON has it
    geometry: Mapped[dict[str, Any]] = mapped_column(JSON)
    computed_at: Mapped[datetime] = mapped_column(UtcDateTime)


class IndexedAddress(Base):
    """A subscriber at an address point, with what deciding and counting an audience needs of them there:
    one row answers whether they are reached at a point and on which contacts, so that a preview of the
    whole city counts rows rather than looking each subscriber up."""

    __tablename__ = "index_addresses"
    # SQLite keeps the rows in the order of the key, a subscriber's together: counting distinct
    # subscribers of the whole city walks them in order instead of sorting 100,000 ids (171 against
    # 331 ms at 100,000 subscribers)
    __table_args__ = (
        # what an unfiltered count reads, in the order of the points: a target's rows are counted from this
        # index alone (on SQLite a district at 100,000 subscribers: 35 -> 16 ms)
        Index(
            "ix_index_addresses_counted",
            "address_point_code",
            "subscriber_id",
            "categories",
            "sms",
            "email",
            "push",
        ),
        {"sqlite_with_rowid": False},
    )

    subscriber_id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    address_point_code: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    role: Mapped[str] = mapped_column(String(16))
    language: Mapped[str] = mapped_column(String(2))
    identity_level: Mapped[str] = mapped_column(String(16))
    # the categories chosen, a bit each in the order of hlasatel_contracts.CATEGORIES
    categories: Mapped[int] = mapped_column(Integer)
    # the chosen contact of each channel as a 63-bit digest of its value (None: no such contact), so that
    # a phone shared by two subscribers is counted once, as the fan-out sends it once
    sms: Mapped[int | None] = mapped_column(BigInteger)
    email: Mapped[int | None] = mapped_column(BigInteger)
    push: Mapped[int | None] = mapped_column(BigInteger)


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
    # listed in the public CAP and Atom feeds
    public: Mapped[bool] = mapped_column(Boolean, default=True)
    # of an alert: what this message is in its chain (alert, update, released, cancel, all-clear, warning)
    alert_id: Mapped[UUID | None] = mapped_column(Uuid, index=True)
    kind: Mapped[str | None] = mapped_column(String(16))
    # an update's released part: the original's recipients except those at this message's address points
    unless_at: Mapped[UUID | None] = mapped_column(Uuid, index=True)
    # CAP's view of the message when it came as CAP: urgency, severity, certainty, event
    cap: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    # the API key that wrote it (keys are told apart by id: two keys may share a name)
    author_key_id: Mapped[str | None] = mapped_column(String(64), index=True)
    approved_by_key_id: Mapped[str | None] = mapped_column(String(64))
    # which secret its delivery ids are keyed with (hlasatel_runtime.secrets.fingerprint)
    key_fingerprint: Mapped[str | None] = mapped_column(String(16))
    # why a message failed: it could not be sent at all
    failure: Mapped[str | None] = mapped_column(String(500))
    # its deliveries and households were summarised into counts and deleted (retention), and how many
    # subscribers it had reached
    purged_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    recipients_kept: Mapped[int | None] = mapped_column(Integer)
    # when what it announces begins (an outage's planned start, a warning's onset), for the CAP export
    onset: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # the area of its address points for a map: a description and CAP polygons ([[latitude, longitude],
    # …] rings), made when its target was resolved (a street or a house has no polygon of its own)
    area: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    # an approver's decision other than approval: rejected, or returned for changes (decision, reason, by,
    # by_key_id, at); cleared when the draft is changed
    review: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))


class TargetPoint(Base):
    """The address points of the register a target resolved to: kept per message (the households it
    targeted, and what the public address lookup finds), thrown away after a preview."""

    __tablename__ = "target_points"

    resolution_id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    address_point_code: Mapped[int] = mapped_column(BigInteger, primary_key=True, index=True)


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
    # published again because no dispatcher reported on it (a broker that lost its log, say)
    redrives: Mapped[int] = mapped_column(Integer, default=0)


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
    categories: Mapped[list[str] | None] = mapped_column(JSON(none_as_null=True))
    area: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    pre_approved: Mapped[list[str] | None] = mapped_column(JSON(none_as_null=True))
    rate_limit_per_minute: Mapped[int | None] = mapped_column(Integer)
    emergency: Mapped[bool] = mapped_column(Boolean, default=False)
    whole_city: Mapped[bool] = mapped_column(Boolean, default=False)
    cap_senders: Mapped[list[str] | None] = mapped_column(JSON(none_as_null=True))


class CapSenderRow(Base):
    """A CAP <sender> and the key that speaks for it: the first key to send as it, or the one an admin
    named. Another key's documents under that sender are refused, follow-ups included."""

    __tablename__ = "cap_senders"

    sender: Mapped[str] = mapped_column(String(200), primary_key=True)
    key_id: Mapped[str] = mapped_column(String(64))
    bound_at: Mapped[datetime] = mapped_column(UtcDateTime)


class AlertRow(Base):
    """An incident a utility or an agency tells the city about, through its messages: the alert, its
    updates and its end. `current` is the message whose recipients are the ones now affected."""

    __tablename__ = "alerts"

    id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    source: Mapped[str] = mapped_column(String(8))
    sender: Mapped[str] = mapped_column(String(200))
    event_id: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(40))
    state: Mapped[str] = mapped_column(String(16))
    current: Mapped[UUID | None] = mapped_column(Uuid)
    # the last event as received, for an update that changes only part of it
    event: Mapped[dict[str, Any]] = mapped_column(JSON)
    digest: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # the key that started it: only that key may follow it up
    owner_key_id: Mapped[str | None] = mapped_column(String(64))


class AlertRef(Base):
    """Every id by which a sender may refer to an alert: a utility's event id, each CAP identifier."""

    __tablename__ = "alert_refs"

    sender: Mapped[str] = mapped_column(String(200), primary_key=True)
    ref: Mapped[str] = mapped_column(String(200), primary_key=True)
    alert_id: Mapped[UUID] = mapped_column(Uuid, index=True)


class AlertTemplateRow(Base):
    """An admin's version of a template; the shipped default applies where there is none."""

    __tablename__ = "alert_templates"

    language: Mapped[str] = mapped_column(String(2), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    sms: Mapped[str] = mapped_column(Text)
    subject: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_by: Mapped[str] = mapped_column(String(100))


class IdempotentRequest(Base):
    """A request made with an Idempotency-Key, and its answer to give again when it is repeated."""

    __tablename__ = "idempotent_requests"

    key_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int | None] = mapped_column(Integer)
    response: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class AuditRow(Base):
    """Who did what to which message when, and how many it reached; never a citizen's data."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    actor: Mapped[str] = mapped_column(String(100))
    actor_key_id: Mapped[str | None] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(40))
    message_id: Mapped[UUID | None] = mapped_column(Uuid, index=True)
    target_size: Mapped[int | None] = mapped_column(Integer)
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class DeliveryCount(Base):
    """A message's deliveries per channel and state, kept once the deliveries themselves are deleted."""

    __tablename__ = "delivery_counts"

    message_id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    channel: Mapped[str] = mapped_column(String(8), primary_key=True)
    state: Mapped[str] = mapped_column(String(16), primary_key=True)
    count: Mapped[int] = mapped_column(Integer)


class HouseholdCount(Base):
    """A message's report per household, kept once who was sent what there is deleted: counts only."""

    __tablename__ = "household_counts"

    message_id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    address_point_code: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    subscribers: Mapped[int] = mapped_column(Integer)
    deliveries: Mapped[int] = mapped_column(Integer)
    states: Mapped[dict[str, int]] = mapped_column(JSON)
    reached: Mapped[bool] = mapped_column(Boolean)


class OutboxRow(OutboxColumns, Base):
    """What the composer tells the bus outside the fan-out (cancellations), committed with the change."""


class StaffRow(Base):
    """A member of the city's staff who signs in to the console: the role and scope a key would have, a
    password (argon2id) and a TOTP secret (sealed with the composer's secret)."""

    __tablename__ = "staff"

    id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    # as typed, compared case-folded
    email: Mapped[str] = mapped_column(String(254), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    categories: Mapped[list[str] | None] = mapped_column(JSON(none_as_null=True))
    area: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    emergency: Mapped[bool] = mapped_column(Boolean, default=False)
    whole_city: Mapped[bool] = mapped_column(Boolean, default=False)
    # none until the invitation is accepted
    password_hash: Mapped[str | None] = mapped_column(String(200))
    totp_secret: Mapped[str | None] = mapped_column(String(300))
    # the time step of the last code used: a code works once
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    totp_enrolled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    invitation_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    invitation_expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    created_by: Mapped[str] = mapped_column(String(100))
    disabled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class StaffSessionRow(Base):
    """A staff member's session, known by its token's hash; the console holds the token."""

    __tablename__ = "staff_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    staff_id: Mapped[UUID] = mapped_column(Uuid, index=True)
    stage: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # while enrolling: the secret offered, sealed, until a code proves the app has it
    offered_secret: Mapped[str | None] = mapped_column(String(300))
