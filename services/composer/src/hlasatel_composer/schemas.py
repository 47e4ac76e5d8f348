"""The composer's HTTP API schemas."""

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, model_validator

from hlasatel_composer.domain.access import Role, Scope
from hlasatel_composer.domain.alerts import AlertState
from hlasatel_composer.domain.messages import ChannelContent, Content, MessageState, Severity
from hlasatel_composer.domain.privacy import Count
from hlasatel_composer.domain.targeting import Selection, Target
from hlasatel_composer.domain.templates import AlertKind, TemplateText
from hlasatel_contracts import CATEGORIES, Language

Category = Annotated[Literal[CATEGORIES], Field(examples=["water"])]  # type: ignore[valid-type]

_EXAMPLE_CONTENT: dict[str, Any] = {
    "cs": {
        "sms": "Liberec: zitra 8-14 h odstavka vody v ulici Masarykova.",
        "email": {"subject": "Odstávka vody", "text": "Zítra 8–14 h nepoteče voda."},
        "push": {"title": "Odstávka vody", "body": "Zítra 8–14 h, Masarykova"},
    }
}


class MessageCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "severity": "warning",
                    "category": "water",
                    "content": _EXAMPLE_CONTENT,
                    "target": {
                        "streets": [{"name": "Masarykova", "houses": {"numbers": ["1-25"], "side": "odd"}}]
                    },
                }
            ]
        }
    )

    severity: Severity
    category: Category
    content: Content
    target: Target
    sms_transliterate: bool = Field(
        default=False, description="Send the SMS without Czech diacritics: 160 characters a segment, not 70"
    )
    send_at: datetime | None = Field(default=None, description="Not before this time (ISO 8601 with zone)")
    expires_at: datetime | None = Field(default=None, description="Deliveries not made by then are dropped")


class FollowUpCreate(BaseModel):
    """An update or an all-clear: it reaches exactly whoever the original reached."""

    severity: Severity | None = Field(default=None, description="The original's when absent")
    content: Content
    sms_transliterate: bool = False
    expires_at: datetime | None = None


class MessageUpdate(BaseModel):
    """A draft changed by the press office: only what is given changes, and it waits for an approver again
    (an alert's messages are the alert's sender's to change, by an update)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"content": _EXAMPLE_CONTENT}]})

    severity: Severity | None = None
    category: Category | None = None
    content: Content | None = None
    target: Target | None = Field(default=None, description="Not of an update, which keeps its original's")
    sms_transliterate: bool | None = None
    send_at: datetime | None = None
    expires_at: datetime | None = None


Reason = Annotated[str, Field(min_length=1, max_length=500, pattern=r"\S")]


class ReviewCreate(BaseModel):
    """An approver's reason for rejecting a draft or returning it for changes."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"reason": "Uveďte, odkdy bude voda znovu téct."}]}
    )

    reason: Reason


class ReviewRead(BaseModel):
    decision: Literal["rejected", "returned"]
    reason: str
    by: str
    by_key_id: str | None = Field(default=None, description="Who exactly: the key's or the staff member's id")
    at: datetime


class MessageRead(BaseModel):
    id: UUID
    state: MessageState
    severity: Severity
    category: str
    content: Content
    target: Target | None
    follows: UUID | None = Field(description="The message this one updates")
    alert_id: UUID | None = Field(default=None, description="The utility's or agency's alert it belongs to")
    kind: str | None = Field(
        default=None,
        description="Its place in the alert: alert, update, released, cancel, all-clear, warning",
    )
    sms_transliterate: bool
    author: str
    author_key_id: str | None = Field(
        default=None, description="Who exactly wrote it: the key's id, or 'staff:<id>' for a staff member"
    )
    approved_by: str | None
    review: ReviewRead | None = Field(
        default=None, description="An approver's rejection, or return for changes, with the reason"
    )
    created_at: datetime
    approved_at: datetime | None
    send_at: datetime | None
    expires_at: datetime | None
    cancelled_at: datetime | None
    failure: str | None = Field(default=None, description="Why a failed message could not be sent")
    recipients: Count = Field(
        description="Subscribers with at least one delivery ('fewer than 5' for a target narrowed by "
        "language, role or identity)"
    )
    deliveries: dict[str, dict[str, Count]] = Field(
        description="Per channel, the number of deliveries in each state",
        examples=[{"sms": {"accepted": 12}}],
    )
    waiting_for_quiet_hours: Count = Field(
        description="Deliveries held until the subscriber's quiet hours end"
    )


class PreviewRequest(BaseModel):
    target: Target
    category: Category | None = Field(
        default=None, description="Counts only subscribers who chose this category (everyone when absent)"
    )
    severity: Severity | None = Field(default=None, description="An emergency reaches every category")
    content: Content | None = Field(
        default=None, description="When given: deliveries only on its channels, and its SMS measured"
    )
    sms_transliterate: bool = False


