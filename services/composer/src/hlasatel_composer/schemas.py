"""The composer's HTTP API schemas."""

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from hlasatel_composer.domain.messages import Content, MessageState, Severity, Target
from hlasatel_contracts import CATEGORIES


class MessageCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "severity": "warning",
                    "category": "water",
                    "content": {
                        "cs": {
                            "sms": "Liberec: zitra 8-14 h odstavka vody v ulici Masarykova.",
                            "email": {"subject": "Odstávka vody", "text": "Zítra 8–14 h nepoteče voda."},
                            "push": {"title": "Odstávka vody", "body": "Zítra 8–14 h, Masarykova"},
                        }
                    },
                    "target": {"streets": [{"name": "Masarykova"}]},
                }
            ]
        }
    )

    severity: Severity
    category: Annotated[Literal[CATEGORIES], Field(examples=["water"])]  # type: ignore[valid-type]
    content: Content
    target: Target
    expires_at: datetime | None = None


class MessageRead(BaseModel):
    id: UUID
    state: MessageState
    severity: Severity
    category: str
    content: Content
    target: Target
    created_at: datetime
    approved_at: datetime | None
    expires_at: datetime | None
    recipients: int = Field(description="Subscribers with at least one delivery")
    deliveries: dict[str, dict[str, int]] = Field(
        description="Per channel, the number of deliveries in each state",
        examples=[{"sms": {"accepted": 12}}],
    )


class PreviewRequest(BaseModel):
    target: Target
    category: Literal[CATEGORIES] | None = Field(  # type: ignore[valid-type]
        default=None, description="Counts only subscribers who chose this category (everyone when absent)"
    )


class PreviewRead(BaseModel):
    address_points: int = Field(description="Targeted address points where at least one subscriber lives")
    subscribers: int
    deliveries: dict[str, int] = Field(description="Per channel: subscribers reachable on it")
    streets: list[str] = Field(description="Streets the target covers, as 'street (district)'")
