"""A message's life and an alert's chain, without a database: the aggregates on plain records, and the
cancellation use case through a fake unit of work."""

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import pytest

from hlasatel_composer.domain.access import FourEyesRequired, Principal, Role
from hlasatel_composer.domain.alert import Alert, Made
from hlasatel_composer.domain.message import InvalidTransition, Message, MessageApproved, draft
from hlasatel_composer.domain.messages import MessageState
from hlasatel_composer.handlers.messages import stop
from hlasatel_contracts import MessageCancelled

NOW = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)
AUTHOR = Principal(key_id="k-author", name="Jana Nováková", role=Role.APPROVER)
OTHER = Principal(key_id="k-other", name="Jana Nováková", role=Role.APPROVER)  # the same name, another key


@dataclass
class Record:
    """A message's record as the repository keeps it; here, a plain object."""

    id: UUID = field(default_factory=uuid4)
    state: str = MessageState.DRAFT.value
    severity: str = "warning"
    category: str = "water"
    content: dict[str, Any] = field(default_factory=lambda: {"cs": {"sms": "Odstávka"}})
    target: dict[str, Any] | None = field(default_factory=lambda: {"streets": [{"name": "Masarykova"}]})
    follows: UUID | None = None
    unless_at: UUID | None = None
    alert_id: UUID | None = None
    author: str = AUTHOR.name
    author_key_id: str | None = AUTHOR.key_id
    approved_by: str | None = None
    approved_by_key_id: str | None = None
    approved_at: datetime | None = None
    cancelled_at: datetime | None = None
    send_at: datetime | None = None
    expires_at: datetime | None = None
    fanout_cursor: UUID | None = None
    fanout_finished_at: datetime | None = None
    key_fingerprint: str | None = None
    failure: str | None = None
    purged_at: datetime | None = None
    recipients_kept: int | None = None
    review: dict[str, Any] | None = None


def approve(message: Message, by: Principal = OTHER, subscribers: int = 10) -> None:
    message.approve(by=by, at=NOW, subscribers=subscribers, four_eyes_threshold=1000)


class TestTransitions:
    def test_a_draft_is_approved_sent_and_done_and_says_so_on_the_way(self) -> None:
        message = Message(draft(Record))
        approve(message)
        assert message.take_events() == [MessageApproved(message.id)]
        message.start(key_fingerprint="abc")
        message.start(key_fingerprint="def")
        message.finish(at=NOW)
        assert (message.state, message.record.key_fingerprint) == (MessageState.DONE, "abc")

    @pytest.mark.parametrize(
        ("state", "action"),
        [
            ("approved", "approve"),
            ("done", "approve"),
            ("cancelled", "cancel"),
            ("draft", "start"),
            ("done", "finish"),
            ("cancelled", "fail"),
            ("sending", "purge"),
        ],
    )
    def test_what_a_state_does_not_allow_is_refused(self, state: str, action: str) -> None:
        message = Message(Record(state=state))
        calls = {
            "approve": lambda: approve(message),
            "cancel": lambda: message.cancel(at=NOW),
            "start": lambda: message.start(key_fingerprint="x"),
            "finish": lambda: message.finish(at=NOW),
            "fail": lambda: message.fail(reason="x", at=NOW),
            "purge": lambda: message.purge(at=NOW, recipients=1),
        }
        with pytest.raises(InvalidTransition):
            calls[action]()
        assert message.state == MessageState(state)

    def test_four_eyes_count_keys_not_names(self) -> None:
        city = Message(draft(Record, target={"city": True}))
        with pytest.raises(FourEyesRequired):
            approve(city, by=AUTHOR)
        approve(city, by=OTHER)
        assert city.record.approved_by_key_id == OTHER.key_id

    def test_a_cancelled_draft_tells_nobody_and_a_cancelled_send_tells_the_dispatchers(self) -> None:
        withdrawn, stopped = Message(draft(Record)), Message(Record(state="sending"))
        withdrawn.cancel(at=NOW)
        stopped.cancel(at=NOW)
        assert withdrawn.take_events() == []
        assert stopped.take_events() == [MessageCancelled(message_id=stopped.id, cancelled_at=NOW)]

    def test_a_companion_goes_only_with_its_update(self) -> None:
        released = Message(draft(Record, unless_at=uuid4()))
        with pytest.raises(InvalidTransition, match="goes out with the update"):
            approve(released)
        released.approve(by=OTHER, at=NOW, subscribers=0, four_eyes_threshold=1000, companion=True)
        assert released.state is MessageState.APPROVED

    def test_only_a_message_sent_and_still_known_can_be_followed(self) -> None:
        with pytest.raises(InvalidTransition, match="once it has been sent"):
            Message(Record(state="sending")).check_can_be_followed()
        with pytest.raises(InvalidTransition, match="no longer kept"):
            Message(Record(state="done", purged_at=NOW)).check_can_be_followed()
        Message(Record(state="cancelled")).check_can_be_followed()


