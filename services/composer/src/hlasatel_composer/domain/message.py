"""A message's life: draft → approved → sending → done, or cancelled, or failed, or rejected. Pure.

`Message` is the aggregate: it wraps the record its repository keeps (any object with the fields of
`MessageRecord`, the composer's ORM row in service, a dataclass in unit tests), decides every change of
its state, and collects the events the outside world is told of. Nothing else assigns a message's state.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any, Protocol, TypeVar
from uuid import UUID

from hlasatel_composer.domain.access import Forbidden, Principal, check_four_eyes
from hlasatel_composer.domain.messages import Content, MessageState, Severity
from hlasatel_composer.domain.targeting import Target
from hlasatel_contracts import MessageCancelled
from hlasatel_runtime.errors import SafeError

FANNING_OUT = (MessageState.APPROVED, MessageState.SENDING)
OVER = (MessageState.DONE, MessageState.CANCELLED, MessageState.FAILED, MessageState.REJECTED)
GOING = (MessageState.DRAFT, *FANNING_OUT)


class InvalidTransition(SafeError):
    """The message is not in a state that allows this."""


class MessageNotFound(SafeError):
    """No message has that id (or none the key may see)."""


class MessageRecord(Protocol):
    """What a message's record holds; the repository keeps it, the aggregate decides what changes."""

    id: UUID
    state: str
    severity: str
    category: str
    content: dict[str, Any]
    target: dict[str, Any] | None
    follows: UUID | None
    unless_at: UUID | None
    alert_id: UUID | None
    author: str
    author_key_id: str | None
    approved_by: str | None
    approved_by_key_id: str | None
    approved_at: datetime | None
    cancelled_at: datetime | None
    send_at: datetime | None
    expires_at: datetime | None
    fanout_cursor: UUID | None
    fanout_finished_at: datetime | None
    key_fingerprint: str | None
    failure: str | None
    purged_at: datetime | None
    recipients_kept: int | None
    review: dict[str, Any] | None


@dataclass(frozen=True)
class MessageApproved:
    """Inside the composer: the fan-out has something new to send."""

    message_id: UUID


DomainEvent = MessageApproved | MessageCancelled
T = TypeVar("T")


def draft(make: Callable[..., T], **fields: Any) -> T:
    """A new message's record, as a draft."""
    return make(state=MessageState.DRAFT.value, **fields)


