"""Roles and four eyes, quiet hours, updates and cancellation, and the per-household report."""

import csv
import io
from datetime import UTC, datetime, time, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from hlasatel_composer.adapters import access
from hlasatel_composer.adapters.orm import AuditRow, DeliveryRow
from hlasatel_composer.domain.access import Forbidden, FourEyesRequired, Principal, Role
from hlasatel_composer.domain.schedule import quiet_until
from hlasatel_composer.handlers import keys, messages, reports, statuses
from hlasatel_composer.handlers.common import InvalidTransition
from hlasatel_composer.schemas import ApiKeyCreate, FollowUpCreate
from hlasatel_contracts import AddressPoint, Channel, DeliveryState, QuietHours

from ..conftest import status_of

Addresses = dict[str, list[AddressPoint]]
PRAGUE = ZoneInfo("Europe/Prague")


def quiet_now() -> QuietHours:
    """Quiet hours that are on right now and end in about an hour."""
    now = datetime.now(PRAGUE)
    return QuietHours(start=(now - timedelta(hours=1)).time(), end=(now + timedelta(hours=1)).time())


class TestRolesAndFourEyes:
    async def test_an_editor_drafts_but_cannot_approve(self, harness: Any, addresses: Addresses) -> None:
        message_id = await harness.draft({"streets": [{"name": "Masarykova"}]})
        with pytest.raises(Forbidden, match="needs approver"):
            await harness.approve(message_id, approver=harness.editor)

    async def test_a_large_message_needs_an_approver_other_than_its_author(
        self, harness: Any, addresses: Addresses
    ) -> None:
        await harness.index(*(harness.subscriber(p) for p in addresses["Masarykova"][:4]))
        message_id = await harness.draft({"streets": [{"name": "Masarykova"}]}, author=harness.approver)
        with pytest.raises(FourEyesRequired, match="4 subscribers"):
            await harness.approve(message_id, approver=harness.approver, threshold=3)
        await harness.approve(message_id, approver=harness.second_approver, threshold=3)
        message = await messages.get_message(uow=harness.uow, message_id=message_id)
        assert (message.state, message.author, message.approved_by) == (
            "approved",
            harness.approver.name,
            harness.second_approver.name,
        )

    async def test_a_small_message_may_be_approved_by_its_author_but_not_the_whole_city(
        self, harness: Any, addresses: Addresses
    ) -> None:
        await harness.index(harness.subscriber(addresses["Masarykova"][0]))
        small = await harness.draft({"streets": [{"name": "Masarykova"}]}, author=harness.approver)
        await harness.approve(small, approver=harness.approver)
        city = await harness.draft({"city": True}, author=harness.approver)
        with pytest.raises(FourEyesRequired, match="the whole city"):
            await harness.approve(city, approver=harness.approver)

    async def test_every_action_is_audited_without_personal_data(
        self, harness: Any, addresses: Addresses
    ) -> None:
        await harness.index(harness.subscriber(addresses["Masarykova"][0], phone="+420777999888"))
        admin = Principal(key_id="9", name="Admin", role=Role.ADMIN)
        created = await keys.create_key(
            sessions=harness.sessions, principal=admin, data=ApiKeyCreate(name="Vodárna", role="editor")
        )
        async with harness.sessions() as session:
            assert (await access.principal_for(session, created.key)) is not None
        message_id = await harness.send({"streets": [{"name": "Masarykova"}]})
        await keys.revoke_key(sessions=harness.sessions, principal=admin, key_id=created.id)
        async with harness.sessions() as session:
            assert await access.principal_for(session, created.key) is None
            rows = (await session.scalars(select(AuditRow).order_by(AuditRow.id))).all()
        assert [(r.actor, r.action) for r in rows] == [
            ("Admin", "key.created"),
            (harness.editor.name, "message.created"),
            (harness.approver.name, "message.approved"),
            ("Admin", "key.revoked"),
        ]
        approved = rows[2]
        assert (approved.message_id, approved.target_size) == (message_id, 1)
        assert "777999888" not in repr([(r.detail, r.actor) for r in rows]) and created.key not in repr(rows)
        with pytest.raises(Forbidden):
            await keys.audit_log(sessions=harness.sessions, principal=harness.approver)


