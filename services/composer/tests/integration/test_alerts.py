"""Utilities' alerts: scoping, pre-approval, templates in every language, and who an update, a cancel and
an all-clear reach."""

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from hlasatel_composer.adapters.orm import MessageRow
from hlasatel_composer.domain.access import OutOfScope, Role
from hlasatel_composer.domain.alerts import AlertConflict
from hlasatel_composer.domain.messages import MessageState
from hlasatel_composer.handlers import messages
from hlasatel_contracts import AddressPoint, Channel, Language

Addresses = dict[str, list[AddressPoint]]
START = (datetime.now(UTC) + timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
END = START + timedelta(hours=6)
MASARYKOVA = {"streets": [{"name": "Masarykova"}]}
HUSOVA = {"streets": [{"name": "Husova"}]}


def outage(event_id: str = "SVS-1", addresses: dict[str, Any] = MASARYKOVA, **fields: Any) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "addresses": addresses,
        "start": START.isoformat(),
        "end": END.isoformat(),
        "reason": "oprava vodovodního řadu",
        "contact": "840 111 111",
        **fields,
    }


async def recipients(harness: Any, message_id: Any) -> set[Any]:
    return {r.subscriber_id for r in harness.published.requests if r.message_id == message_id}


async def kinds(harness: Any, alert: Any) -> dict[str, Any]:
    return {m.kind: m.id for m in alert.messages}


@pytest.fixture(autouse=True)
async def _register(harness: Any, addresses: Addresses) -> None:
    """The register's records of the streets these alerts name: an alert to houses nobody has subscribed
    at is still an alert for the city."""
    await harness.register(addresses["Masarykova"] + addresses["Husova"])


class TestScoping:
    async def test_a_water_key_cannot_send_a_culture_message(self, harness: Any, utility: Any) -> None:
        with pytest.raises(OutOfScope, match="may send water; not culture"):
            await harness.alert(utility(), category="culture", **outage())

    async def test_a_key_cannot_target_outside_its_area(
        self, harness: Any, utility: Any, addresses: Addresses
    ) -> None:
        await harness.index(
            harness.subscriber(addresses["Husova"][0]), harness.subscriber(addresses["Masarykova"][0])
        )
        network = utility(area=MASARYKOVA)
        # every house of Husova is outside, whether or not anyone there has subscribed
        outside = f"{len(addresses['Husova'])} of the targeted address points lie outside"
        with pytest.raises(OutOfScope, match=outside):
            await harness.alert(
                network, **outage(addresses={"streets": [{"name": "Husova"}, {"name": "Masarykova"}]})
            )
        inside = await harness.alert(network, **outage())
        assert inside.state == "active" and [m.kind for m in inside.messages] == ["alert"]

    async def test_an_editor_scoped_to_water_cannot_draft_a_culture_message(
        self, harness: Any, utility: Any
    ) -> None:
        with pytest.raises(OutOfScope):
            await harness.draft(MASARYKOVA, author=replace(utility(), role=Role.EDITOR), category="culture")


class TestApproval:
    async def test_a_pre_approved_category_goes_out_without_an_approver(
        self, harness: Any, utility: Any, addresses: Addresses
    ) -> None:
        people = [harness.subscriber(p) for p in addresses["Masarykova"][:3]]
        await harness.index(*people, harness.subscriber(addresses["Husova"][0]))
        alert = await harness.alert(utility(), **outage())
        assert not alert.awaiting_approval
        await harness.fan_out_all()
        assert await recipients(harness, alert.current) == {p.subscriber_id for p in people}

    async def test_otherwise_the_alert_waits_in_the_approvers_queue(
        self, harness: Any, utility: Any, addresses: Addresses
    ) -> None:
        await harness.index(harness.subscriber(addresses["Masarykova"][0]))
        alert = await harness.alert(utility(pre_approved=()), **outage())
        assert alert.awaiting_approval
        await harness.fan_out_all()
        assert harness.published.requests == []
        queue = await messages.list_messages(
            uow=harness.uow, principal=harness.approver, state=MessageState.DRAFT, limit=10
        )
        assert [m.id for m in queue] == [alert.current]
        await harness.approve(alert.current)
        await harness.fan_out_all()
        assert len(await recipients(harness, alert.current)) == 1


class TestTemplates:
    async def test_every_language_gets_its_own_words(
        self, harness: Any, utility: Any, addresses: Addresses
    ) -> None:
        people = {
            language: harness.subscriber(addresses["Masarykova"][i], language=language)
            for i, language in enumerate(Language)
        }
        await harness.index(*people.values())
        alert = await harness.alert(utility(), **outage())
        await harness.fan_out_all()
        sms = {r.subscriber_id: r.text for r in harness.published.requests if r.channel is Channel.SMS}
        expected = {
            Language.CS: "Odstávka vody",
            Language.EN: "Water supply interruption",
            Language.DE: "Unterbrechung der Wasserversorgung",
            Language.PL: "Przerwa w dostawie wody",
            Language.UK: "Відключення води",
        }
        for language, person in people.items():
            assert sms[person.subscriber_id].startswith(expected[language]), language
            assert "Masarykova" in sms[person.subscriber_id]
            assert "840 111 111" in sms[person.subscriber_id]
        message = await messages.get_message(uow=harness.uow, message_id=alert.current)
        assert (
            message.content.cs.email is not None
            and "oprava vodovodního řadu" in message.content.cs.email.text
        )


