"""The composer knows every house of the city: the register projected from its topic, its households in
reports and door-to-door lists, a target on a map, and what concerns one address."""

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import shapely

from hlasatel_composer.adapters.orm import IndexedPoint, MessageRow
from hlasatel_composer.handlers import preview, reports, statuses
from hlasatel_composer.schemas import PreviewRequest
from hlasatel_contracts import AddressPoint, DeliveryState
from hlasatel_contracts.addresses import house_number

from ..conftest import status_of

Addresses = dict[str, list[AddressPoint]]
MASARYKOVA = {"streets": [{"name": "Masarykova"}]}


async def houses(harness: Any, target: dict[str, Any]) -> int:
    shown = await preview.preview(
        sessions=harness.sessions,
        principal=harness.editor,
        request=PreviewRequest.model_validate({"target": target}),
        unsubscribe_base_url=None,
        four_eyes_threshold=1000,
    )
    return shown.address_points


class TestTheRegisterProjection:
    async def test_an_older_or_repeated_version_changes_nothing(
        self, harness: Any, addresses: Addresses
    ) -> None:
        house = addresses["Masarykova"][0]
        await harness.register([house.model_copy(update={"postcode": "46099"})], version=2)
        await harness.register([house], version=1)
        await harness.register([house.model_copy(update={"postcode": "46099"})], version=2)
        async with harness.sessions() as session:
            stored = await session.get(IndexedPoint, house.code)
        assert stored is not None and (stored.version, stored.postcode) == (2, "46099")

    async def test_the_register_replaces_what_subscriber_records_said_and_never_the_other_way(
        self, harness: Any, addresses: Addresses
    ) -> None:
        house = addresses["Masarykova"][0]
        # a subscriber's record arrives first, with the address as it was when they registered
        await harness.index(harness.subscriber(house.model_copy(update={"street": "Stará"})))
        assert await houses(harness, {"streets": [{"name": "Stará"}]}) == 1
        await harness.register([house])
        await harness.index(harness.subscriber(house.model_copy(update={"street": "Stará"})))
        assert await houses(harness, {"streets": [{"name": "Stará"}]}) == 0
        assert await houses(harness, MASARYKOVA) == 1

    async def test_a_retired_address_point_is_targeted_and_looked_up_no_more(
        self, api: Any, addresses: Addresses
    ) -> None:
        street = addresses["Masarykova"]
        await api.harness.register(street)
        await api.harness.index(api.harness.subscriber(street[0]))
        assert await houses(api.harness, MASARYKOVA) == 38
        lookup = f"/v1/public/addresses/{street[0].code}/alerts"
        assert (await api.client.get(lookup)).status_code == 200
        # next month's file no longer has it
        await api.harness.register([street[0]], version=2, retired=True)
        assert await houses(api.harness, MASARYKOVA) == 37
        assert await houses(api.harness, {"address_points": [street[0].code]}) == 0
        gone = await api.client.get(lookup)
        assert gone.status_code == 404 and "no address point" in gone.json()["detail"]
        # and its subscriber is not told of the street's outage any more
        message_id = await api.harness.send(MASARYKOVA)
        assert not [r for r in api.harness.published.requests if r.message_id == message_id]

    async def test_each_district_has_an_outline_around_its_houses(
        self, harness: Any, liberec: list[AddressPoint]
    ) -> None:
        await harness.register(liberec)
        from hlasatel_composer.adapters.register import outlines

        async with harness.sessions() as session:
            drawn = await outlines(session)
        assert len(drawn) == 33 and sum(o.address_points for o in drawn) == 16_140
        by_name = {o.district: shapely.geometry.shape(o.geometry) for o in drawn}
        for point in liberec[::50]:
            assert by_name[point.district].contains(shapely.Point(point.longitude, point.latitude)), point


