"""CAP 1.2 through the API: every file of ../shared/data/cap, ČHMÚ's warnings to the whole city, polygons,
updates and cancels by reference, and the city's own messages exported as valid CAP and Atom."""

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from hlasatel_composer.domain.cap import CapAlert, CapArea, CapInfo, CapReference, parse_cap, render_cap
from hlasatel_composer.domain.targeting import Polygon
from hlasatel_contracts import AddressPoint, Channel, Language

Addresses = dict[str, list[AddressPoint]]

ACCEPTED_WITHOUT_A_MESSAGE = {
    # ČHMÚ's warnings of 2021 and 2022 for Liberec have all expired; one issue has none for Liberec
    "chmi-bourky.xml": "expired",
    "chmi-naledi-a-vitr.xml": "expired",
    "chmi-vitr-mraz_ve_vegetacni_sezone.xml": "expired",
    "chmi-vitr-silny_vitr-snih.xml": "expired",
    "chmi-vitr.xml": "no warning names Liberec",
    "chmi-vyhled_nebezpecnych_jevu-vysoke_teploty.xml": "expired",
    # elsewhere in the world: their polygons and circles hold no address point of Liberec
    "australia.cap": "",
    "canada.cap": "",
    "earthquake-iso8859-1.cap": "",
    "google-PAAQ-4-mg5a94.xml": "",
    "ipaws-5e6dd964023f1930ef638846.xml": "",
    "ipaws-5e6ddbad023f1930ef6c1a5a.xml": "",
    "ipaws-5e7e0fc5023f1930efcf3deb.xml": "",
    "ipaws-5ea321f39fc226a7b44b6874.xml": "",
    "tests_resources_NOAA_MultiplePolygons.txt": "",
    "v1dot2_appendix_adot1.xml": "",
    "v1dot2_appendix_adot2.xml": "",
    "v1dot2_appendix_adot3.xml": "",
    "v1dot2_appendix_adot4.xml": "",
    # Cancels of alerts the city never received
    "ipaws-5e6dd9de023f1930ef6548d9.xml": "nothing to cancel",
    "tests_resources_no_info_tag.cap": "nothing to cancel",
}
REJECTED = {
    "earthquake.cap": "cap:1.1",
    "no_optional_fields.cap": "cap:1.1",
    "nws-5c2cf27b1f56885d61654dc47fa411d5.xml": "cap:1.1",
    "weather.cap": "cap:1.1",
    "invalid.cap": "CAP 1.2 schema: line 9: Element 'info': This element is not expected",
    "xee.cap": "DOCTYPE is not accepted",
}
CAP = {"Content-Type": "application/cap+xml"}
_MOMENT = re.compile(rb"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)([+-]\d\d:\d\d)")


def shifted_to_now(document: bytes) -> bytes:
    """The warning as if it had been issued just now: every time moved by the same amount."""
    sent = datetime.fromisoformat(re.search(rb"<sent>([^<]+)</sent>", document)[1].decode())  # type: ignore[index]
    delta = datetime.now(UTC).replace(microsecond=0) - sent

    def shift(match: re.Match[bytes]) -> bytes:
        moment = datetime.fromisoformat((match[1] + match[2]).decode()) + delta
        return moment.isoformat().encode()

    return _MOMENT.sub(shift, document)


async def weather_key(api: Any, **scope: Any) -> dict[str, str]:
    """ČHMÚ's key: its warnings to the whole city go out without an approver, as the city allowed."""
    return await api.key(
        "ČHMÚ", "utility", categories=["weather"], pre_approved=["weather"], whole_city=True, **scope
    )


