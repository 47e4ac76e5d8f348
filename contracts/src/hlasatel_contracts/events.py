"""Pydantic models of everything that crosses the bus.

Every event carries ``schema_version``; consumers ignore fields they do not know, so a field may be
added without a new version, and anything else needs a new version and topic.
"""

from datetime import datetime, time
from enum import StrEnum
from functools import cache
from typing import Annotated, ClassVar, Literal
from uuid import UUID
from zoneinfo import available_timezones

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from hlasatel_contracts.topics import Channel, Lane


class Event(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    schema_version: Literal[1] = 1


class Language(StrEnum):
    CS = "cs"
    EN = "en"
    DE = "de"
    PL = "pl"
    UK = "uk"


class AddressRole(StrEnum):
    RESIDENT = "resident"
    OWNER = "owner"
    WORKPLACE = "workplace"
    CAREGIVER = "caregiver"


CATEGORIES: tuple[str, ...] = (
    "water",
    "electricity",
    "gas",
    "heating",
    "traffic",
    "waste",
    "culture",
    "city-council",
    "weather",
    "safety",
)
"""What a city message can be about; a subscriber chooses among these, a message has one."""


class IdentityLevel(StrEnum):
    SELF_DECLARED = "self_declared"
    VERIFIED = "verified"


class BuildingKind(StrEnum):
    """Číslo popisné (a house) or číslo evidenční (a cottage, garage, temporary building)."""

    POPISNE = "cp"
    EVIDENCNI = "ce"


class AddressPoint(BaseModel):
    """An RÚIAN address point, as much of it as targeting needs."""

    model_config = ConfigDict(frozen=True)

    code: int = Field(description="RÚIAN kód adresního místa")
    district_code: int = Field(description="Kód části obce")
    district: str = Field(description="Název části obce, e.g. 'Liberec I-Staré Město'")
    street_code: int | None = None
    street: str | None = Field(default=None, description="None where the address has no street")
    building_kind: BuildingKind
    building_number: int = Field(description="Číslo popisné or evidenční")
    orientation_number: int | None = Field(default=None, description="Číslo orientační")
    orientation_letter: str | None = Field(default=None, description="Znak čísla orientačního, e.g. 'a'")
    postcode: str
    latitude: float | None = None
    longitude: float | None = None


class SubscribedAddress(BaseModel):
    model_config = ConfigDict(frozen=True)

    address: AddressPoint
    role: AddressRole


class Contact(BaseModel):
    model_config = ConfigDict(frozen=True)

    contact_id: UUID
    channel: Channel
    value: str = Field(description="E.164 phone number, e-mail address or push token")
    verified: bool
    active: bool


@cache
def _time_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def iana_time_zone(name: str) -> str:
    """A time zone of the IANA database by its name ('Europe/Prague'); anything else is refused here, so
    that no consumer meets a zone it cannot read."""
    if name not in _time_zones():
        raise ValueError("not a time zone of the IANA database, such as Europe/Prague")
    return name


class QuietHours(BaseModel):
    model_config = ConfigDict(frozen=True)

    start: time
    end: time
    timezone: Annotated[str, Field(max_length=64), AfterValidator(iana_time_zone)] = "Europe/Prague"


class SubscriberChanged(Event):
    """The subscriber's full current state; the latest version wins."""

    type: Literal["subscriber.changed"] = "subscriber.changed"
    subscriber_id: UUID
    version: int = Field(ge=1, description="Grows with every change of this subscriber")
    occurred_at: datetime
    language: Language
    identity_level: IdentityLevel
    categories: list[str] = Field(description="Chosen categories; emergencies reach everyone regardless")
    quiet_hours: QuietHours | None = None
    addresses: list[SubscribedAddress]
    contacts: list[Contact]
    unsubscribe_token: str | None = Field(
        default=None,
        description="Of registries before per-category links: a code that unsubscribes from everything",
    )
    unsubscribe_tokens: dict[str, str] = Field(
        default_factory=dict,
        description="The registry's unsubscribe codes, each good for one category (by name) or, under "
        "'all', for every non-emergency message after a confirmation; the composer puts them in links",
    )


class SubscriberErased(Event):
    """The tombstone of an erased subscriber: no personal data is left in it."""

    type: Literal["subscriber.erased"] = "subscriber.erased"
    subscriber_id: UUID
    version: int = Field(ge=1)
    occurred_at: datetime


SubscriberEvent = Annotated[SubscriberChanged | SubscriberErased, Field(discriminator="type")]


class AddressPointChanged(Event):
    """An address point of the city's register as it is now; the latest version wins. A point the latest
    RÚIAN export no longer has is retired (`retired_at`), never deleted: citizens may still be registered
    there, and old reports name it."""

    type: Literal["address_point.changed"] = "address_point.changed"
    version: int = Field(ge=1, description="Grows with every change of this address point")
    occurred_at: datetime
    municipality_code: int = Field(description="Kód obce, e.g. 563889 for Liberec")
    municipality: str = Field(description="Název obce")
    address: AddressPoint
    retired_at: datetime | None = Field(
        default=None, description="When an export first lacked it: no longer an address of the city"
    )


class DeliveryRequest(Event):
    """What every channel's delivery request carries besides its content."""

    channel: ClassVar[Channel]

    delivery_id: UUID = Field(description="Deterministic: the same message, subscriber and channel")
    message_id: UUID
    subscriber_id: UUID
    contact_id: UUID
    lane: Lane
    category: str
    requested_at: datetime
    expires_at: datetime | None = None


class SendSms(DeliveryRequest):
    channel: ClassVar[Channel] = Channel.SMS
    type: Literal["send.sms"] = "send.sms"
    to: str = Field(description="E.164")
    text: str


class SendEmail(DeliveryRequest):
    channel: ClassVar[Channel] = Channel.EMAIL
    type: Literal["send.email"] = "send.email"
    to: str
    subject: str
    text: str
    html: str | None = None
    unsubscribe_url: str | None = None


class SendPush(DeliveryRequest):
    channel: ClassVar[Channel] = Channel.PUSH
    type: Literal["send.push"] = "send.push"
    token: str
    title: str
    body: str
    data: dict[str, str] = Field(default_factory=dict)


class DeliveryState(StrEnum):
    QUEUED = "queued"
    ACCEPTED = "accepted"
    DELIVERED = "delivered"
    FAILED = "failed"
    EXPIRED = "expired"
    CONTACT_INVALID = "contact_invalid"
    CANCELLED = "cancelled"


class DeliveryStatusChanged(Event):
    type: Literal["delivery.status"] = "delivery.status"
    delivery_id: UUID
    message_id: UUID
    subscriber_id: UUID
    contact_id: UUID
    channel: Channel
    state: DeliveryState
    occurred_at: datetime
    provider: str | None = None
    provider_message_id: str | None = None
    reason: str | None = Field(default=None, description="Provider's reason; never a contact value")
    retryable: bool = False
    attempt: int = 1
    segments: int | None = None


class MessageCancelled(Event):
    """The press office stopped a message: deliveries not yet handed to a provider are not sent."""

    type: Literal["message.cancelled"] = "message.cancelled"
    message_id: UUID
    cancelled_at: datetime


class DeadLetter(Event):
    type: Literal["dead_letter"] = "dead_letter"
    service: str
    source_topic: str
    partition: int
    offset: int
    key: str | None
    value: str = Field(description="The original record's value, base64")
    reason: str
    failed_at: datetime


DELIVERY_REQUEST_BY_CHANNEL: dict[Channel, type[DeliveryRequest]] = {
    Channel.SMS: SendSms,
    Channel.EMAIL: SendEmail,
    Channel.PUSH: SendPush,
}