@dataclass
class AlertRecord:
    id: UUID = field(default_factory=uuid4)
    event_id: str = "SVS-1"
    state: str = "active"
    current: UUID | None = None
    updated_at: datetime = NOW


class TestAlertChains:
    @pytest.mark.parametrize(
        ("current", "same_area", "withdraw", "made"),
        [
            ("draft", False, True, (Made.FRESH,)),
            ("done", True, False, (Made.UPDATE,)),
            ("sending", False, False, (Made.UPDATE, Made.RELEASED)),
        ],
    )
    def test_an_update(self, current: str, same_area: bool, withdraw: bool, made: tuple[Made, ...]) -> None:
        plan = Alert(AlertRecord()).update(Message(Record(state=current)), same_area=same_area, at=NOW)
        assert (plan.withdraw_current, plan.make) == (withdraw, made)

    @pytest.mark.parametrize(
        ("current", "cancel", "withdraw", "stop", "made"),
        [
            ("draft", True, True, False, ()),
            ("sending", True, False, True, (Made.END,)),
            ("sending", False, False, False, (Made.END,)),
            ("done", True, False, False, (Made.END,)),
        ],
    )
    def test_an_end(
        self, current: str, cancel: bool, withdraw: bool, stop: bool, made: tuple[Made, ...]
    ) -> None:
        record = AlertRecord()
        plan = Alert(record).end(Message(Record(state=current)), cancel=cancel, at=NOW)
        assert (plan.withdraw_current, plan.stop_current, plan.make) == (withdraw, stop, made)
        assert record.state == "ended"
        with pytest.raises(Exception, match="has ended"):
            Alert(record).update(Message(Record(state="done")), same_area=True, at=NOW)


class FakeMessages:
    def __init__(self, *messages: Message) -> None:
        self.seen = {message.id: message for message in messages}

    async def companions(self, message_id: UUID) -> list[Message]:
        return [
            m
            for m in self.seen.values()
            if m.record.unless_at == message_id and m.state is MessageState.DRAFT
        ]


class FakeDeliveries:
    def __init__(self) -> None:
        self.dropped: list[UUID] = []

    async def drop_held(self, message_id: UUID, *, at: datetime, reason: str) -> int:
        self.dropped.append(message_id)
        return 3


class FakeUnitOfWork:
    """The unit of work without a database: what was committed, and what the outbox would then publish."""

    def __init__(self, *messages: Message) -> None:
        self.messages = FakeMessages(*messages)
        self.deliveries = FakeDeliveries()
        self.audited: list[tuple[str, dict[str, Any]]] = []
        self.published: list[object] = []
        self.committed = False

    async def audit(self, *, actor: Principal, action: str, **fields: Any) -> None:
        self.audited.append((action, fields))

    async def commit(self) -> None:
        self.published += [e for m in self.messages.seen.values() for e in m.take_events()]
        self.committed = True


class TestCancellation:
    async def test_a_cancel_stops_its_companions_drops_what_was_held_and_tells_the_dispatchers_once_committed(
        self,
    ) -> None:
        update = Message(Record(state="sending"))
        released = Message(draft(Record, unless_at=update.id))
        work = FakeUnitOfWork(update, released)
        await stop(work, update, actor=OTHER)  # type: ignore[arg-type]
        assert work.published == [], "nothing is told before the commit"
        await work.commit()
        assert [type(e) for e in work.published] == [MessageCancelled]
        assert released.state is MessageState.CANCELLED and work.deliveries.dropped == [update.id]
        assert work.audited == [
            ("message.cancelled", {"message_id": update.id, "detail": {"held_deliveries_dropped": 3}})
        ]
