"""Preview counts against counts made from the RÚIAN files themselves: of the register alone (Liberec and
Jablonec nad Nisou, nobody subscribed), and of a subscriber at every Liberec address point."""

import csv
import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pyproj import Transformer

from hlasatel_composer.handlers import preview
from hlasatel_composer.schemas import PreviewRequest
from hlasatel_contracts import AddressPoint

# the RÚIAN file's S-JTSK (Y, X) to WGS-84, done here and not by the registry: the expected counts come
# from the file alone
_WGS84 = Transformer.from_crs("EPSG:5514", "EPSG:4326", always_xy=True)


def preview_request(target: dict[str, Any], **fields: Any) -> PreviewRequest:
    return PreviewRequest.model_validate({"target": target, **fields})


@dataclass(frozen=True)
class Row:
    """A line of the RÚIAN file, as the file says it."""

    code: int
    district: str
    street: str
    kind: str
    number: int
    orientation: int | None
    latitude: float
    longitude: float


def _rows(path: Path) -> list[Row]:
    with path.open(encoding="cp1250", newline="") as f:
        lines = list(csv.DictReader(f, delimiter=";"))
    xs = [-float(line["Souřadnice Y"]) for line in lines]
    ys = [-float(line["Souřadnice X"]) for line in lines]
    longitudes, latitudes = _WGS84.transform(xs, ys)
    return [
        Row(
            code=int(line["Kód ADM"]),
            district=line["Název části obce"],
            street=line["Název ulice"],
            kind=line["Typ SO"],
            number=int(line["Číslo domovní"]),
            orientation=int(line["Číslo orientační"]) if line["Číslo orientační"] else None,
            latitude=latitude,
            longitude=longitude,
        )
        for line, latitude, longitude in zip(lines, latitudes, longitudes, strict=True)
    ]


def _metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    phi1, phi2 = math.radians(a[0]), math.radians(b[0])
    h = (
        math.sin((phi2 - phi1) / 2) ** 2
        + math.cos(phi1) * math.cos(phi2) * math.sin(math.radians(b[1] - a[1]) / 2) ** 2
    )
    return 2 * 6_371_008.8 * math.asin(math.sqrt(h))


Case = tuple[str, dict[str, Any], Callable[[Row], bool]]


