"""Hostile input to the composer: records that do not read, targets too large to test, keys reaching past
their scope, questions about single households. Each test failed on the code before the hardening."""

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest
from sqlalchemy import select, update

from hlasatel_composer.adapters.orm import (
    AuditRow,
    DeliveryRow,
    IndexedSubscriber,
    MessageRow,
)
from hlasatel_composer.domain.access import Principal, Role, Scope
from hlasatel_composer.domain.targeting import MAX_VERTICES
from hlasatel_contracts import AddressPoint, Channel, DeliveryState, Language

pytestmark = pytest.mark.hostile
Addresses = dict[str, list[AddressPoint]]
MASARYKOVA = {"streets": [{"name": "Masarykova"}]}
CONTENT = {"cs": {"sms": "Odstávka vody", "push": {"title": "Voda", "body": "Odstávka"}}}


def states(harness: Any, message_id: Any) -> Any:
    async def read() -> dict[Any, tuple[str, str | None]]:
        async with harness.sessions() as session:
            rows = await session.execute(
                select(DeliveryRow.subscriber_id, DeliveryRow.state, DeliveryRow.reason).where(
                    DeliveryRow.message_id == message_id
                )
            )
            return {sid: (state, reason) for sid, state, reason in rows}

    return read()


class TestABadRecordNeverStopsTheFanOut:
    async def test_a_time_zone_nobody_can_read_fails_that_subscriber_and_the_city_goes_on(
        self, harness: Any, addresses: Addresses
    ) -> None:
        people = [harness.subscriber(point) for point in addresses["Masarykova"][:3]]
        await harness.index(*people)
        # stored before the contract refused such names: only this subscriber's record is broken
        async with harness.sessions() as session, session.begin():
            await session.execute(
                update(IndexedSubscriber)
                .where(IndexedSubscriber.subscriber_id == people[0].subscriber_id)
                .values(quiet_hours={"start": "22:00:00", "end": "07:00:00", "timezone": "Nowhere/Atlantis"})
            )
        first = await harness.approved(MASARYKOVA)
        await harness.fan_out_all()
        later = await harness.approved(MASARYKOVA, severity="info")
        await harness.fan_out_all()
        for message_id in (first, later):
            found = await states(harness, message_id)
            assert found[people[0].subscriber_id][0] == "failed"
            assert "cannot be used" in (found[people[0].subscriber_id][1] or "")
            assert {found[p.subscriber_id][0] for p in people[1:]} == {"queued"}
            async with harness.sessions() as session:
                assert (await session.get(MessageRow, message_id)).state == "done"  # type: ignore[union-attr]
        assert people[0].subscriber_id not in harness.published.subscribers()

    async def test_a_message_whose_stored_content_does_not_read_fails_alone(
        self, harness: Any, addresses: Addresses
    ) -> None:
        await harness.index(harness.subscriber(addresses["Masarykova"][0]))
        broken = await harness.approved(MASARYKOVA, severity="emergency")
        async with harness.sessions() as session, session.begin():
            await session.execute(
                update(MessageRow).where(MessageRow.id == broken).values(content={"cs": {}})
            )
        fine = await harness.approved(MASARYKOVA)
        await harness.fan_out_all()
        async with harness.sessions() as session:
            failed, done = await session.get(MessageRow, broken), await session.get(MessageRow, fine)
        assert failed is not None and done is not None
        assert failed.state == "failed" and "could not be sent" in (failed.failure or "")
        assert done.state == "done" and harness.published.requests

    async def test_a_held_delivery_that_does_not_read_fails_alone(
        self, harness: Any, addresses: Addresses
    ) -> None:
        people = [harness.subscriber(point) for point in addresses["Masarykova"][:2]]
        await harness.index(*people)
        message_id = await harness.approved(MASARYKOVA)
        await harness.fan_out_all()
        past = datetime.now(UTC) - timedelta(minutes=1)
        async with harness.sessions() as session, session.begin():
            rows = list(
                await session.scalars(
                    select(DeliveryRow)
                    .where(DeliveryRow.message_id == message_id, DeliveryRow.channel == "sms")
                    .order_by(DeliveryRow.delivery_id)
                )
            )
            good, bad = rows[0], rows[1]
            request = next(r for r in harness.published.requests if r.delivery_id == good.delivery_id)
            good.held_request, good.not_before = request.model_dump(mode="json"), past
            bad.held_request, bad.not_before = {"not": "a request"}, past
        released = await harness.fan_out().release_held()
        assert released == 1
        async with harness.sessions() as session:
            failed = await session.get(DeliveryRow, bad.delivery_id)
            fine = await session.get(DeliveryRow, good.delivery_id)
        assert failed is not None and failed.state == "failed" and failed.held_request is None
        assert "could not be read" in (failed.reason or "")
        assert fine is not None and fine.state == "queued" and fine.held_request is None