class TargetRequest(BaseModel):
    target: Target


class SmsLengthRead(BaseModel):
    characters: int
    encoding: Literal["GSM-7", "UCS-2"]
    segments: int
    per_segment: int = Field(description="Characters a segment holds at this length and encoding")
    non_gsm: list[str] = Field(description="The characters that force UCS-2")


class UnknownNameRead(BaseModel):
    """A name of the target that the register does not have at all: most often a typo."""

    name: str
    kind: Literal["district", "street"]
    suggestions: list[str] = Field(description="The register's nearest names, best first")


class PreviewRead(BaseModel):
    """Counts of people of a target narrowed by language, role or identity below 5 are 'fewer than 5'."""

    address_points: int = Field(
        description="Every address point of the city's register the target covers, whether or not anyone "
        "there has subscribed: the households concerned"
    )
    address_points_with_subscribers: Count = Field(
        description="Of those, the address points where someone would be sent the message"
    )
    subscribers: Count
    deliveries: dict[str, Count] = Field(description="Per channel: messages that would be sent")
    streets: list[str] = Field(description="Streets the target covers, as 'street (district)'")
    sms: dict[str, SmsLengthRead] = Field(
        default_factory=dict, description="Per language: the SMS as sent, unsubscribe footer included"
    )
    unknown: list[UnknownNameRead] = Field(
        default_factory=list,
        description="District and street names the city's register does not have at all, with the nearest "
        "names it has",
    )
    four_eyes: bool = Field(description="Whether an approver other than the author must approve it")


NotReachedReason = Literal["subscribed_not_reached", "not_subscribed"]


class HouseholdRead(BaseModel):
    """One targeted household (an address point of the register); never listed for a target narrowed by
    language, role or identity."""

    address_point_code: int
    address: str | None
    district: str | None
    street: str | None
    number: str | None = Field(
        default=None, description="As the post writes it: '522/12', 'č.p. 244', 'č.ev. 12'"
    )
    postcode: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    subscribers: int = Field(description="Subscribers sent the message there")
    deliveries: int
    states: dict[str, int]
    reached: bool
    reason: NotReachedReason | None = Field(
        default=None,
        description="Why nobody there was reached: someone was sent it and no provider took it "
        "(subscribed_not_reached), or nobody there was to be sent it (not_subscribed)",
    )


class HouseholdsNotReachedRead(BaseModel):
    total: Count
    subscribed_not_reached: Count = Field(
        description="Someone there was sent the message, and no provider accepted or delivered it to anyone"
    )
    not_subscribed: Count = Field(
        description="Nobody there was to be sent it: nobody has subscribed, or nobody who chose its category"
    )


class ReportRead(BaseModel):
    message_id: UUID
    state: MessageState
    deliveries: dict[str, dict[str, Count]]
    waiting_for_quiet_hours: Count
    households_targeted: int = Field(
        description="Every address point of the city's register in the message's target (for an update, in "
        "its original's), whether or not anyone there has subscribed"
    )
    households_reached: Count = Field(description="Of those, where a provider accepted or delivered it")
    households_not_reached: HouseholdsNotReachedRead | None = Field(
        description="Why the others were not: none for a message narrowed by language, role or identity"
    )
    unreached: list[HouseholdRead] = Field(
        description="Households nobody was reached at, sorted by district, street and number, at most "
        "`unreached_limit` of them (every one: unreached.csv and unreached.geojson): for a visit or a "
        "loudspeaker"
    )
    households_withheld: str | None = Field(
        default=None,
        description="Why the households are not listed: a target narrowed by language, role or identity",
    )
    purged: bool = Field(
        default=False,
        description="Who was sent what has been deleted (COMPOSER_DELIVERY_RETENTION_DAYS): counts only",
    )


UTILITY_RATE_LIMIT = 60


class KeyArea(Selection):
    """A utility's network: the address points, streets, districts, polygons or circles it serves."""

    @model_validator(mode="after")
    def _part_of_the_city(self) -> "KeyArea":
        if self.city:
            raise ValueError("an area is a part of the city; leave it out to allow the whole city")
        if self.is_empty():
            raise ValueError("the area selects nothing")
        return self


class KeyScope(BaseModel):
    categories: list[Category] | None = Field(
        default=None, description="Only these categories may be sent; every one when absent"
    )
    area: KeyArea | None = Field(default=None, description="Only address points in it may be targeted")
    pre_approved: list[Category] = Field(
        default_factory=list, description="Categories whose alerts go out without an approver"
    )
    rate_limit_per_minute: int | None = Field(
        default=None, ge=1, le=100_000, description="Requests a minute; a utility key has 60 when absent"
    )
    emergency: bool = Field(
        default=False, description="May send emergencies (they overtake everything, ignore quiet hours)"
    )
    whole_city: bool = Field(
        default=False,
        description="Its pre-approved alerts go out without an approver even to more subscribers than "
        "the four-eyes threshold, or to the whole city",
    )
    cap_senders: list[Annotated[str, Field(min_length=1, max_length=200)]] | None = Field(
        default=None,
        description="The CAP <sender> values it speaks for; when absent, any sender no other key has used",
    )