def every_kind_of_selector(rows: list[Row]) -> list[Case]:
    """A target of every kind, chosen from the file (no city's names are written here), each with the
    rows it must select."""
    districts = Counter(r.district for r in rows)
    streets = Counter(r.street for r in rows if r.street)
    biggest = districts.most_common(1)[0][0]
    longest = streets.most_common(1)[0][0]
    crossing = next(
        name for name, _ in streets.most_common() if len({r.district for r in rows if r.street == name}) > 1
    )
    second = sorted({r.district for r in rows if r.street == crossing})[1]
    numbered = next(
        name
        for name, _ in streets.most_common()
        if sum(r.orientation is not None for r in rows if r.street == name) > 20
    )
    popisna = sorted({r.number for r in rows if r.street == numbered and r.kind == "č.p."})[:3]
    evidencni = next(
        name
        for name, _ in streets.most_common()
        if any(r.kind == "č.ev." and r.street == name and r.number % 2 == 0 for r in rows)
    )
    codes = [rows[0].code, rows[len(rows) // 2].code, rows[-1].code]
    middle = sorted(rows, key=lambda r: (r.latitude, r.longitude))[len(rows) // 2]
    south, north = middle.latitude - 0.004, middle.latitude + 0.004
    west, east = middle.longitude - 0.006, middle.longitude + 0.006
    centre = (middle.latitude, middle.longitude)
    return [
        ("the whole city", {"city": True}, lambda r: True),
        ("a district", {"districts": [biggest.upper()]}, lambda r: r.district == biggest),
        ("a street", {"streets": [{"name": longest}]}, lambda r: r.street == longest),
        (
            "a street within one district",
            {"streets": [{"name": crossing, "district": second}]},
            lambda r: r.street == crossing and r.district == second,
        ),
        (
            "odd houses 1-25",
            {"streets": [{"name": numbered, "houses": {"numbers": ["1-25"], "side": "odd"}}]},
            lambda r: (
                r.street == numbered
                and r.orientation is not None
                and r.orientation <= 25
                and r.orientation % 2
            ),
        ),
        (
            "houses by číslo popisné",
            {"streets": [{"name": numbered, "houses": {"by": "cp", "numbers": [str(n) for n in popisna]}}]},
            lambda r: r.street == numbered and r.kind == "č.p." and r.number in popisna,
        ),
        (
            "the even č.ev. of a street",
            {"streets": [{"name": evidencni, "houses": {"by": "ce", "side": "even"}}]},
            lambda r: r.street == evidencni and r.kind == "č.ev." and r.number % 2 == 0,
        ),
        ("address points", {"address_points": codes}, lambda r: r.code in codes),
        (
            "a polygon",
            {"polygons": [{"points": [[south, west], [north, west], [north, east], [south, east]]}]},
            lambda r: south <= r.latitude <= north and west <= r.longitude <= east,
        ),
        (
            "a circle",
            {"circles": [{"latitude": centre[0], "longitude": centre[1], "radius_m": 300}]},
            lambda r: _metres(centre, (r.latitude, r.longitude)) <= 300,
        ),
        (
            # most of the city: counted as every house but those left out
            "the city but its biggest district",
            {"city": True, "exclude": {"districts": [biggest]}},
            lambda r: r.district != biggest,
        ),
        (
            "a district but one street",
            {"districts": [biggest], "exclude": {"streets": [{"name": longest}]}},
            lambda r: r.district == biggest and r.street != longest,
        ),
    ]


class TestPreviewOfTheRegisterAlone:
    """Nobody has subscribed yet: every count of houses comes from the register, and matches the file."""

    @pytest.mark.parametrize(("city", "code"), [("liberec", 563889), ("jablonec", 563510)])
    async def test_every_selector_counts_the_houses_of_the_ruian_file(
        self, harness: Any, city: str, code: int, request: pytest.FixtureRequest
    ) -> None:
        points: list[AddressPoint] = request.getfixturevalue(city)
        rows = _rows(request.getfixturevalue(f"{city}_csv"))
        await harness.register(points, municipality_code=code)
        for name, target, keep in every_kind_of_selector(rows):
            chosen = [r for r in rows if keep(r)]
            assert chosen, name
            shown = await preview.preview(
                sessions=harness.sessions,
                principal=harness.editor,
                request=preview_request(target),
                unsubscribe_base_url=None,
                four_eyes_threshold=1000,
            )
            assert shown.address_points == len(chosen), name
            assert (shown.address_points_with_subscribers, shown.subscribers) == (0, 0), name
            assert shown.deliveries == {"email": 0, "push": 0, "sms": 0}, name
            assert shown.streets == sorted({f"{r.street} ({r.district})" for r in chosen if r.street}), name
            assert shown.unknown == [], name

    async def test_three_subscribed_houses_of_a_street_are_three_of_all_its_houses(
        self, harness: Any, liberec: list[AddressPoint], addresses: dict[str, list[AddressPoint]]
    ) -> None:
        await harness.register(liberec)
        street = addresses["Masarykova"]
        await harness.index(*(harness.subscriber(p) for p in street[:3]))
        shown = await preview.preview(
            sessions=harness.sessions,
            principal=harness.editor,
            request=preview_request({"streets": [{"name": "Masarykova"}]}),
            unsubscribe_base_url=None,
            four_eyes_threshold=1000,
        )
        assert (shown.address_points, shown.address_points_with_subscribers, shown.subscribers) == (38, 3, 3)
        assert len(street) == 38


class TestPreviewOfSubscribersEverywhere:
    async def test_counts_match_the_ruian_file(
        self, harness: Any, liberec: list[AddressPoint], liberec_csv: Path
    ) -> None:
        # everyone on a phone; every third subscriber reads only about culture and has no push token
        await harness.index(
            *(
                harness.subscriber(p, categories=["culture"] if i % 3 == 0 else ["water"], push=i % 3 != 0)
                for i, p in enumerate(liberec)
            )
        )
        with liberec_csv.open(encoding="cp1250", newline="") as f:
            rows = list(enumerate(csv.DictReader(f, delimiter=";")))
        cases: list[tuple[dict[str, Any], Any]] = [
            ({"city": True}, lambda r: True),
            (
                {"city": True, "exclude": {"districts": ["Liberec XIV-Ruprechtice"]}},
                lambda r: r["Název části obce"] != "Liberec XIV-Ruprechtice",
            ),
            (
                {"districts": ["Liberec XIV-Ruprechtice"]},
                lambda r: r["Název části obce"] == "Liberec XIV-Ruprechtice",
            ),
            ({"streets": [{"name": "Kubelíkova"}]}, lambda r: r["Název ulice"] == "Kubelíkova"),
            (
                {"streets": [{"name": "Ruprechtická", "houses": {"numbers": ["1-41"], "side": "odd"}}]},
                lambda r: (
                    r["Název ulice"] == "Ruprechtická"
                    and r["Číslo orientační"]
                    and 1 <= int(r["Číslo orientační"]) <= 41
                    and int(r["Číslo orientační"]) % 2
                ),
            ),
        ]
        for target, keep in cases:
            chosen = [(i, r) for i, r in rows if keep(r)]
            water = [(i, r) for i, r in chosen if i % 3 != 0]
            everyone = await preview.preview(
                sessions=harness.sessions,
                principal=harness.editor,
                request=preview_request(target),
                unsubscribe_base_url=None,
                four_eyes_threshold=1000,
            )
            assert (everyone.address_points, everyone.subscribers) == (len(chosen), len(chosen)), target
            assert everyone.address_points_with_subscribers == len(chosen), target
            assert everyone.deliveries == {"email": 0, "push": len(water), "sms": len(chosen)}
            only_water = await preview.preview(
                sessions=harness.sessions,
                principal=harness.editor,
                request=preview_request(target, category="water"),
                unsubscribe_base_url=None,
                four_eyes_threshold=1000,
            )
            # every house of the target is concerned; those whose subscribers chose water are told
            assert (only_water.address_points, only_water.subscribers) == (len(chosen), len(water)), target
            assert only_water.address_points_with_subscribers == len(water), target
            streets = {f"{r['Název ulice']} ({r['Název části obce']})" for _, r in chosen if r["Název ulice"]}
            assert only_water.streets == sorted(streets)
            assert everyone.four_eyes is (len(chosen) > 1000 or target.get("city", False))


class TestPreviewOfTheMessage:
    @pytest.fixture
    async def one_house(self, harness: Any, addresses: dict[str, list[AddressPoint]]) -> AddressPoint:
        house = addresses["Masarykova"][0]
        await harness.index(harness.subscriber(house))
        return house

    async def preview(self, harness: Any, house: AddressPoint, **fields: Any) -> Any:
        return await preview.preview(
            sessions=harness.sessions,
            principal=harness.editor,
            request=preview_request({"address_points": [house.code]}, **fields),
            unsubscribe_base_url="https://hlasatel.liberec.cz",
            four_eyes_threshold=1000,
        )

    async def test_czech_diacritics_take_ucs2_and_transliteration_gsm7(
        self, harness: Any, one_house: Any
    ) -> None:
        text = "Zítra od 8 do 14 hodin nepoteče voda v ulici Masarykova, čísla 1–25."
        content = {"cs": {"sms": text}, "en": {"sms": "Water off tomorrow 8-14 in Masarykova 1-25."}}
        plain = await self.preview(harness, one_house, content=content, severity="warning")
        assert plain.sms["cs"].encoding == "UCS-2" and plain.sms["cs"].segments == 2
        assert {"í", "č"} <= set(plain.sms["cs"].non_gsm)
        assert plain.sms["en"].encoding == "GSM-7" and plain.sms["en"].segments == 1
        gsm = await self.preview(
            harness, one_house, content=content, severity="warning", sms_transliterate=True
        )
        assert gsm.sms["cs"].encoding == "GSM-7" and gsm.sms["cs"].segments == 1
        # the unsubscribe footer is counted: an emergency carries none and is shorter
        emergency = await self.preview(harness, one_house, content=content, severity="emergency")
        assert emergency.sms["cs"].characters == len(text) < plain.sms["cs"].characters

    async def test_deliveries_only_on_the_channels_the_content_has(
        self, harness: Any, one_house: Any
    ) -> None:
        shown = await self.preview(
            harness, one_house, content={"cs": {"push": {"title": "Voda", "body": "Zítra"}}}
        )
        assert shown.deliveries == {"push": 1}

    async def test_unknown_names_are_pointed_out(self, harness: Any, one_house: Any) -> None:
        shown = await preview.preview(
            sessions=harness.sessions,
            principal=harness.editor,
            request=preview_request(
                {"streets": [{"name": "Masarykva"}], "districts": ["Liberec I-Staré Město"]}
            ),
            unsubscribe_base_url=None,
            four_eyes_threshold=1000,
        )
        # a district the register has is not unknown; a typo is, with the names meant
        assert [(u.name, u.kind, u.suggestions[0]) for u in shown.unknown] == [
            ("Masarykva", "street", "Masarykova")
        ]
