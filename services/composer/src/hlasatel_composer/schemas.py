"""The composer's HTTP API schemas."""

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from hlasatel_composer.domain.access import Role
from hlasatel_composer.domain.messages import Content, MessageState, Severity
from hlasatel_composer.domain.targeting import Target
from hlasatel_contracts import CATEGORIES

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


class MessageRead(BaseModel):
    id: UUID
    state: MessageState
    severity: Severity
    category: str
    content: Content
    target: Target | None
    follows: UUID | None = Field(description="The message this one updates")
    sms_transliterate: bool
    author: str
    approved_by: str | None
    created_at: datetime
    approved_at: datetime | None
    send_at: datetime | None
    expires_at: datetime | None
    cancelled_at: datetime | None
    recipients: int = Field(description="Subscribers with at least one delivery")
    deliveries: dict[str, dict[str, int]] = Field(
        description="Per channel, the number of deliveries in each state",
        examples=[{"sms": {"accepted": 12}}],
    )
    waiting_for_quiet_hours: int = Field(description="Deliveries held until the subscriber's quiet hours end")


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


class SmsLengthRead(BaseModel):
    characters: int
    encoding: Literal["GSM-7", "UCS-2"]
    segments: int
    per_segment: int = Field(description="Characters a segment holds at this length and encoding")
    non_gsm: list[str] = Field(description="The characters that force UCS-2")


class PreviewRead(BaseModel):
    address_points: int = Field(description="Targeted address points where someone would be sent the message")
    subscribers: int
    deliveries: dict[str, int] = Field(description="Per channel: messages that would be sent")
    streets: list[str] = Field(description="Streets the target covers, as 'street (district)'")
    sms: dict[str, SmsLengthRead] = Field(
        default_factory=dict, description="Per language: the SMS as sent, unsubscribe footer included"
    )
    unknown: list[str] = Field(
        default_factory=list, description="District and street names no subscriber's address has"
    )
    four_eyes: bool = Field(description="Whether an approver other than the author must approve it")


class HouseholdRead(BaseModel):
    address_point_code: int
    address: str | None
    district: str | None
    street: str | None
    subscribers: int
    deliveries: int
    states: dict[str, int]
    reached: bool


class ReportRead(BaseModel):
    message_id: UUID
    state: MessageState
    deliveries: dict[str, dict[str, int]]
    waiting_for_quiet_hours: int
    households_targeted: int = Field(description="Address points where someone was sent the message")
    households_reached: int = Field(description="Of those, where a provider accepted or delivered it")
    unreached: list[HouseholdRead] = Field(
        description="Where nobody was reached: for a visit or a loudspeaker"
    )


class ApiKeyCreate(BaseModel):
    name: Annotated[str, Field(min_length=1, max_length=100, examples=["Jana Nováková, tisková mluvčí"])]
    role: Role


class ApiKeyRead(BaseModel):
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
    role: str
    action: str
    message_id: UUID | None
    target_size: int | None
    detail: dict[str, Any] | None
