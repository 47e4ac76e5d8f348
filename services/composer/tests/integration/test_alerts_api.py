"""The utilities' JSON API as their systems call it: keys and scopes, Idempotency-Key, the rate limit,
and the templates an admin edits."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from hlasatel_composer.adapters.orm import MessageRow
from hlasatel_contracts import AddressPoint, Channel

Addresses = dict[str, list[AddressPoint]]
START = (datetime.now(UTC) + timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
EVENT = {
    "event_id": "SVS-2026-4711",
    "category": "water",
    "type": "planned",
    "addresses": {"streets": [{"name": "Masarykova", "houses": {"numbers": ["1-25"], "side": "odd"}}]},
    "start": START.isoformat(),
    "end": (START + timedelta(hours=6)).isoformat(),
    "reason": "oprava vodovodního řadu",
    "contact": "Severočeská vodárenská, 840 111 111",
}


async def water_key(api: Any, **scope: Any) -> dict[str, str]:
    return await api.key(
        "Severočeská vodárenská", "utility", categories=["water"], pre_approved=["water"], **scope
    )


async def messages_stored(api: Any) -> int:
    async with api.harness.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(MessageRow)) or 0)


@pytest.fixture(autouse=True)
async def _register(harness: Any, addresses: Addresses) -> None:
    """The register's records of the streets these alerts name: an alert to houses nobody has subscribed
    at is still an alert for the city."""
    await harness.register(addresses["Masarykova"] + addresses["Husova"])


class TestKeys:
    async def test_an_admin_makes_a_scoped_utility_key_with_a_default_rate_limit(self, api: Any) -> None:
        admin = await api.key("Admin", "admin")
        made = await api.client.post(
            "/v1/keys",
            json={
                "name": "Teplárna Liberec",
                "role": "utility",
                "categories": ["heating"],
                "pre_approved": ["heating"],
                "area": {"districts": ["Liberec V-Kristiánov"]},
            },
            headers=admin,
        )
        assert made.status_code == 201, made.text
        key = made.json()
        assert (key["categories"], key["pre_approved"], key["rate_limit_per_minute"]) == (
            ["heating"],
            ["heating"],
            60,
        )
        assert key["area"]["districts"] == ["Liberec V-Kristiánov"]
        refused = await api.client.post(
            "/v1/keys",
            json={"name": "x", "role": "utility", "categories": ["water"], "pre_approved": ["gas"]},
            headers=admin,
        )
        assert refused.status_code == 422 and "pre_approved" in refused.text

    async def test_a_utility_key_cannot_write_press_releases_or_send_other_categories(self, api: Any) -> None:
        water = await water_key(api)
        draft = {
            "severity": "info",
            "category": "water",
            "content": {"cs": {"sms": "x"}},
            "target": {"city": True},
        }
        assert (await api.client.post("/v1/messages", json=draft, headers=water)).status_code == 403
        culture = await api.client.post("/v1/alerts", json={**EVENT, "category": "culture"}, headers=water)
        assert culture.status_code == 403
        assert culture.json()["detail"] == "'Severočeská vodárenská' may send water; not culture"

    async def test_a_key_scoped_to_an_area_cannot_reach_past_it(self, api: Any, addresses: Addresses) -> None:
        await api.harness.index(api.harness.subscriber(addresses["Husova"][0]))
        water = await water_key(api, area={"streets": [{"name": "Masarykova"}]})
        husova = {**EVENT, "addresses": {"streets": [{"name": "Husova"}]}}
        answer = await api.client.post("/v1/alerts", json=husova, headers=water)
        assert answer.status_code == 403 and "outside the area" in answer.json()["detail"]
        assert "Husova" in answer.json()["detail"]


class TestIdempotencyKey:
    async def test_a_retry_with_the_same_key_gets_the_first_answer_and_makes_nothing(
        self, api: Any, addresses: Addresses
    ) -> None:
        await api.harness.index(api.harness.subscriber(addresses["Masarykova"][0]))
        headers = {**await water_key(api), "Idempotency-Key": "4711-a"}
        first = await api.client.post("/v1/alerts", json=EVENT, headers=headers)
        again = await api.client.post("/v1/alerts", json=EVENT, headers=headers)
        assert (first.status_code, again.status_code) == (201, 201)
        assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
        assert await messages_stored(api) == 1

    async def test_the_same_key_with_another_request_is_refused(self, api: Any) -> None:
        headers = {**await water_key(api), "Idempotency-Key": "4711-b"}
        assert (await api.client.post("/v1/alerts", json=EVENT, headers=headers)).status_code == 201
        other = {**EVENT, "event_id": "SVS-2026-4712"}
        refused = await api.client.post("/v1/alerts", json=other, headers=headers)
        assert refused.status_code == 422 and "different request" in refused.json()["detail"]
        assert await messages_stored(api) == 1

    async def test_without_a_key_the_event_id_still_makes_a_repeat_harmless(self, api: Any) -> None:
        water = await water_key(api)
        assert (await api.client.post("/v1/alerts", json=EVENT, headers=water)).status_code == 201
        repeat = await api.client.post("/v1/alerts", json=EVENT, headers=water)
        assert repeat.status_code == 200 and len(repeat.json()["messages"]) == 1
        assert await messages_stored(api) == 1

    async def test_a_failed_request_leaves_its_key_free_for_the_retry(self, api: Any) -> None:
        water = await water_key(api)
        headers = {**water, "Idempotency-Key": "4711-c"}
        gone = await api.client.post("/v1/alerts", json={**EVENT, "msg_type": "cancel"}, headers=headers)
        assert gone.status_code == 409
        assert (await api.client.post("/v1/alerts", json=EVENT, headers=water)).status_code == 201
        cancelled = await api.client.post("/v1/alerts", json={**EVENT, "msg_type": "cancel"}, headers=headers)
        assert cancelled.status_code == 201 and cancelled.json()["state"] == "ended"


class TestRateLimit:
    async def test_a_key_over_its_rate_is_told_when_to_come_back(self, api: Any) -> None:
        water = await water_key(api, rate_limit_per_minute=2)
        answers = [await api.client.get("/v1/alerts/none", headers=water) for _ in range(3)]
        assert [a.status_code for a in answers] == [404, 404, 429]
        assert int(answers[2].headers["Retry-After"]) == 30
        assert "2 requests a minute" in answers[2].json()["detail"]
        other = await api.key("Teplárna", "utility", categories=["heating"], rate_limit_per_minute=2)
        assert (await api.client.get("/v1/alerts/none", headers=other)).status_code == 404


class TestTemplates:
    async def test_editors_read_every_language_and_kind(self, api: Any) -> None:
        editor = await api.key("Eva", "editor")
        listed = (await api.client.get("/v1/templates", headers=editor)).json()
        assert {(t["language"], t["kind"]) for t in listed} == {
            (language, kind)
            for language in ("cs", "en", "de", "pl", "uk")
            for kind in ("alert", "update", "released", "cancel", "all-clear", "warning")
        }
        czech = next(t for t in listed if (t["language"], t["kind"]) == ("cs", "alert"))
        assert czech["example"]["sms"].startswith("Odstávka vody: ") and not czech["customised"]

    async def test_an_admin_changes_a_template_and_alerts_use_it(
        self, api: Any, addresses: Addresses
    ) -> None:
        await api.harness.index(api.harness.subscriber(addresses["Masarykova"][0]))
        admin, editor = await api.key("Admin", "admin"), await api.key("Eva", "editor")
        text = {"sms": "VODA: {{ period }} – {{ places }}", "subject": "{{ title }}", "text": "{{ title }}"}
        assert (await api.client.put("/v1/templates/cs/alert", json=text, headers=editor)).status_code == 403
        saved = await api.client.put("/v1/templates/cs/alert", json=text, headers=admin)
        assert saved.status_code == 200 and saved.json()["customised"]
        await api.client.post("/v1/alerts", json=EVENT, headers=await water_key(api))
        await api.harness.fan_out_all()
        sms = [r.text for r in api.harness.published.requests if r.channel is Channel.SMS]
        assert len(sms) == 1 and sms[0].startswith("VODA: ") and "Masarykova 1-25" in sms[0]
        reset = await api.client.delete("/v1/templates/cs/alert", headers=admin)
        assert not reset.json()["customised"] and reset.json()["sms"] != text["sms"]

    async def test_a_template_that_breaks_or_escapes_the_sandbox_is_refused(self, api: Any) -> None:
        admin = await api.key("Admin", "admin")
        broken = {"sms": "{{ title ", "subject": "x", "text": "x"}
        answer = await api.client.put("/v1/templates/en/cancel", json=broken, headers=admin)
        assert answer.status_code == 422 and answer.json()["detail"].startswith(
            "sms, line 1: TemplateSyntaxError"
        )
        unknown = {"sms": "{{ nonsense }}", "subject": "x", "text": "x"}
        answer = await api.client.put("/v1/templates/en/cancel", json=unknown, headers=admin)
        assert answer.status_code == 422 and "'nonsense' is undefined" in answer.json()["detail"]
        escape = {"sms": "{{ title.__class__.__mro__[1].__subclasses__() }}", "subject": "x", "text": "x"}
        answer = await api.client.put("/v1/templates/en/cancel", json=escape, headers=admin)
        assert answer.status_code == 422 and "SecurityError" in answer.json()["detail"]
        listed = (await api.client.get("/v1/templates", headers=admin)).json()
        assert not any(t["customised"] for t in listed)


class TestAnAreaWhereNobodySubscribed:
    async def test_an_outage_there_is_sent_to_nobody_published_and_said_so(
        self, api: Any, addresses: Addresses
    ) -> None:
        street = addresses["Masarykova"]
        lats = [p.latitude for p in street if p.latitude is not None]
        lons = [p.longitude for p in street if p.longitude is not None]
        box = [[min(lats), min(lons)], [min(lats), max(lons)], [max(lats), max(lons)], [max(lats), min(lons)]]
        water = await water_key(api)
        answer = await api.client.post(
            "/v1/alerts", json={**EVENT, "addresses": {"polygon": box}}, headers=water
        )
        assert answer.status_code == 201, answer.text
        assert answer.json()["reach"].startswith("nobody has subscribed at the ")
        assert "it is in the city's CAP and Atom feeds" in answer.json()["reach"]
        await api.harness.fan_out_all()
        assert api.harness.published.requests == []
        feed = await api.client.get("/v1/public/feed.atom")
        assert feed.text.count("<entry>") == 1
        # a polygon that holds no house of the city is no outage of the city
        elsewhere = {
            **EVENT,
            "event_id": "SVS-PRAHA",
            "addresses": {"polygon": [[50.08, 14.42], [50.08, 14.43], [50.09, 14.43]]},
        }
        refused = await api.client.post("/v1/alerts", json=elsewhere, headers=water)
        assert refused.status_code == 422 and "no address points of the city" in refused.json()["detail"]
        typo = {**EVENT, "event_id": "SVS-TYPO", "addresses": {"streets": [{"name": "Masarykva"}]}}
        refused = await api.client.post("/v1/alerts", json=typo, headers=water)
        assert refused.status_code == 422 and "did you mean Masarykova" in refused.json()["detail"]
