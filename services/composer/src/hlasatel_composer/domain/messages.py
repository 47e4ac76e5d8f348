"""Messages: content per channel and language, severity and lanes, targets. Pure rules, no I/O."""

from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field, model_validator

from hlasatel_contracts import Channel, Lane, Language


class Severity(StrEnum):
    EMERGENCY = "emergency"
    WARNING = "warning"
    INFO = "info"


class MessageState(StrEnum):
    DRAFT = "draft"
    APPROVED = "approved"
    SENDING = "sending"
    DONE = "done"
    CANCELLED = "cancelled"
    FAILED = "failed"  # could not be sent at all (its stored content or target does not read)
    REJECTED = "rejected"  # an approver refused it, with a reason


def lane_for(severity: Severity) -> Lane:
    """Emergencies overtake everything; the rest shares the bulk lane."""
    return Lane.EMERGENCY if severity is Severity.EMERGENCY else Lane.BULK


def one_line(text: str) -> str:
    """A header's text: a line break in a subject or title would end the header (or start another)."""
    if any(c in text for c in "\r\n\x00\u2028\u2029\x85"):
        raise ValueError("must be one line: no line breaks")
    return text


OneLine = AfterValidator(one_line)


class EmailContent(BaseModel):
    subject: Annotated[str, Field(min_length=1, max_length=200), OneLine]
    text: Annotated[str, Field(min_length=1, max_length=100_000)]
    html: Annotated[str, Field(max_length=300_000)] | None = None


class PushContent(BaseModel):
    title: Annotated[str, Field(min_length=1, max_length=100), OneLine]
    body: Annotated[str, Field(min_length=1, max_length=1000)]


class ChannelContent(BaseModel):
    sms: Annotated[str, Field(min_length=1, max_length=1600)] | None = None
    email: EmailContent | None = None
    push: PushContent | None = None

    def channels(self) -> set[Channel]:
        return {channel for channel in Channel if getattr(self, channel.value) is not None}


class Content(BaseModel):
    """Per language; Czech is required and is what a missing language falls back to."""

    cs: ChannelContent
    en: ChannelContent | None = None
    de: ChannelContent | None = None
    pl: ChannelContent | None = None
    uk: ChannelContent | None = None

    @model_validator(mode="after")
    def _czech_has_something(self) -> "Content":
        if not self.cs.channels():
            raise ValueError("the Czech content needs at least one channel (sms, email or push)")
        return self

    def channels(self) -> set[Channel]:
        """The channels the message goes out on: those its Czech content has."""
        return self.cs.channels()

    def for_language(self, language: Language, channel: Channel) -> ChannelContent:
        """The subscriber's language where it has this channel, Czech otherwise."""
        own: ChannelContent | None = getattr(self, language.value)
        if own is not None and getattr(own, channel.value) is not None:
            return own
        return self.cs