class ApiKeyCreate(KeyScope):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "Severočeská vodárenská, dispečink",
                    "role": "utility",
                    "categories": ["water"],
                    "pre_approved": ["water"],
                    "area": {"districts": ["Vratislavice nad Nisou"]},
                }
            ]
        }
    )

    name: Annotated[str, Field(min_length=1, max_length=100, examples=["Jana Nováková, tisková mluvčí"])]
    role: Role

    @model_validator(mode="after")
    def _pre_approved_within_categories(self) -> "ApiKeyCreate":
        if self.categories is not None and not set(self.pre_approved) <= set(self.categories):
            raise ValueError("pre_approved categories must be among the key's categories")
        return self

    def scope(self) -> Scope:
        limit = self.rate_limit_per_minute
        return Scope(
            categories=frozenset(self.categories) if self.categories is not None else None,
            area=self.area,
            pre_approved=frozenset(self.pre_approved),
            rate_limit_per_minute=UTILITY_RATE_LIMIT
            if limit is None and self.role is Role.UTILITY
            else limit,
            emergency=self.emergency,
            whole_city=self.whole_city,
            cap_senders=frozenset(self.cap_senders) if self.cap_senders is not None else None,
        )


class ApiKeyRead(KeyScope):
    id: UUID
    name: str
    role: Role
    prefix: str = Field(description="The key's first characters, to tell keys apart")
    created_at: datetime
    created_by: str
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyRead):
    key: str = Field(description="Shown once; only its hash is stored")


class AuditRead(BaseModel):
    at: datetime
    actor: str
    actor_key_id: str | None = Field(default=None, description="The key's id: who it was, exactly")
    role: str
    action: str
    message_id: UUID | None
    target_size: int | None
    detail: dict[str, Any] | None


class AlertMessageRead(BaseModel):
    id: UUID
    kind: str | None = Field(description="alert, update, released, cancel, all-clear or warning")
    state: MessageState


class AlertRead(BaseModel):
    id: UUID
    source: Literal["json", "cap"]
    sender: str = Field(description="The key's name for a JSON event, CAP's <sender> for CAP")
    event_id: str = Field(description="The utility's event id, or the first CAP identifier")
    category: str
    state: AlertState
    current: UUID | None = Field(description="The message whose recipients are the ones affected now")
    awaiting_approval: bool = Field(description="Some of its messages wait in the approvers' queue")
    messages: list[AlertMessageRead]
    created_at: datetime
    updated_at: datetime
    reach: str | None = Field(
        default=None,
        description="Of the answer to an alert or update: whom its message reaches, and whether it is in the "
        "public feeds (an area where nobody has subscribed yet still has its message published)",
        examples=[
            "it reaches 12 subscribers at 9 of the 38 address points of its area, and it is in the "
            "city's CAP and Atom feeds"
        ],
    )


class TemplateRead(TemplateText):
    language: Language
    kind: AlertKind
    customised: bool = Field(description="An admin's version; false is the template Hlasatel ships")
    example: ChannelContent = Field(description="The template rendered for an example water outage")


class CapInfoRead(BaseModel):
    language: str
    event: str
    categories: list[str]
    urgency: str
    severity: str
    certainty: str
    onset: datetime | None
    expires: datetime | None
    areas: list[str] = Field(description="Each area's description")
    polygons: int
    circles: int
    geocodes: int


class CapReceived(BaseModel):
    """What a CAP document said, and what the city made of it."""

    identifier: str
    sender: str
    sent: datetime
    status: str
    msg_type: str
    references: list[str]
    infos: list[CapInfoRead]
    outcome: str = Field(description="What was done, or why nothing was sent")
    alert: AlertRead | None = Field(description="The city's alert it started, updated or ended")


class PublicMessageRead(BaseModel):
    """A public message of the city, in Czech, with its CAP 1.2 document."""

    id: UUID
    kind: str | None = Field(
        description="Of an alert's chain: alert, update or warning; none for the press's"
    )
    category: str
    severity: Severity
    headline: str
    text: str
    sent: datetime
    onset: datetime | None = Field(default=None, description="When what it announces begins")
    expires_at: datetime | None
    cap: str = Field(description="Its CAP 1.2 document")


class AddressMessagesRead(BaseModel):
    """What concerns one address now."""

    address_point: int
    address: str = Field(examples=["Masarykova 522/12, Liberec V-Kristiánov, 460 05"])
    messages: list[PublicMessageRead] = Field(description="In force now, newest first")
    feed: str = Field(description="Every public message of the city, as Atom")