class TestEveryFile:
    def test_every_file_of_the_data_is_covered(self, shared_data: Path) -> None:
        files = {p.name for p in (shared_data / "cap").iterdir() if p.suffix != ".xsd"}
        assert files == set(ACCEPTED_WITHOUT_A_MESSAGE) | set(REJECTED)

    @pytest.mark.parametrize("name", sorted(ACCEPTED_WITHOUT_A_MESSAGE))
    async def test_valid_cap_is_accepted_and_mapped(self, api: Any, shared_data: Path, name: str) -> None:
        document = (shared_data / "cap" / name).read_bytes()
        key = await api.key("Warning services", "utility")
        answer = await api.client.post("/v1/alerts/cap", content=document, headers={**key, **CAP})
        assert answer.status_code == 200, answer.text
        body = answer.json()
        parsed = parse_cap(document)
        assert (body["identifier"], body["msg_type"]) == (parsed.identifier, parsed.msg_type)
        assert [i["event"] for i in body["infos"]] == [i.event for i in parsed.infos]
        assert body["alert"] is None
        assert ACCEPTED_WITHOUT_A_MESSAGE[name] in body["outcome"]

    @pytest.mark.parametrize("name", sorted(REJECTED))
    async def test_invalid_cap_is_rejected_with_the_reason(
        self, api: Any, shared_data: Path, name: str
    ) -> None:
        key = await api.key("Warning services", "utility")
        document = (shared_data / "cap" / name).read_bytes()
        answer = await api.client.post("/v1/alerts/cap", content=document, headers={**key, **CAP})
        assert answer.status_code == 422
        assert REJECTED[name] in answer.json()["detail"]

    async def test_entity_expansion_and_oversized_documents_are_refused(self, api: Any) -> None:
        key = await api.key("Warning services", "utility")
        laughs = (
            b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
            b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]><lolz>&lol2;</lolz>'
        )
        answer = await api.client.post("/v1/alerts/cap", content=laughs, headers={**key, **CAP})
        assert answer.status_code == 422 and "DOCTYPE" in answer.json()["detail"]
        huge = b"<alert>" + b" " * 5_000_001 + b"</alert>"
        answer = await api.client.post("/v1/alerts/cap", content=huge, headers={**key, **CAP})
        assert answer.status_code == 413 and "at most 5000000" in answer.json()["detail"]


class TestChmiWarnings:
    async def _people(self, api: Any, addresses: Addresses) -> dict[str, Any]:
        people = {
            "czech": api.harness.subscriber(addresses["Masarykova"][0], categories=["weather"]),
            "english": api.harness.subscriber(
                addresses["Husova"][0], categories=["weather"], language=Language.EN
            ),
            "water only": api.harness.subscriber(addresses["Husova"][1], categories=["water"]),
        }
        await api.harness.index(*people.values())
        return people

    async def test_a_warning_for_orp_liberec_reaches_the_whole_city_in_czech_and_english(
        self, api: Any, shared_data: Path, addresses: Addresses
    ) -> None:
        people = await self._people(api, addresses)
        document = shifted_to_now((shared_data / "cap" / "chmi-naledi-a-vitr.xml").read_bytes())
        chmi = await weather_key(api)
        answer = await api.client.post("/v1/alerts/cap", content=document, headers={**chmi, **CAP})
        assert answer.status_code == 201, answer.text
        alert = answer.json()["alert"]
        assert (alert["category"], alert["source"], [m["kind"] for m in alert["messages"]]) == (
            "weather",
            "cap",
            ["warning"],
        )
        message = (await api.client.get(f"/v1/messages/{alert['current']}", headers=chmi)).json()
        assert message["target"]["city"] is True and message["category"] == "weather"
        await api.harness.fan_out_all()
        sms = {r.subscriber_id: r.text for r in api.harness.published.requests if r.channel is Channel.SMS}
        assert set(sms) == {people["czech"].subscriber_id, people["english"].subscriber_id}
        assert "Silný vítr" in sms[people["czech"].subscriber_id]
        assert "Náledí" in sms[people["czech"].subscriber_id]
        assert "Strong Wind" in sms[people["english"].subscriber_id]
        assert "Black Ice" in sms[people["english"].subscriber_id]

    async def test_the_same_warning_again_or_in_the_next_issue_tells_nobody_twice(
        self, api: Any, shared_data: Path, addresses: Addresses
    ) -> None:
        await self._people(api, addresses)
        key = {**await weather_key(api), **CAP}
        first = shifted_to_now((shared_data / "cap" / "chmi-naledi-a-vitr.xml").read_bytes())
        assert (await api.client.post("/v1/alerts/cap", content=first, headers=key)).status_code == 201
        again = await api.client.post("/v1/alerts/cap", content=first, headers=key)
        assert again.status_code == 200 and "received before" in again.json()["outcome"]
        issued = parse_cap(first)
        next_issue = render_cap(_next_issue(issued, issued.infos))
        unchanged = await api.client.post("/v1/alerts/cap", content=next_issue, headers=key)
        assert unchanged.status_code == 200 and "unchanged" in unchanged.json()["outcome"]
        assert len(unchanged.json()["alert"]["messages"]) == 1

    async def test_an_issue_without_warnings_gives_the_all_clear_to_those_warned(
        self, api: Any, shared_data: Path, addresses: Addresses
    ) -> None:
        people = await self._people(api, addresses)
        key = {**await weather_key(api), **CAP}
        first = shifted_to_now((shared_data / "cap" / "chmi-naledi-a-vitr.xml").read_bytes())
        alert = (await api.client.post("/v1/alerts/cap", content=first, headers=key)).json()["alert"]
        await api.harness.fan_out_all()
        issued = parse_cap(first)
        quiet = tuple(info for info in issued.infos if info.certainty == "Unlikely")
        ended = await api.client.post(
            "/v1/alerts/cap", content=render_cap(_next_issue(issued, quiet)), headers=key
        )
        assert ended.status_code == 201, ended.text
        kinds = {m["kind"]: m["id"] for m in ended.json()["alert"]["messages"]}
        await api.harness.fan_out_all()
        told = {
            r.subscriber_id for r in api.harness.published.requests if str(r.message_id) == kinds["all-clear"]
        }
        assert told == {people["czech"].subscriber_id, people["english"].subscriber_id}
        assert ended.json()["alert"]["state"] == "ended" and alert["id"] == ended.json()["alert"]["id"]

    async def test_a_water_key_cannot_send_the_weather(self, api: Any, shared_data: Path) -> None:
        water = await api.key("Vodárna", "utility", categories=["water"])
        document = shifted_to_now((shared_data / "cap" / "chmi-naledi-a-vitr.xml").read_bytes())
        answer = await api.client.post("/v1/alerts/cap", content=document, headers={**water, **CAP})
        assert answer.status_code == 403 and "not weather" in answer.json()["detail"]