class TestHouseholdsNobodyReached:
    async def test_a_street_where_3_of_38_houses_have_subscribers(
        self, api: Any, harness: Any, liberec: list[AddressPoint], addresses: Addresses
    ) -> None:
        await harness.register(liberec)
        street = addresses["Masarykova"]
        subscribed = [harness.subscriber(p, push=False) for p in street[:3]]
        await harness.index(*subscribed)
        message_id = await harness.send(MASARYKOVA)
        sent = {r.subscriber_id: r for r in harness.published.requests}
        # two were reached; the third house's SMS failed for good
        for person, state in zip(
            subscribed, [DeliveryState.DELIVERED, DeliveryState.ACCEPTED, DeliveryState.FAILED], strict=True
        ):
            await statuses.apply_status(
                sessions=harness.sessions, status=status_of(sent[person.subscriber_id], state)
            )
        report = await reports.report(
            sessions=harness.sessions, principal=harness.editor, message_id=message_id
        )
        assert (report.households_targeted, report.households_reached) == (38, 2)
        assert report.households_not_reached is not None
        assert report.households_not_reached.model_dump() == {
            "total": 36,
            "subscribed_not_reached": 1,
            "not_subscribed": 35,
        }
        unreached = {h.address_point_code: h.reason for h in report.unreached}
        assert unreached[street[2].code] == "subscribed_not_reached"
        assert {code for code, reason in unreached.items() if reason == "not_subscribed"} == {
            p.code for p in street[3:]
        }
        editor = await api.key("Editor", "editor")
        text = (await api.client.get(f"/v1/messages/{message_id}/unreached.csv", headers=editor)).text
        rows = list(csv.DictReader(io.StringIO(text)))
        assert len(rows) == 36 and set(rows[0]) == {
            "street", "number", "district", "postcode", "reason", "address_point_code"
        }  # fmt: skip
        walked = [(r["district"], int(r["number"].split("/")[-1].rstrip("abcdefgh"))) for r in rows]
        assert walked == sorted(walked), "not in the order of a walk: district, then house number"
        assert {r["reason"] for r in rows} == {"nobody subscribed", "subscribed, but nobody reached"}
        by_code = {int(r["address_point_code"]): r for r in rows}
        assert by_code[street[3].code]["number"] == house_number(street[3])
        assert by_code[street[3].code]["postcode"] == f"{street[3].postcode[:3]} {street[3].postcode[3:]}"
        geojson = (
            await api.client.get(f"/v1/messages/{message_id}/unreached.geojson", headers=editor)
        ).json()
        assert geojson["type"] == "FeatureCollection" and len(geojson["features"]) == 36
        point = next(f for f in geojson["features"] if f["id"] == street[3].code)
        assert point["geometry"]["coordinates"] == [street[3].longitude, street[3].latitude]


class TestTheTargetOnAMap:
    async def test_the_points_of_a_target_and_the_districts_as_geojson(
        self, api: Any, liberec: list[AddressPoint]
    ) -> None:
        await api.harness.register(liberec)
        editor = await api.key("Editor", "editor")
        target = '{"streets": [{"name": "Masarykova"}]}'
        answer = await api.client.get("/v1/targets/geojson", params={"target": target}, headers=editor)
        assert answer.status_code == 200 and answer.headers["content-type"] == "application/geo+json"
        features = answer.json()["features"]
        kinds = [f["properties"]["kind"] for f in features]
        assert kinds.count("district") == 33 and kinds.count("address_point") == 38
        house = next(f for f in features if f["properties"]["kind"] == "address_point")
        # the register's facts, nothing about who has subscribed there
        assert set(house["properties"]) == {"kind", "address", "street", "number", "district", "postcode"}
        posted = await api.client.post("/v1/targets/geojson", json={"target": MASARYKOVA}, headers=editor)
        assert posted.json() == answer.json()
        outlines = (await api.client.get("/v1/targets/geojson", headers=editor)).json()["features"]
        assert {f["properties"]["kind"] for f in outlines} == {"district"}
        typo = await api.client.get(
            "/v1/targets/geojson", params={"target": '{"streets": []}'}, headers=editor
        )
        assert typo.status_code == 422 and typo.json()["detail"][0]["loc"][:2] == ["query", "target"]

    async def test_a_key_sees_no_target_outside_its_area(self, api: Any, addresses: Addresses) -> None:
        await api.harness.register(addresses["Masarykova"] + addresses["Husova"])
        scoped = await api.key("Vodárna", "editor", area=MASARYKOVA)
        husova = '{"streets": [{"name": "Husova"}]}'
        refused = await api.client.get("/v1/targets/geojson", params={"target": husova}, headers=scoped)
        assert refused.status_code == 403 and "outside the area" in refused.json()["detail"]


class TestWhatConcernsMyAddress:
    async def test_the_messages_in_force_at_a_house_where_nobody_subscribed(
        self, api: Any, addresses: Addresses
    ) -> None:
        street, elsewhere = addresses["Masarykova"], addresses["Husova"][0]
        await api.harness.register([*street, elsewhere])
        later = (datetime.now(UTC) + timedelta(hours=6)).isoformat()
        outage = await api.harness.send(MASARYKOVA, expires_at=later)
        over = await api.harness.send(MASARYKOVA, expires_at=later)

        async def in_force(code: int) -> list[str]:
            answer = await api.client.get(f"/v1/public/addresses/{code}/alerts")
            assert answer.status_code == 200, answer.text
            return [m["id"] for m in answer.json()["messages"]]

        answer = (await api.client.get(f"/v1/public/addresses/{street[7].code}/alerts")).json()
        assert answer["address"].startswith("Masarykova ") and answer["feed"].endswith("/v1/public/feed.atom")
        assert answer["messages"][0]["cap"] == f"http://composer/v1/public/messages/{over}.cap"
        assert await in_force(street[7].code) == [str(over), str(outage)]
        assert await in_force(elsewhere.code) == []
        # one is cancelled, the other's time runs out
        approver = await api.key("Approver", "approver")
        assert (await api.client.post(f"/v1/messages/{outage}/cancel", headers=approver)).status_code == 200
        async with api.harness.sessions() as session, session.begin():
            row = await session.get(MessageRow, over)
            assert row is not None
            row.expires_at = datetime.now(UTC) - timedelta(minutes=1)
        assert await in_force(street[7].code) == []
        assert (await api.client.get("/v1/public/addresses/1/alerts")).status_code == 404
