"""The registry's HTTP API schemas."""

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.config import JsonDict

from hlasatel_contracts import CATEGORIES, AddressRole, Channel, IdentityLevel, Language, QuietHours
from hlasatel_contracts.addresses import MAX_CODE
from hlasatel_registry.domain.contacts import normalise


def _known_category(value: str) -> str:
    if value not in CATEGORIES:
        raise ValueError(f"unknown category; one of {', '.join(CATEGORIES)}")
    return value


Category = Annotated[str, AfterValidator(_known_category)]


def _distinct_addresses(value: list["AddressLink"]) -> list["AddressLink"]:
    if len({a.address_point for a in value}) != len(value):
        raise ValueError("an address point is listed twice")
    return value


class AddressLink(BaseModel):
    address_point: int = Field(
        description="RÚIAN kód adresního místa", examples=[23657235], ge=1, le=MAX_CODE
    )
    role: AddressRole = AddressRole.RESIDENT


class ContactCreate(BaseModel):
    channel: Channel
    value: str = Field(
        max_length=4096, description="Phone (Czech numbers without +420 accepted), e-mail or push token"
    )

    @model_validator(mode="after")
    def _normalised(self) -> "ContactCreate":
        self.value = normalise(self.channel, self.value)
        return self


class ConsentGiven(BaseModel):
    """What the citizen agreed to, in the words they were shown, and on which page: kept in the consent
    record."""

    page: Annotated[str, Field(min_length=1, max_length=300, examples=["/sign-up/check"])]
    statement: Annotated[
        str,
        Field(
            min_length=1,
            max_length=2000,
            examples=["Send me the city's messages about water and heating at my address by SMS and e-mail."],
        ),
    ]


class SubscriberCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "addresses": [{"address_point": 23657235, "role": "resident"}],
                    "contacts": [
                        {"channel": "sms", "value": "+420777123456"},
                        {"channel": "email", "value": "jana@example.cz"},
                        {"channel": "push", "value": "fcm-token-from-the-app"},
                    ],
                    "language": "cs",
                }
            ]
        }
    )

    addresses: Annotated[list[AddressLink], Field(min_length=1, max_length=10)]
    contacts: Annotated[list[ContactCreate], Field(min_length=1, max_length=10)]
    language: Language = Language.CS
    categories: list[Category] = Field(
        default_factory=lambda: list(CATEGORIES),
        description="Categories of city messages to receive (all by default); emergencies reach everyone",
    )
    quiet_hours: QuietHours | None = None
    consent: ConsentGiven | None = Field(
        default=None, description="What the citizen agreed to and on which page (the citizen's pages send it)"
    )

    @field_validator("addresses")
    @classmethod
    def _distinct(cls, value: list[AddressLink]) -> list[AddressLink]:
        return _distinct_addresses(value)

    @field_validator("contacts")
    @classmethod
    def _distinct_contacts(cls, value: list[ContactCreate]) -> list[ContactCreate]:
        if len({(c.channel, c.value) for c in value}) != len(value):
            raise ValueError("a contact is listed twice")
        return value


_ADDRESS_EXAMPLE: JsonDict = {
    "code": 23657235,
    "label": "Masarykova 522/12, Liberec I-Staré Město, 460 01",
    "district_code": 408638,
    "district": "Liberec I-Staré Město",
    "street": "Masarykova",
    "building_kind": "cp",
    "building_number": 522,
    "orientation_number": 12,
    "orientation_letter": None,
    "postcode": "46001",
    "latitude": 50.7733764,
    "longitude": 15.0665501,
}


class AddressRead(BaseModel):
    # what may be missing is optional in the document: its examples are written without the nulls
    model_config = ConfigDict(json_schema_extra={"examples": [_ADDRESS_EXAMPLE]})

    code: int
    label: str
    district_code: int
    district: str
    street: str | None = None
    building_kind: str
    building_number: int
    orientation_number: int | None = None
    orientation_letter: str | None = None
    postcode: str
    latitude: float | None = None
    longitude: float | None = None


class SubscribedAddressRead(BaseModel):
    address_point: int
    role: AddressRole
    label: str


class ContactRead(BaseModel):
    id: UUID
    channel: Channel
    value: str
    verified: bool
    active: bool


_SUBSCRIBER_EXAMPLE: JsonDict = {
    "id": "0b7d3c52-5d1e-4a43-9a3e-2f5d0c1b7a11",
    "version": 2,
    "language": "cs",
    "identity_level": "self_declared",
    "categories": ["water", "traffic", "weather"],
    "quiet_hours": {"start": "22:00:00", "end": "07:00:00", "timezone": "Europe/Prague"},
    "addresses": [
        {
            "address_point": 23657235,
            "role": "resident",
            "label": "Masarykova 522/12, Liberec I-Staré Město, 460 01",
        }
    ],
    "contacts": [
        {
            "id": "5f0f5f7e-0a55-4b8e-9a9d-7b7f8c2d1e01",
            "channel": "sms",
            "value": "+420777123456",
            "verified": True,
            "active": True,
        },
        {
            "id": "9c2b8c1e-7d4a-4f4e-8f65-1a2b3c4d5e6f",
            "channel": "email",
            "value": "jana@example.cz",
            "verified": False,
            "active": True,
        },
    ],
    "created_at": "2026-11-22T08:00:00Z",
    "updated_at": "2026-11-22T08:05:00Z",
}


class SubscriberRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_SUBSCRIBER_EXAMPLE]})

    id: UUID
    version: int
    language: Language
    identity_level: IdentityLevel
    categories: list[str]
    quiet_hours: QuietHours | None
    addresses: list[SubscribedAddressRead]
    contacts: list[ContactRead]
    created_at: datetime
    updated_at: datetime