class Message:
    """One message of the city and what may happen to it."""

    def __init__(self, record: MessageRecord) -> None:
        self.record = record
        self.events: list[DomainEvent] = []

    @property
    def id(self) -> UUID:
        return self.record.id

    @property
    def state(self) -> MessageState:
        return MessageState(self.record.state)

    @property
    def severity(self) -> Severity:
        return Severity(self.record.severity)

    @cached_property
    def content(self) -> Content:
        return Content.model_validate(self.record.content)

    @cached_property
    def target(self) -> Target | None:
        """Its own target; a follow-up and an alert's released, cancel and all-clear messages have none."""
        return Target.model_validate(self.record.target) if self.record.target else None

    @property
    def fanning_out(self) -> bool:
        return self.state in FANNING_OUT

    @property
    def over(self) -> bool:
        return self.state in OVER

    def reaches_whole_city(self) -> bool:
        return self.target is not None and self.target.is_whole_city()

    def take_events(self) -> list[DomainEvent]:
        events, self.events = self.events, []
        return events

    def check_approvable(self) -> None:
        if self.state is not MessageState.DRAFT:
            raise InvalidTransition(f"message is {self.state}, only a draft can be approved")
        if self.returned:
            by = (self.record.review or {}).get("by")
            raise InvalidTransition(f"{by} returned this message for changes: it waits for its author")

    def approve(
        self,
        *,
        by: Principal,
        at: datetime,
        subscribers: int,
        four_eyes_threshold: int,
        note: str = "",
        companion: bool = False,
        pre_approved: bool = False,
    ) -> None:
        """A draft approved: four eyes above the threshold or for the whole city, checked by key id. A
        companion (an update's word to those it no longer affects) goes only with its update, which was
        checked; a key's pre-approval by the city (and its reach, granted by an admin) stands in for the
        second pair of eyes."""
        self.check_approvable()
        if self.record.unless_at is not None and not companion:
            update = self.record.unless_at
            raise InvalidTransition(
                f"this message goes out with the update it belongs to: approve message {update}"
            )
        if not (companion or pre_approved):
            check_four_eyes(
                author_key_id=self.record.author_key_id,
                approver=by,
                subscribers=subscribers,
                whole_city=self.reaches_whole_city(),
                threshold=four_eyes_threshold,
            )
        self.record.state = MessageState.APPROVED.value
        self.record.approved_at = at
        self.record.approved_by = by.name + note
        self.record.approved_by_key_id = by.key_id
        self.events.append(MessageApproved(self.id))

    def check_reviewable(self, by: Principal, what: str) -> None:
        """An approver's decision on someone else's draft."""
        if self.state is not MessageState.DRAFT:
            raise InvalidTransition(f"message is {self.state}, only a draft can be {what}")
        if self.record.author_key_id == by.key_id:
            raise InvalidTransition(
                f"you wrote this message, so it cannot be {what} by you: cancel it to withdraw it"
            )
        if self.record.unless_at is not None:
            raise InvalidTransition(
                "this message goes out with the update it belongs to: "
                f"decide on message {self.record.unless_at}"
            )

    def reject(self, *, by: Principal, at: datetime, reason: str) -> None:
        """An approver refuses it for good, saying why; nothing is sent."""
        self.check_reviewable(by, "rejected")
        self.record.state = MessageState.REJECTED.value
        self.record.review = _review("rejected", by=by, at=at, reason=reason)

    def return_for_edit(self, *, by: Principal, at: datetime, reason: str) -> None:
        """An approver hands the draft back to be changed, saying what; it stays a draft."""
        self.check_reviewable(by, "returned")
        if self.record.alert_id is not None:
            raise InvalidTransition(
                "an alert's message is written by the system that sent the alert: approve or reject it"
            )
        self.record.review = _review("returned", by=by, at=at, reason=reason)

    def check_editable(self) -> None:
        if self.state is not MessageState.DRAFT:
            raise InvalidTransition(f"message is {self.state}, only a draft can be changed")
        if self.record.alert_id is not None:
            raise InvalidTransition(
                "an alert's message is written by the system that sent the alert: it sends an update"
            )

    def check_changed_by(self, principal: Principal) -> None:
        """Only its author changes a draft: four eyes compare the author with the approver, so a second
        person who changed it could otherwise approve what they wrote. Another returns it with a reason."""
        self.check_editable()
        if self.record.author_key_id != principal.key_id:
            raise Forbidden(
                f"only its author, {self.record.author}, changes a draft: return it to them with a reason"
            )

    def edited(self) -> None:
        """Changed by its author: it waits for an approver again."""
        self.check_editable()
        self.record.review = None

    @property
    def returned(self) -> bool:
        return self.state is MessageState.DRAFT and (self.record.review or {}).get("decision") == "returned"

    def cancel(self, *, at: datetime) -> None:
        """Stopped: a draft is withdrawn silently; a message that may have gone out tells the dispatchers."""
        if self.state is MessageState.CANCELLED:
            raise InvalidTransition("message is already cancelled")
        if self.state is MessageState.REJECTED:
            raise InvalidTransition("message was rejected: nothing of it was sent")
        was_approved = self.state is not MessageState.DRAFT
        self.record.state = MessageState.CANCELLED.value
        self.record.cancelled_at = at
        if was_approved:
            self.events.append(MessageCancelled(message_id=self.id, cancelled_at=at))

    def start(self, *, key_fingerprint: str) -> None:
        """Its first batch goes out: its delivery ids are keyed by the secret of now, for good."""
        if not self.fanning_out:
            raise InvalidTransition(f"message is {self.state}: only an approved message is sent")
        self.record.state = MessageState.SENDING.value
        if self.record.key_fingerprint is None:
            self.record.key_fingerprint = key_fingerprint

    def sent_up_to(self, cursor: UUID) -> None:
        """Every subscriber up to this one has their deliveries on the bus."""
        self.record.fanout_cursor = cursor

    def finish(self, *, at: datetime) -> None:
        if not self.fanning_out:
            raise InvalidTransition(f"message is {self.state}: only a message being sent can be done")
        self.record.state = MessageState.DONE.value
        self.record.fanout_finished_at = at

    def fail(self, *, reason: str, at: datetime) -> None:
        """It cannot be sent at all (its stored content or target does not read)."""
        if not self.fanning_out:
            raise InvalidTransition(f"message is {self.state}: only a message being sent can fail")
        self.record.state = MessageState.FAILED.value
        self.record.failure = reason[:500]
        self.record.fanout_finished_at = at

    def expired(self, now: datetime) -> bool:
        return self.record.expires_at is not None and self.record.expires_at <= now

    def check_can_be_followed(self) -> None:
        """An update follows a message once it has gone out, and while its recipients are known."""
        if self.state not in (MessageState.DONE, MessageState.CANCELLED):
            raise InvalidTransition(
                f"message is {self.state}: an update follows a message once it has been sent"
            )
        if self.record.purged_at is not None:
            raise InvalidTransition(
                "whom this message reached is no longer kept (deleted after the retention period): "
                "write a new message to its area instead"
            )

    def purge(self, *, at: datetime, recipients: int) -> None:
        """Who was sent it is deleted; only counts are kept."""
        if not self.over:
            raise InvalidTransition(f"message is {self.state}: its deliveries are still needed")
        self.record.purged_at = at
        self.record.recipients_kept = recipients


def _review(decision: str, *, by: Principal, at: datetime, reason: str) -> dict[str, Any]:
    return {
        "decision": decision,
        "reason": reason,
        "by": by.name,
        "by_key_id": by.key_id,
        "at": at.isoformat(),
    }