class TestEveryListIsBounded:
    async def test_more_address_points_than_any_city_has_are_refused(self, api: Any) -> None:
        editor = await api.key("Editor", "editor")
        answer = await api.client.post(
            "/v1/targets/preview", json={"target": {"address_points": list(range(1, 20_002))}}, headers=editor
        )
        assert answer.status_code == 422 and "20000" in answer.text

    @pytest.mark.parametrize("code", [-47, 0, 2**63, -603058847142303915324542550016])
    async def test_a_number_that_is_no_address_point_code_is_a_422_not_a_database_error(
        self, api: Any, code: int
    ) -> None:
        """Found by the schemathesis fuzz: a code past 64 bits reached the database and answered 500."""
        editor = await api.key("Editor", "editor")
        answer = await api.client.post(
            "/v1/targets/preview", json={"target": {"address_points": [1902007, code]}}, headers=editor
        )
        assert answer.status_code == 422, answer.text
        assert answer.json()["detail"][0]["loc"][-2:] == ["address_points", 1]

    async def test_polygons_with_more_vertices_than_allowed_are_refused_in_all(self, api: Any) -> None:
        editor = await api.key("Editor", "editor")
        ring = [[50.7 + i * 1e-6, 15.0 + (i % 2) * 1e-3] for i in range(MAX_VERTICES // 2 + 1)]
        answer = await api.client.post(
            "/v1/targets/preview",
            json={"target": {"polygons": [{"points": ring}, {"points": ring}]}},
            headers=editor,
        )
        assert answer.status_code == 422 and f"at most {MAX_VERTICES}" in answer.text

    async def test_a_cap_ring_over_the_limit_is_a_422(self, api: Any) -> None:
        weather = await api.key("ČHMÚ", "utility", categories=["weather"])
        ring = " ".join(f"{50 + i * 1e-5},{15 + (i % 2) * 1e-3}" for i in range(MAX_VERTICES + 2))
        ring += " 50,15"
        document = f"""<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>huge-ring</identifier><sender>chmi@chmi.cz</sender><sent>2026-12-03T08:00:00+01:00</sent>
  <status>Actual</status><msgType>Alert</msgType><scope>Public</scope>
  <info><language>cs</language><category>Met</category><event>Vítr</event>
    <urgency>Immediate</urgency><severity>Moderate</severity><certainty>Likely</certainty>
    <area><areaDesc>velká</areaDesc><polygon>50,15 {ring}</polygon></area></info></alert>"""
        answer = await api.client.post(
            "/v1/alerts/cap",
            content=document.encode(),
            headers={**weather, "Content-Type": "application/cap+xml"},
        )
        assert answer.status_code == 422, answer.text
        assert str(MAX_VERTICES) in answer.json()["detail"]

    async def test_a_request_body_over_the_limit_is_refused_before_it_is_read(self, api: Any) -> None:
        editor = await api.key("Editor", "editor")
        huge = {
            "severity": "info",
            "category": "water",
            "target": MASARYKOVA,
            "content": {"cs": {"sms": "x", "email": {"subject": "s", "text": "y" * 5_000_000}}},
        }
        answer = await api.client.post("/v1/messages", json=huge, headers=editor)
        assert answer.status_code == 413 and "larger than" in answer.json()["detail"]

    @pytest.mark.parametrize("field", ["subject", "title"])
    async def test_a_line_break_in_a_subject_or_title_is_refused(self, api: Any, field: str) -> None:
        editor = await api.key("Editor", "editor")
        channel = {
            "subject": {"email": {"subject": "Voda\r\nBcc: all@example.cz", "text": "x"}},
            "title": {"push": {"title": "Voda\nteče", "body": "x"}},
        }[field]
        answer = await api.client.post(
            "/v1/messages",
            json={"severity": "info", "category": "water", "target": MASARYKOVA, "content": {"cs": channel}},
            headers=editor,
        )
        assert answer.status_code == 422 and "line breaks" in answer.text


class TestScopesBindEveryRoute:
    async def _sent(self, api: Any, addresses: Addresses, author: dict[str, str]) -> str:
        await api.harness.index(*(api.harness.subscriber(p) for p in addresses["Masarykova"][:2]))
        made = await api.client.post(
            "/v1/messages",
            json={"severity": "warning", "category": "culture", "target": MASARYKOVA, "content": CONTENT},
            headers=author,
        )
        assert made.status_code == 201, made.text
        return str(made.json()["id"])

    async def test_a_key_of_other_categories_cannot_approve_cancel_follow_up_or_preview(
        self, api: Any, addresses: Addresses
    ) -> None:
        message_id = await self._sent(api, addresses, await api.key("Editor", "editor"))
        water = await api.key("Vodárna schvalovatel", "approver", categories=["water"])
        for path in ("approve", "cancel"):
            answer = await api.client.post(f"/v1/messages/{message_id}/{path}", headers=water)
            assert answer.status_code == 404, (path, answer.text)  # it does not see the message at all
        preview = await api.client.post(
            "/v1/targets/preview", json={"target": MASARYKOVA, "category": "culture"}, headers=water
        )
        assert preview.status_code == 403 and "not culture" in preview.json()["detail"]

    async def test_a_utility_reads_only_the_messages_of_its_own_alerts(
        self, api: Any, addresses: Addresses
    ) -> None:
        message_id = await self._sent(api, addresses, await api.key("Editor", "editor"))
        water = await api.key("Vodárna", "utility", categories=["water"])
        assert (await api.client.get(f"/v1/messages/{message_id}", headers=water)).status_code == 404
        editor_of_water = await api.key("Redaktor vody", "editor", categories=["water"])
        listed = await api.client.get("/v1/messages", headers=editor_of_water)
        assert listed.status_code == 200 and listed.json() == []

    async def test_two_keys_of_one_name_are_two_people_and_one_key_is_one(
        self, api: Any, addresses: Addresses
    ) -> None:
        await api.harness.index(*(api.harness.subscriber(p) for p in addresses["Masarykova"][:3]))
        first = await api.key("Jana Nováková", "approver")
        second = await api.key("Jana Nováková", "approver")
        made = await api.client.post(
            "/v1/messages",
            json={"severity": "warning", "category": "water", "target": {"city": True}, "content": CONTENT},
            headers=first,
        )
        message_id = made.json()["id"]
        own = await api.client.post(f"/v1/messages/{message_id}/approve", headers=first)
        assert own.status_code == 403 and "other than its author" in own.json()["detail"]
        other = await api.client.post(f"/v1/messages/{message_id}/approve", headers=second)
        assert other.status_code == 200, other.text

    async def test_an_approver_with_an_area_cannot_approve_beyond_it(
        self, api: Any, addresses: Addresses
    ) -> None:
        message_id = await self._sent(api, addresses, await api.key("Editor", "editor"))
        local = await api.key("Obvodní schvalovatel", "approver", area={"streets": [{"name": "Husova"}]})
        answer = await api.client.post(f"/v1/messages/{message_id}/approve", headers=local)
        assert answer.status_code == 404

    async def test_the_composer_keeps_a_subscribers_history_for_the_registry_alone(self, api: Any) -> None:
        editor = await api.key("Editor", "editor")
        registry = await api.key("Registry", "registry")
        path = f"/v1/subscribers/{uuid4()}/deliveries"
        assert (await api.client.get(path, headers=editor)).status_code == 403
        answer = await api.client.get(path, headers=registry)
        assert answer.status_code == 200 and answer.json()["deliveries"] == []


class TestEmergenciesAndReach:
    async def test_a_utility_key_may_not_choose_an_emergency_unless_allowed(
        self, harness: Any, utility: Any, addresses: Addresses
    ) -> None:
        from hlasatel_composer.domain.access import OutOfScope

        await harness.register(addresses["Masarykova"])
        event = {
            "event_id": "E1",
            "addresses": MASARYKOVA,
            "start": datetime.now(UTC).isoformat(),
            "severity": "emergency",
        }
        with pytest.raises(OutOfScope, match="may not send emergencies"):
            await harness.alert(utility(), **event)
        read = await harness.alert(utility(emergency=True), **event)
        assert read.messages[0].state == "approved"

    async def test_a_pre_approved_alert_to_more_than_four_eyes_allow_waits_for_an_approver(
        self, harness: Any, utility: Any, addresses: Addresses
    ) -> None:
        await harness.index(*(harness.subscriber(p) for p in addresses["Masarykova"][:3]))
        from hlasatel_composer.domain.alerts import AlertEvent
        from hlasatel_composer.handlers import alerts

        event = AlertEvent.model_validate(
            {
                "event_id": "E2",
                "category": "water",
                "addresses": MASARYKOVA,
                "start": datetime.now(UTC).isoformat(),
            }
        )
        deps = harness.alert_deps(four_eyes_threshold=2)
        waiting, _ = await alerts.receive_event(deps=deps, principal=utility(), event=event)
        assert waiting.awaiting_approval and waiting.messages[0].state == "draft"
        allowed, _ = await alerts.receive_event(
            deps=deps, principal=utility("Teplárna", key_id="t", whole_city=True), event=event
        )
        assert allowed.messages[0].state == "approved"

    async def test_an_editor_without_the_permission_cannot_write_an_emergency(self, harness: Any) -> None:
        from hlasatel_composer.domain.access import OutOfScope

        plain = Principal(key_id="plain", name="Nový redaktor", role=Role.EDITOR, scope=Scope())
        with pytest.raises(OutOfScope, match="may not send emergencies"):
            await harness.draft(MASARYKOVA, author=plain, severity="emergency")


class TestNoQuestionsAboutSingleHouseholds:
    async def test_a_narrowed_preview_shows_no_count_below_five_and_is_audited(
        self, api: Any, addresses: Addresses
    ) -> None:
        point = addresses["Masarykova"][0]
        await api.harness.index(api.harness.subscriber(point, language=Language.UK))
        editor = await api.key("Editor", "editor")
        target = {"address_points": [point.code], "filters": {"languages": ["uk"]}}
        answer = (
            await api.client.post("/v1/targets/preview", json={"target": target}, headers=editor)
        ).json()
        assert (answer["subscribers"], answer["address_points_with_subscribers"]) == (
            "fewer than 5",
            "fewer than 5",
        )
        assert set(answer["deliveries"].values()) == {"fewer than 5"}
        # how many houses of the register the target covers says nothing about anyone
        assert answer["address_points"] == 1
        async with api.harness.sessions() as session:
            audited = list(
                await session.scalars(select(AuditRow).where(AuditRow.action == "target.previewed"))
            )
        assert len(audited) == 1 and audited[0].detail["target"]["address_points"] == [point.code]
        assert audited[0].actor == "Editor" and audited[0].target_size == 1

    async def test_an_unnarrowed_preview_still_counts_exactly(self, api: Any, addresses: Addresses) -> None:
        await api.harness.index(api.harness.subscriber(addresses["Masarykova"][0]))
        editor = await api.key("Editor", "editor")
        answer = await api.client.post("/v1/targets/preview", json={"target": MASARYKOVA}, headers=editor)
        assert answer.json()["subscribers"] == 1

    async def test_previews_are_rate_limited_per_key(self, api: Any) -> None:
        editor = await api.key("Editor", "editor")
        body = {"target": MASARYKOVA}
        answers = [
            (await api.client.post("/v1/targets/preview", json=body, headers=editor)).status_code
            for _ in range(31)
        ]
        assert answers[:30] == [200] * 30 and answers[30] == 429

    async def test_a_narrowed_report_lists_no_households_and_its_csv_is_refused(
        self, api: Any, addresses: Addresses
    ) -> None:
        point = addresses["Masarykova"][0]
        await api.harness.index(api.harness.subscriber(point, language=Language.UK))
        target = {"address_points": [point.code], "filters": {"languages": ["uk"]}}
        message_id = await api.harness.send(target)
        editor = await api.key("Editor", "editor")
        report = (await api.client.get(f"/v1/messages/{message_id}/report", headers=editor)).json()
        assert report["unreached"] == [] and report["households_withheld"]
        # the register's houses in the target are no secret; who was reached there, and who was not, is
        assert report["households_targeted"] == 1 and report["households_reached"] == "fewer than 5"
        assert report["households_not_reached"] is None
        assert report["deliveries"]["sms"]["queued"] == "fewer than 5"
        for listed in ("report.csv", "unreached.csv", "unreached.geojson"):
            refused = await api.client.get(f"/v1/messages/{message_id}/{listed}", headers=editor)
            assert refused.status_code == 403, listed
        async with api.harness.sessions() as session:
            reads = list(
                await session.scalars(select(AuditRow.action).where(AuditRow.message_id == message_id))
            )
        assert {"report.read", "report.csv.read", "report.unreached.read"} <= set(reads)

    async def test_the_csv_defuses_cells_a_spreadsheet_would_run(
        self, api: Any, addresses: Addresses
    ) -> None:
        point = addresses["Masarykova"][0].model_copy(update={"street": '=HYPERLINK("http://evil","x")'})
        await api.harness.index(api.harness.subscriber(point))
        message_id = await api.harness.send({"address_points": [point.code]})
        editor = await api.key("Editor", "editor")
        body = (await api.client.get(f"/v1/messages/{message_id}/report.csv", headers=editor)).text
        assert "'=HYPERLINK" in body and ",=HYPERLINK" not in body.replace('"', "")


class TestErasureAndRetention:
    async def test_an_erasure_drops_what_was_held_for_quiet_hours_at_once(
        self, harness: Any, addresses: Addresses
    ) -> None:
        from hlasatel_contracts import SubscriberErased

        person = harness.subscriber(addresses["Masarykova"][0])
        await harness.index(person)
        message_id = await harness.approved(MASARYKOVA)
        await harness.fan_out_all()
        async with harness.sessions() as session, session.begin():
            row = await session.scalar(select(DeliveryRow).where(DeliveryRow.message_id == message_id))
            assert row is not None
            row.held_request = {"to": "+420777000001"}
            row.not_before = datetime.now(UTC) + timedelta(hours=5)
        await harness.index(
            SubscriberErased(subscriber_id=person.subscriber_id, version=2, occurred_at=datetime.now(UTC))
        )
        async with harness.sessions() as session:
            rows = list(
                await session.scalars(select(DeliveryRow).where(DeliveryRow.message_id == message_id))
            )
        assert {r.held_request is None for r in rows} == {True}
        assert DeliveryState.CANCELLED.value in {r.state for r in rows}

    async def test_after_the_retention_period_only_counts_are_left(
        self, api: Any, addresses: Addresses
    ) -> None:
        from hlasatel_composer.handlers.retention import Retention

        await api.harness.index(*(api.harness.subscriber(p) for p in addresses["Masarykova"][:2]))
        message_id = await api.harness.send(MASARYKOVA)
        purged = await Retention(sessions=api.harness.sessions, keep_days=7).purge(
            now=datetime.now(UTC) + timedelta(days=8)
        )
        assert purged == 1
        async with api.harness.sessions() as session:
            left = list(
                await session.scalars(select(DeliveryRow).where(DeliveryRow.message_id == message_id))
            )
        assert left == []
        editor = await api.key("Editor", "editor")
        report = (await api.client.get(f"/v1/messages/{message_id}/report", headers=editor)).json()
        assert report["purged"] and report["deliveries"] == {"sms": {"queued": 2}, "push": {"queued": 2}}
        assert report["households_targeted"] == 2
        follow = await api.client.post(
            f"/v1/messages/{message_id}/updates", json={"content": CONTENT}, headers=editor
        )
        assert follow.status_code == 409 and "no longer kept" in follow.json()["detail"]

    async def test_a_message_younger_than_the_period_is_kept_whole(
        self, harness: Any, addresses: Addresses
    ) -> None:
        from hlasatel_composer.handlers.retention import Retention

        await harness.index(harness.subscriber(addresses["Masarykova"][0]))
        await harness.send(MASARYKOVA)
        assert await Retention(sessions=harness.sessions, keep_days=7).purge() == 0


class TestSecretRotation:
    async def test_a_message_fanned_out_before_the_secret_was_replaced_keeps_its_delivery_ids(
        self, harness: Any, addresses: Addresses
    ) -> None:
        from hlasatel_composer.handlers.fanout import FanOut
        from hlasatel_composer.handlers.redrive import Redrive
        from hlasatel_runtime.secrets import KeyRing

        await harness.index(*(harness.subscriber(p) for p in addresses["Masarykova"][:2]))
        message_id = await harness.approved(MASARYKOVA)
        old = FanOut(sessions=harness.sessions, publish=harness.published, contact_secret=KeyRing("old"))
        await old.fan_out(message_id)
        first = {r.delivery_id for r in harness.published.requests}
        harness.published.requests.clear()
        redrive = Redrive(
            sessions=harness.sessions,
            publish=harness.published,
            contact_secret=KeyRing("new", ["old"]),
            unsubscribe_base_url=None,
            after_s=0,
            max_redrives=3,
            poll_s=1,
        )
        assert await redrive.redrive() == len(first)
        assert {r.delivery_id for r in harness.published.requests} == first
        assert {r.channel for r in harness.published.requests} == {Channel.SMS, Channel.PUSH}


SLOW = "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}"


class TestTemplatesHaveATimeLimit:
    async def test_a_template_that_renders_for_ever_is_refused_when_saved(self, api: Any) -> None:
        admin = await api.key("Admin", "admin")
        slow = {"sms": SLOW, "subject": "Odstávka", "text": "Text"}
        answer = await api.client.put("/v1/templates/cs/alert", json=slow, headers=admin)
        assert answer.status_code == 422 and "longer than 1 s" in answer.json()["detail"]
        huge = {"sms": "{{ 'x' * 1000000000 }}", "subject": "Odstávka", "text": "Text"}
        answer = await api.client.put("/v1/templates/cs/alert", json=huge, headers=admin)
        assert answer.status_code == 422, answer.text
        fine = {"sms": "{{ title }}: {{ places }}", "subject": "{{ title }}", "text": "{{ period }}"}
        assert (await api.client.put("/v1/templates/cs/alert", json=fine, headers=admin)).status_code == 200

    async def test_a_stored_template_that_hangs_gives_way_to_the_shipped_one_and_the_alert_goes_out(
        self, harness: Any, utility: Any, addresses: Addresses
    ) -> None:
        from hlasatel_composer.adapters.orm import AlertTemplateRow
        from hlasatel_composer.adapters.renderer import TemplateRenderer
        from hlasatel_composer.domain.alerts import AlertEvent
        from hlasatel_composer.handlers import alerts

        await harness.index(harness.subscriber(addresses["Masarykova"][0]))
        async with harness.sessions() as session, session.begin():
            session.add(
                AlertTemplateRow(
                    language="cs",
                    kind="alert",
                    sms=SLOW,
                    subject="S",
                    text="T",
                    updated_at=datetime.now(UTC),
                    updated_by="someone",
                )
            )
        renderer = TemplateRenderer(timeout_s=0.5)
        deps = alerts.AlertDeps(uow=harness.uow, renderer=renderer)
        event = AlertEvent.model_validate(
            {
                "event_id": "E9",
                "category": "water",
                "addresses": MASARYKOVA,
                "start": datetime.now(UTC).isoformat(),
            }
        )
        try:
            read, _ = await alerts.receive_event(deps=deps, principal=utility(), event=event)
        finally:
            renderer.close()
        await harness.fan_out_all()
        (sms,) = [r for r in harness.published.requests if r.channel is Channel.SMS]
        assert "Odstávka vody" in sms.text and "xxxx" not in sms.text  # type: ignore[attr-defined]
        assert read.messages[0].state == "approved"