class TestFollowUps:
    async def _setup(self, harness: Any, addresses: Addresses) -> tuple[set[Any], set[Any]]:
        masarykova = [harness.subscriber(p) for p in addresses["Masarykova"][:3]]
        husova = [harness.subscriber(p) for p in addresses["Husova"][:2]]
        await harness.index(*masarykova, *husova)
        return {p.subscriber_id for p in masarykova}, {p.subscriber_id for p in husova}

    async def test_an_update_to_a_new_area_tells_the_union_and_releases_the_rest(
        self, harness: Any, utility: Any, addresses: Addresses
    ) -> None:
        masarykova, husova = await self._setup(harness, addresses)
        key = utility()
        await harness.alert(key, **outage())
        await harness.fan_out_all()
        # the outage moves: the first house of Masarykova stays, Husova joins
        kept = addresses["Masarykova"][0]
        moved = {"address_points": [kept.code], "streets": [{"name": "Husova"}]}
        updated = await harness.alert(key, msg_type="update", event_id="SVS-1", addresses=moved)
        await harness.fan_out_all()
        by_kind = await kinds(harness, updated)
        told_update = await recipients(harness, by_kind["update"])
        told_released = await recipients(harness, by_kind["released"])
        at_kept = await _at_point(harness, kept.code)
        assert told_update == husova | at_kept
        assert told_released == masarykova - at_kept
        assert told_update | told_released == masarykova | husova
        assert not told_update & told_released

    async def test_new_times_alone_reach_the_same_houses_and_release_nobody(
        self, harness: Any, utility: Any, addresses: Addresses
    ) -> None:
        masarykova, _ = await self._setup(harness, addresses)
        key = utility()
        await harness.alert(key, **outage())
        await harness.fan_out_all()
        later = (END + timedelta(hours=2)).isoformat()
        updated = await harness.alert(key, msg_type="update", event_id="SVS-1", end=later)
        await harness.fan_out_all()
        by_kind = await kinds(harness, updated)
        assert "released" not in by_kind
        assert await recipients(harness, by_kind["update"]) == masarykova
        update = await messages.get_message(uow=harness.uow, message_id=by_kind["update"])
        assert update.content.cs.sms is not None and update.content.cs.sms.startswith("ZMĚNA")

    @pytest.mark.parametrize("msg_type", ["cancel", "all-clear"])
    async def test_cancel_and_all_clear_reach_exactly_the_current_recipients(
        self, harness: Any, utility: Any, addresses: Addresses, msg_type: str
    ) -> None:
        masarykova, _ = await self._setup(harness, addresses)
        key = utility()
        await harness.alert(key, **outage())
        await harness.fan_out_all()
        # someone who moves onto the street afterwards was never told, so is not told it is over
        await harness.index(harness.subscriber(addresses["Masarykova"][5]))
        ended = await harness.alert(key, msg_type=msg_type, event_id="SVS-1")
        await harness.fan_out_all()
        assert await recipients(harness, (await kinds(harness, ended))[msg_type]) == masarykova
        assert ended.state == "ended"
        with pytest.raises(AlertConflict, match="has ended"):
            await harness.alert(key, msg_type="update", event_id="SVS-1", end=END.isoformat())

    async def test_cancelling_an_alert_still_in_the_queue_sends_nothing(
        self, harness: Any, utility: Any, addresses: Addresses
    ) -> None:
        await self._setup(harness, addresses)
        key = utility(pre_approved=())
        alert = await harness.alert(key, **outage())
        ended = await harness.alert(key, msg_type="cancel", event_id="SVS-1")
        await harness.fan_out_all()
        assert harness.published.requests == []
        assert [(m.kind, m.state) for m in ended.messages] == [("alert", "cancelled")]
        assert alert.id == ended.id

    async def test_a_follow_up_to_an_unknown_event_is_refused(self, harness: Any, utility: Any) -> None:
        with pytest.raises(AlertConflict, match="no alert SVS-404"):
            await harness.alert(utility(), msg_type="cancel", event_id="SVS-404")


class TestIdempotency:
    async def test_the_same_event_twice_makes_one_message(
        self, harness: Any, utility: Any, addresses: Addresses
    ) -> None:
        await harness.index(harness.subscriber(addresses["Masarykova"][0]))
        first = await harness.alert(utility(), **outage())
        again = await harness.alert(utility(), **outage())
        assert again.id == first.id and len(again.messages) == 1
        async with harness.sessions() as session:
            assert len((await session.scalars(select(MessageRow))).all()) == 1

    async def test_two_copies_arriving_at_once_make_one_alert(
        self, harness: Any, utility: Any, addresses: Addresses
    ) -> None:
        await harness.index(harness.subscriber(addresses["Masarykova"][0]))
        first, second = await asyncio.gather(
            harness.alert(utility(), **outage()), harness.alert(utility(), **outage())
        )
        assert first.id == second.id
        async with harness.sessions() as session:
            assert len((await session.scalars(select(MessageRow))).all()) == 1

    async def test_a_different_alert_under_the_same_id_is_refused(self, harness: Any, utility: Any) -> None:
        await harness.alert(utility(), **outage())
        with pytest.raises(AlertConflict, match="send it as msg_type 'update'"):
            await harness.alert(utility(), **outage(reason="jiný důvod"))


async def _at_point(harness: Any, code: int) -> set[Any]:
    from hlasatel_composer.adapters.orm import IndexedAddress

    async with harness.sessions() as session:
        return set(
            await session.scalars(
                select(IndexedAddress.subscriber_id).where(IndexedAddress.address_point_code == code)
            )
        )
