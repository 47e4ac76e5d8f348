"""CAP and the city's register: a warning for an area where nobody has subscribed yet, the blocks of one
alert completing each other, and what the city's export tells other systems of where a message is."""

from datetime import UTC, datetime, timedelta
from typing import Any

from lxml import etree

from hlasatel_composer.domain.cap import CapAlert, CapArea, CapInfo, parse_cap, render_cap
from hlasatel_composer.domain.targeting import Polygon
from hlasatel_contracts import AddressPoint, Channel

Addresses = dict[str, list[AddressPoint]]
CAP = {"Content-Type": "application/cap+xml"}


class TestWarningsForEveryArea:
    """The city's register, not its subscribers, decides whether an area is the city's."""

    @staticmethod
    def water_company(now: datetime, ring: tuple[tuple[float, float], ...]) -> CapAlert:
        """A Czech water company's alert: the Czech block says who and when, the English one only what."""
        area = (CapArea(description="Masarykova", polygons=((*ring, ring[0]),)),)
        return CapAlert(
            identifier="VL-2026-77",
            sender="dispecink@vodarna-liberec.cz",
            sent=now,
            status="Actual",
            msg_type="Alert",
            scope="Public",
            infos=(
                CapInfo(
                    language="cs-CZ",
                    categories=("Infra",),
                    event="Odstávka vody",
                    urgency="Expected",
                    severity="Moderate",
                    certainty="Likely",
                    onset=now + timedelta(hours=20),
                    expires=now + timedelta(hours=26),
                    sender_name="Vodárna Liberec",
                    headline="Odstávka vody v Masarykově ulici",
                    contact="840 111 111",
                    areas=area,
                ),
                CapInfo(
                    language="en-GB",
                    categories=("Infra",),
                    event="Water supply interruption",
                    urgency="Expected",
                    severity="Moderate",
                    certainty="Likely",
                    headline="Water off in Masarykova street",
                    areas=area,
                ),
            ),
        )

    async def test_a_polygon_over_houses_where_nobody_subscribed_is_published(
        self, api: Any, addresses: Addresses, liberec: list[AddressPoint]
    ) -> None:
        await api.harness.register(liberec)
        street = [p for p in addresses["Masarykova"] if p.latitude is not None]
        ring = _around(street[:4])
        now = datetime.now(UTC).replace(microsecond=0)
        key = {**await api.key("Vodárna", "utility", categories=["water"], pre_approved=["water"]), **CAP}
        made = await api.client.post(
            "/v1/alerts/cap", content=render_cap(self.water_company(now, ring)), headers=key
        )
        assert made.status_code == 201, made.text
        answer = made.json()
        assert (
            "nobody has subscribed" in answer["outcome"]
            and "in the city's CAP and Atom feeds" in answer["outcome"]
        )
        # Infra from a key of water alone is water
        assert answer["alert"]["category"] == "water"
        await api.harness.fan_out_all()
        assert api.harness.published.requests == []
        feed = etree.fromstring((await api.client.get("/v1/public/feed.atom")).content)
        ns = {"a": "http://www.w3.org/2005/Atom"}
        (entry,) = feed.findall("a:entry", ns)
        exported = parse_cap(
            (
                await api.client.get(entry.find("a:link", ns).get("href").removeprefix("http://composer"))
            ).content
        )  # type: ignore[union-attr]
        english = next(info for info in exported.infos if info.language == "en-GB")
        # the English message names the company and its times, not the sender's address and the hour it sent
        assert (english.onset, english.expires) == (now + timedelta(hours=20), now + timedelta(hours=26))
        assert english.sender_name == "Statutární město Liberec"
        message = (await api.client.get(f"/v1/messages/{answer['alert']['current']}", headers=key)).json()
        assert message["expires_at"] == (now + timedelta(hours=26)).isoformat().replace("+00:00", "Z")
        english_sms = message["content"]["en"]["sms"]
        assert english_sms.startswith("Vodárna Liberec:") and "dispecink@" not in english_sms
        assert "Water supply interruption" in english_sms

    async def test_an_area_with_no_house_of_the_city_is_not_for_liberec(
        self, api: Any, addresses: Addresses
    ) -> None:
        await api.harness.register(addresses["Masarykova"])
        now = datetime.now(UTC).replace(microsecond=0)
        prague = ((50.08, 14.42), (50.08, 14.43), (50.09, 14.43), (50.09, 14.42))
        key = {**await api.key("Vodárna", "utility", categories=["water"], pre_approved=["water"]), **CAP}
        answer = await api.client.post(
            "/v1/alerts/cap", content=render_cap(self.water_company(now, prague)), headers=key
        )
        assert answer.status_code == 200 and answer.json()["alert"] is None
        assert "not for Liberec" in answer.json()["outcome"]