def _next_issue(issued: CapAlert, infos: tuple[CapInfo, ...]) -> CapAlert:
    """ČHMÚ's next issue of the feed: a new identifier, an Update referencing the one before."""
    return CapAlert(
        identifier=issued.identifier + ".next",
        sender=issued.sender,
        sent=issued.sent + timedelta(minutes=5),
        status="Actual",
        msg_type="Update",
        scope="Public",
        references=(CapReference(sender=issued.sender, identifier=issued.identifier, sent=issued.sent),),
        infos=infos,
    )


class TestAreas:
    async def test_a_polygon_reaches_the_houses_inside_it_and_a_cancel_exactly_them(
        self, api: Any, addresses: Addresses
    ) -> None:
        street = [p for p in addresses["Masarykova"] if p.latitude is not None][:6]
        elsewhere = [p for p in addresses["Husova"] if p.latitude is not None][:2]
        people = [api.harness.subscriber(p, categories=["safety"]) for p in street + elsewhere]
        await api.harness.index(*people)
        lats = [p.latitude for p in street[:3]]
        lons = [p.longitude for p in street[:3]]
        ring = (
            (min(lats) - 1e-4, min(lons) - 1e-4),  # type: ignore[operator]
            (min(lats) - 1e-4, max(lons) + 1e-4),  # type: ignore[operator]
            (max(lats) + 1e-4, max(lons) + 1e-4),  # type: ignore[operator]
            (max(lats) + 1e-4, min(lons) - 1e-4),  # type: ignore[operator]
        )
        polygon = Polygon(points=list(ring))
        inside = {
            person.subscriber_id
            for person, point in zip(people, street + elsewhere, strict=True)
            if polygon.contains(point.latitude, point.longitude)  # type: ignore[arg-type]
        }
        assert inside and len(inside) < len(people)
        now = datetime.now(UTC).replace(microsecond=0)
        alert = CapAlert(
            identifier="HZS-LBK-1",
            sender="hzs@lbk.izscr.cz",
            sent=now,
            status="Actual",
            msg_type="Alert",
            scope="Public",
            infos=(
                CapInfo(
                    language="cs",
                    categories=("Fire",),
                    event="Požár, nevětrejte",
                    urgency="Immediate",
                    severity="Severe",
                    certainty="Observed",
                    expires=now + timedelta(hours=3),
                    areas=(CapArea(description="Masarykova", polygons=((*ring, ring[0]),)),),
                ),
            ),
        )
        key = {**await api.key("HZS", "utility", pre_approved=["safety"]), **CAP}
        made = await api.client.post("/v1/alerts/cap", content=render_cap(alert), headers=key)
        assert made.status_code == 201, made.text
        await api.harness.fan_out_all()
        reached = {r.subscriber_id for r in api.harness.published.requests}
        assert reached == inside
        cancel = CapAlert(
            identifier="HZS-LBK-2",
            sender=alert.sender,
            sent=now + timedelta(minutes=1),
            status="Actual",
            msg_type="Cancel",
            scope="Public",
            references=(CapReference(sender=alert.sender, identifier=alert.identifier, sent=alert.sent),),
        )
        cancelled = await api.client.post("/v1/alerts/cap", content=render_cap(cancel), headers=key)
        assert cancelled.status_code == 201, cancelled.text
        kinds = {m["kind"]: m["id"] for m in cancelled.json()["alert"]["messages"]}
        await api.harness.fan_out_all()
        told = {
            r.subscriber_id for r in api.harness.published.requests if str(r.message_id) == kinds["cancel"]
        }
        assert told == inside