class TestQuietHours:
    async def test_a_warning_waits_and_an_emergency_goes_at_once(
        self, harness: Any, addresses: Addresses
    ) -> None:
        sleeping = harness.subscriber(addresses["Masarykova"][0], quiet_hours=quiet_now(), push=False)
        awake = harness.subscriber(addresses["Masarykova"][1], push=False)
        await harness.index(sleeping, awake)
        warning = await harness.send({"streets": [{"name": "Masarykova"}]})
        assert harness.published.subscribers() == {awake.subscriber_id}
        shown = await messages.get_message(uow=harness.uow, message_id=warning)
        assert shown.waiting_for_quiet_hours == 1
        harness.published.requests.clear()
        await harness.send({"streets": [{"name": "Masarykova"}]}, severity="emergency")
        assert harness.published.subscribers() == {sleeping.subscriber_id, awake.subscriber_id}

    async def test_held_deliveries_go_once_the_quiet_hours_end(
        self, harness: Any, addresses: Addresses
    ) -> None:
        sleeping = harness.subscriber(addresses["Masarykova"][0], quiet_hours=quiet_now(), push=False)
        await harness.index(sleeping)
        await harness.send({"streets": [{"name": "Masarykova"}]})
        fan_out = harness.fan_out()
        assert await fan_out.release_held() == 0 and harness.published.requests == []
        async with harness.sessions() as session, session.begin():
            held = (await session.scalars(select(DeliveryRow))).one()
            assert held.not_before is not None
            assert held.not_before - datetime.now(UTC) < timedelta(hours=1, minutes=1)
            held.not_before = datetime.now(UTC) - timedelta(seconds=1)  # the clock moves on
        assert await fan_out.release_held() == 1
        assert harness.published.subscribers() == {sleeping.subscriber_id}
        assert await fan_out.release_held() == 0

    def test_quiet_hours_over_midnight(self) -> None:
        night = QuietHours(start=time(22), end=time(7))
        at = datetime(2026, 11, 22, 23, 30, tzinfo=PRAGUE)
        assert quiet_until(night, at) == datetime(2026, 11, 23, 7, tzinfo=PRAGUE)
        assert quiet_until(night, at.replace(hour=6)) == datetime(2026, 11, 22, 7, tzinfo=PRAGUE)
        assert quiet_until(night, at.replace(hour=12)) is None