def _around(points: list[AddressPoint]) -> tuple[tuple[float, float], ...]:
    lats = [p.latitude for p in points if p.latitude is not None]
    lons = [p.longitude for p in points if p.longitude is not None]
    south, north, west, east = min(lats) - 1e-4, max(lats) + 1e-4, min(lons) - 1e-4, max(lons) + 1e-4
    return ((south, west), (south, east), (north, east), (north, west))


class TestWhatOtherSystemsRead:
    async def test_an_outage_and_its_all_clear_are_placed_on_the_street_they_concern(
        self, api: Any, addresses: Addresses
    ) -> None:
        street = addresses["Masarykova"]
        await api.harness.register(street)
        await api.harness.index(*(api.harness.subscriber(p) for p in street[:2]))
        water = await api.key("Vodárna", "utility", categories=["water"], pre_approved=["water"])
        start = (datetime.now(UTC) + timedelta(hours=2)).replace(microsecond=0)
        event = {
            "event_id": "SVS-10",
            "category": "water",
            # by address point codes: the places come from the register, not from the event
            "addresses": {"address_points": [p.code for p in street[:5]]},
            "start": start.isoformat(),
            "end": (start + timedelta(hours=4)).isoformat(),
        }
        assert (await api.client.post("/v1/alerts", json=event, headers=water)).status_code == 201
        await api.harness.fan_out_all()
        ended = await api.client.post("/v1/alerts", json={**event, "msg_type": "all-clear"}, headers=water)
        assert ended.status_code == 201, ended.text
        kinds = {m["kind"]: m["id"] for m in ended.json()["messages"]}
        await api.harness.fan_out_all()
        all_clear_sms = [
            r.text
            for r in api.harness.published.requests
            if str(r.message_id) == kinds["all-clear"] and r.channel is Channel.SMS
        ]
        assert all_clear_sms and all("Masarykova" in text for text in all_clear_sms)
        outage = parse_cap((await api.client.get(f"/v1/public/messages/{kinds['alert']}.cap")).content)
        clear = parse_cap((await api.client.get(f"/v1/public/messages/{kinds['all-clear']}.cap")).content)
        for exported in (outage, clear):
            (area,) = exported.infos[0].areas
            # a polygon around its houses, never the whole ORP
            assert area.description == "Masarykova" and area.geocodes == () and area.polygons, (
                exported.msg_type
            )
            rings = [Polygon(points=list(polygon[:-1])) for polygon in area.polygons]
            for house in street[:5]:
                assert any(ring.contains(house.latitude, house.longitude) for ring in rings), house  # type: ignore[arg-type]
        cs = outage.infos[0]
        # the event, not the headline with its date; the planned start as the onset
        assert (cs.event, cs.onset) == ("Odstávka vody", start)
        assert clear.infos[0].response_types == ("AllClear",) and clear.msg_type == "Update"
        document = (await api.client.get(f"/v1/public/messages/{kinds['alert']}.cap")).content
        assert b"-00:00</sent>" in document and b"+00:00" not in document
