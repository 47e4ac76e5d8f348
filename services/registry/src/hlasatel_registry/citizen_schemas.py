"""What the citizen's pages and the city's portal read from the registry: the messages a citizen was sent,
and what a link in a message does."""

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from hlasatel_contracts import Channel


class MessageSentRead(BaseModel):
    """One message as it reached the citizen on one channel."""

    message_id: UUID
    headline: str = Field(examples=["Přerušení dodávky vody – Masarykova"])
    text: str = Field(examples=["Zítra 8–14 h nepoteče voda v ulici Masarykova 1–25."])
    category: str = Field(examples=["water"])
    severity: str = Field(examples=["warning"], description="emergency, warning or info")
    channel: Channel
    sent_at: datetime | None = Field(description="When the message was approved to go out")
    state: str = Field(examples=["delivered"], description="queued, accepted, delivered, failed, …")
    updated_at: datetime = Field(description="When its state last changed")


class MessagesRead(BaseModel):
    """What the city sent the citizen, newest first, for as long as the composer keeps deliveries."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "kept_for_days": 7,
                    "messages": [
                        {
                            "message_id": "7d3f1c2a-9b4e-4f1a-8c2d-1e0f5a6b7c8d",
                            "headline": "Přerušení dodávky vody – Masarykova",
                            "text": "Zítra 8–14 h nepoteče voda v ulici Masarykova 1–25.",
                            "category": "water",
                            "severity": "warning",
                            "channel": "sms",
                            "sent_at": "2026-11-23T07:00:00+00:00",
                            "state": "delivered",
                            "updated_at": "2026-11-23T07:00:04+00:00",
                        }
                    ],
                }
            ]
        }
    )

    kept_for_days: float | None = Field(description="How long the city keeps the record of a delivery")
    messages: list[MessageSentRead]


class UnsubscribeLinkRead(BaseModel):
    """What a link in a message leaves: one category, or every non-emergency message."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"category": "water", "done": False}]})

    category: str | None = Field(description="The category it leaves; null: every non-emergency message")
    done: bool = Field(description="Whether it was done (a link for everything waits for `confirm`)")


class UnsubscribeByLink(BaseModel):
    """Leave what the link is for; a link for everything needs `confirm`."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"confirm": True, "via": "email_link"}]})

    confirm: bool = False
    via: Literal["email_link", "sms_link", "one_click"] = "email_link"


class EmailLinkCheck(BaseModel):
    """The signed token of an e-mail's verification link."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"token": "the token of the link"}]})

    token: Annotated[str, Field(min_length=1, max_length=1000)]