class TestExport:
    async def test_every_public_message_is_valid_cap_and_in_the_atom_feed(
        self, api: Any, shared_data: Path, addresses: Addresses, liberec: list[AddressPoint]
    ) -> None:
        await api.harness.register(liberec)
        await api.harness.index(api.harness.subscriber(addresses["Masarykova"][0]))
        water = await api.key("Vodárna", "utility", categories=["water"], pre_approved=["water"])
        event = {
            "event_id": "SVS-9",
            "category": "water",
            "addresses": {
                "streets": [{"name": "Masarykova", "houses": {"numbers": ["1-25"], "side": "odd"}}]
            },
            "start": (datetime.now(UTC) + timedelta(hours=1)).isoformat(),
            "end": (datetime.now(UTC) + timedelta(hours=5)).isoformat(),
        }
        assert (await api.client.post("/v1/alerts", json=event, headers=water)).status_code == 201
        await api.harness.fan_out_all()
        moved = {
            **event,
            "msg_type": "update",
            "addresses": {"polygon": [[50.76, 15.05], [50.77, 15.05], [50.77, 15.06]]},
        }
        updated = await api.client.post("/v1/alerts", json=moved, headers=water)
        assert updated.status_code == 201, updated.text
        chmi = shifted_to_now((shared_data / "cap" / "chmi-naledi-a-vitr.xml").read_bytes())
        await api.client.post("/v1/alerts/cap", content=chmi, headers={**await weather_key(api), **CAP})
        feed = await api.client.get("/v1/public/feed.atom")
        assert feed.status_code == 200 and feed.headers["content-type"].startswith("application/atom+xml")
        atom = etree.fromstring(feed.content)
        ns = {"a": "http://www.w3.org/2005/Atom"}
        links = [link.get("href") for link in atom.findall("a:entry/a:link", ns)]
        assert len(links) == 4  # the alert, its update, the released word, the weather warning
        exported = []
        for link in links:
            document = await api.client.get(link.removeprefix("http://composer"))
            assert document.headers["content-type"].startswith("application/cap+xml")
            exported.append(parse_cap(document.content))  # validates against the OASIS schema
        assert sorted(c.msg_type for c in exported) == ["Alert", "Alert", "Update", "Update"]
        update = next(c for c in exported if c.msg_type == "Update" and c.infos[0].areas[0].polygons)
        assert update.references and update.references[0].identifier.startswith("hlasatel.liberec.")
        weather = next(c for c in exported if c.infos[0].categories == ("Met",))
        assert [i.language for i in weather.infos] == ["cs-CZ", "en-GB"]
        assert weather.infos[0].areas[0].geocodes == (("CISORP", "5105"),)

    async def test_drafts_are_not_public(self, api: Any) -> None:
        editor = await api.key("Eva", "editor")
        draft = {
            "severity": "info",
            "category": "culture",
            "content": {"cs": {"sms": "Koncert"}},
            "target": {"city": True},
        }
        created = (await api.client.post("/v1/messages", json=draft, headers=editor)).json()
        assert (await api.client.get(f"/v1/public/messages/{created['id']}.cap")).status_code == 404
        feed = etree.fromstring((await api.client.get("/v1/public/feed.atom")).content)
        assert feed.findall("{http://www.w3.org/2005/Atom}entry") == []