class DistrictRead(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"code": 408638, "name": "Liberec I-Staré Město", "address_points": 1433}]
        }
    )

    code: int
    name: str
    address_points: int


class AddressSearchRead(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"query": "Masarykova 12, Liberec", "results": [_ADDRESS_EXAMPLE]}]}
    )

    query: str
    results: list[AddressRead] = Field(description="Best first")


class AddressNotFound(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"detail": "no address matches 'Masarykova 47'", "suggestions": [_ADDRESS_EXAMPLE]}]
        }
    )

    detail: str
    suggestions: list[AddressRead] = Field(description="The nearest existing addresses")


class StreetRead(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "code": 253031,
                    "name": "Kubelíkova",
                    "district_code": 408646,
                    "district": "Liberec VI-Rochlice",
                    "address_points": 7,
                }
            ]
        }
    )

    code: int
    name: str
    district_code: int
    district: str
    address_points: int


class SubscriberCreated(SubscriberRead):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [_SUBSCRIBER_EXAMPLE | {"version": 1, "access_token": "dGhpcyBpcyBzZWNyZXQ"}]
        }
    )

    access_token: str = Field(
        description="Shown once: the bearer token for managing this subscription (Authorization: Bearer …)"
    )


class SubscriberUpdate(BaseModel):
    """Only what is given changes; addresses, when given, replace the old ones."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"categories": ["water", "traffic"], "language": "en"}]}
    )

    language: Language | None = None
    categories: list[Category] | None = None
    quiet_hours: QuietHours | None = None
    addresses: Annotated[list[AddressLink], Field(min_length=1, max_length=10)] | None = None
    add_contacts: Annotated[list[ContactCreate], Field(max_length=10)] | None = None
    consent: ConsentGiven | None = Field(
        default=None, description="What the citizen agreed to with this change and on which page"
    )

    @field_validator("addresses")
    @classmethod
    def _distinct(cls, value: list[AddressLink] | None) -> list[AddressLink] | None:
        return None if value is None else _distinct_addresses(value)


class CodeCheck(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"code": "123456"}]})

    code: Annotated[str, Field(pattern=r"^\s*\d{6}\s*$")]


class AssistedCodeRequest(BaseModel):
    """A new code for a citizen a clerk is registering: their access token, which the clerk's console
    holds while they do."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"access_token": "the citizen's access token"}]}
    )

    access_token: Annotated[str, Field(min_length=1, max_length=200)]


class VerificationRead(BaseModel):
    """A verification says whether the code was right, and nothing else about the subscriber."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"verified": True}]})

    verified: bool


class AccessCodeRequest(BaseModel):
    """A verified phone number or e-mail address of a subscription whose access token was lost."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"channel": "sms", "value": "+420777123456"}]})

    channel: Literal[Channel.SMS, Channel.EMAIL]
    value: str = Field(max_length=320)

    @model_validator(mode="after")
    def _normalised(self) -> "AccessCodeRequest":
        self.value = normalise(self.channel, self.value)
        return self


class AccessTokenRequest(AccessCodeRequest):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"channel": "sms", "value": "+420777123456", "code": "123456"}]}
    )

    code: Annotated[str, Field(pattern=r"^\s*\d{6}\s*$")]


class AccessGranted(BaseModel):
    """A new access token for each subscription the contact belongs to; the old tokens no longer work."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "subscriptions": [
                        {
                            "subscriber_id": "0b7d3c52-5d1e-4a43-9a3e-2f5d0c1b7a11",
                            "access_token": "dGhpcyBpcyBzZWNyZXQ",
                        }
                    ]
                }
            ]
        }
    )

    subscriptions: list[dict[str, str]]


class ContactLookup(BaseModel):
    """An operator's question: which subscriptions have this phone number or e-mail address."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"channel": "sms", "value": "777 123 456", "reason": "citizen at the front desk, lost phone"}
            ]
        }
    )

    channel: Channel
    value: str = Field(max_length=4096)
    reason: Annotated[str, Field(min_length=3, max_length=500)] = Field(
        description="Why (a citizen's request at the office, its reference): kept in the operators' audit"
    )

    @model_validator(mode="after")
    def _normalised(self) -> "ContactLookup":
        self.value = normalise(self.channel, self.value)
        return self


class SubscriptionFound(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "subscriber_id": "0b7d3c52-5d1e-4a43-9a3e-2f5d0c1b7a11",
                    "created_at": "2026-11-22T08:00:00Z",
                    "identity_level": "self_declared",
                    "addresses": [
                        {
                            "address_point": 23657235,
                            "role": "resident",
                            "label": "Masarykova 522/12, Liberec I-Staré Město, 460 01",
                        }
                    ],
                }
            ]
        }
    )

    subscriber_id: UUID
    created_at: datetime
    identity_level: IdentityLevel
    addresses: list[SubscribedAddressRead]


class ErasureRequest(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"reason": "citizen's request at the front desk, ref. MML/2026/4711"}]
        }
    )

    reason: Annotated[str, Field(min_length=3, max_length=500)]


class OperatorAuditRead(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "at": "2026-12-03T09:12:00Z",
                    "operator": "Přepážka 3",
                    "action": "erased",
                    "subscriber_id": "0b7d3c52-5d1e-4a43-9a3e-2f5d0c1b7a11",
                    "reason": "citizen's request at the front desk, ref. MML/2026/4711",
                    "detail": None,
                }
            ]
        }
    )

    at: datetime
    operator: str
    action: str
    subscriber_id: UUID | None = None
    reason: str | None = None
    detail: dict[str, object] | None = None