class TestUpdatesAndCancellation:
    async def test_an_update_reaches_exactly_the_recipients_of_the_original(
        self, harness: Any, addresses: Addresses
    ) -> None:
        first = [harness.subscriber(p) for p in addresses["Masarykova"][:3]]
        await harness.index(*first)
        original = await harness.send({"streets": [{"name": "Masarykova"}]})
        got_original = harness.published.subscribers()
        # afterwards someone moves in, and one of the first unsubscribes from water
        newcomer = harness.subscriber(addresses["Masarykova"][3])
        changed = harness.subscriber(
            addresses["Masarykova"][0],
            subscriber_id=first[0].subscriber_id,
            version=2,
            categories=["culture"],
        )
        await harness.index(newcomer, changed)
        harness.published.requests.clear()
        update = await messages.create_follow_up(
            uow=harness.uow,
            principal=harness.editor,
            message_id=original,
            data=FollowUpCreate.model_validate({"content": {"cs": {"sms": "Voda opět teče."}}}),
        )
        await harness.approve(update.id)
        await harness.fan_out().fan_out(update.id)
        assert harness.published.subscribers() == got_original
        assert {r.channel for r in harness.published.requests} == {Channel.SMS}
        report = await reports.report(
            sessions=harness.sessions, principal=harness.editor, message_id=update.id
        )
        assert report.households_targeted == 3

    async def test_an_update_waits_for_the_original_to_be_sent(
        self, harness: Any, addresses: Addresses
    ) -> None:
        draft = await harness.draft({"streets": [{"name": "Masarykova"}]})
        with pytest.raises(InvalidTransition):
            await messages.create_follow_up(
                uow=harness.uow,
                principal=harness.editor,
                message_id=draft,
                data=FollowUpCreate.model_validate({"content": {"cs": {"sms": "Oprava"}}}),
            )

    async def test_cancelling_stops_the_fan_out_and_held_deliveries(
        self, harness: Any, addresses: Addresses
    ) -> None:
        street = addresses["Masarykova"]
        # the lowest id: in the first batch, which goes out before the cancel
        sleeping = harness.subscriber(
            street[0], quiet_hours=quiet_now(), push=False, subscriber_id=UUID(int=1)
        )
        await harness.index(sleeping, *(harness.subscriber(p, push=False) for p in street[1:9]))
        message_id = await harness.approved({"streets": [{"name": "Masarykova"}]})
        fan_out = harness.fan_out(batch_size=3)
        await fan_out._next_batch(message_id)  # one batch out, the rest still to go
        sent_before = len(harness.published.requests)
        cancelled = await messages.cancel_message(
            uow=harness.uow,
            principal=harness.approver,
            message_id=message_id,
        )
        await fan_out.fan_out(message_id)
        assert len(harness.published.requests) == sent_before < 9
        assert [c.message_id for c in await harness.cancellations()] == [message_id]
        assert cancelled.state == "cancelled"
        async with harness.sessions() as session:
            states = {row.subscriber_id: row.state for row in await session.scalars(select(DeliveryRow))}
        # held for quiet hours, and now dropped
        assert states[sleeping.subscriber_id] == DeliveryState.CANCELLED.value
        with pytest.raises(Forbidden):
            await messages.cancel_message(
                uow=harness.uow,
                principal=harness.editor,
                message_id=message_id,
            )


class TestReport:
    async def test_households_reached_of_targeted_and_the_csv(
        self, harness: Any, addresses: Addresses
    ) -> None:
        street = addresses["Masarykova"]
        reached, silent = harness.subscriber(street[0]), harness.subscriber(street[1])
        family = [harness.subscriber(street[2]) for _ in range(3)]
        await harness.index(reached, silent, *family)
        message_id = await harness.send({"streets": [{"name": "Masarykova"}]})
        by_subscriber = {r.subscriber_id: r for r in harness.published.requests if r.channel is Channel.SMS}
        outcomes = {
            reached.subscriber_id: DeliveryState.DELIVERED,
            silent.subscriber_id: DeliveryState.CONTACT_INVALID,
            family[0].subscriber_id: DeliveryState.FAILED,
            family[1].subscriber_id: DeliveryState.ACCEPTED,
        }
        for subscriber_id, state in outcomes.items():
            await statuses.apply_status(
                sessions=harness.sessions, status=status_of(by_subscriber[subscriber_id], state)
            )
        # the dispatcher will try this one again: not counted as failed
        retried = status_of(by_subscriber[family[2].subscriber_id], DeliveryState.FAILED, retryable=True)
        await statuses.apply_status(sessions=harness.sessions, status=retried)
        report = await reports.report(
            sessions=harness.sessions, principal=harness.editor, message_id=message_id
        )
        assert (report.households_targeted, report.households_reached) == (3, 2)
        assert [h.address_point_code for h in report.unreached] == [street[1].code]
        assert report.unreached[0].address is not None and report.unreached[0].address.startswith(
            "Masarykova "
        )
        assert report.deliveries["sms"] == {
            "delivered": 1,
            "contact_invalid": 1,
            "failed": 1,
            "retrying": 1,
            "accepted": 1,
        }
        text = await reports.report_csv(
            sessions=harness.sessions, principal=harness.editor, message_id=message_id
        )
        rows = {int(r["address_point_code"]): r for r in csv.DictReader(io.StringIO(text))}
        assert set(rows) == {street[0].code, street[1].code, street[2].code}
        assert rows[street[2].code]["subscribers"] == "3" and rows[street[2].code]["reached"] == "yes"
        assert rows[street[1].code]["contact_invalid"] == "1" and rows[street[1].code]["reached"] == "no"
