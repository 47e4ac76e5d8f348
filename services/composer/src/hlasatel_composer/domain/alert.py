"""An alert is a chain of messages; what each follow-up makes of it. Pure.

Its current message is the one whose recipients are affected now. An update goes to the new area and,
when the area changed, a released message tells the current recipients outside it; a cancel or an
all-clear goes to exactly the current recipients, and a cancel stops a fan-out still running. A current
message still waiting for an approver has told nobody: it is withdrawn, and an update replaces it with a
fresh alert while an end says nothing at all; one an approver rejected has told nobody either.
"""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol
from uuid import UUID

from hlasatel_composer.domain.alerts import AlertConflict, AlertState
from hlasatel_composer.domain.message import Message
from hlasatel_composer.domain.messages import MessageState


class Made(StrEnum):
    """What a follow-up sends: a fresh alert or an update to the area, a released word, the end."""

    FRESH = "fresh"
    UPDATE = "update"
    RELEASED = "released"
    END = "end"


@dataclass(frozen=True)
class FollowUp:
    """What a follow-up does to the current message, and what it makes."""

    withdraw_current: bool = False  # still a draft: cancelled, nobody told
    stop_current: bool = False  # a cancel of a message still being sent
    make: tuple[Made, ...] = ()


class AlertRecord(Protocol):
    id: UUID
    event_id: str
    state: str
    current: UUID | None
    updated_at: datetime


class Alert:
    """One incident and the messages that tell of it."""

    def __init__(self, record: AlertRecord) -> None:
        self.record = record

    @property
    def active(self) -> bool:
        return self.record.state == AlertState.ACTIVE.value

    def check_active(self, what: str) -> None:
        if not self.active:
            raise AlertConflict(f"alert {self.record.event_id} has ended; nothing can {what} it")

    def update(self, current: Message, *, same_area: bool, at: datetime) -> FollowUp:
        """New times, area or reason: to whoever is affected now, and a released word to those no longer."""
        self.check_active("update")
        self.record.updated_at = at
        if current.state is MessageState.DRAFT:
            return FollowUp(withdraw_current=True, make=(Made.FRESH,))
        if current.state is MessageState.REJECTED:
            return FollowUp(make=(Made.FRESH,))
        return FollowUp(make=(Made.UPDATE,) if same_area else (Made.UPDATE, Made.RELEASED))

    def end(self, current: Message, *, cancel: bool, at: datetime) -> FollowUp:
        """It will not happen (cancel) or it is over (all-clear): to the current recipients; nothing can
        follow it afterwards."""
        self.check_active("end")
        self.record.state, self.record.updated_at = AlertState.ENDED.value, at
        if current.state is MessageState.DRAFT:
            return FollowUp(withdraw_current=True)
        if current.state is MessageState.REJECTED:
            return FollowUp()
        still_going = current.state not in (MessageState.DONE, MessageState.CANCELLED)
        return FollowUp(stop_current=cancel and still_going, make=(Made.END,))

    def now_told_by(self, message_id: UUID) -> None:
        """The message whose recipients are the ones affected from now on."""
        self.record.current = message_id
