"""Preview counts on a subscriber at every Liberec address point, against counts made from the CSV."""

import csv
from pathlib import Path
from typing import Any

import pytest

from hlasatel_composer.handlers import preview
from hlasatel_composer.schemas import PreviewRequest
from hlasatel_contracts import AddressPoint


def preview_request(target: dict[str, Any], **fields: Any) -> PreviewRequest:
    return PreviewRequest.model_validate({"target": target, **fields})


class TestPreviewAgainstTheGazetteer:
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
            assert everyone.deliveries == {"email": 0, "push": len(water), "sms": len(chosen)}
            only_water = await preview.preview(
                sessions=harness.sessions,
                principal=harness.editor,
                request=preview_request(target, category="water"),
                unsubscribe_base_url=None,
                four_eyes_threshold=1000,
            )
            assert (only_water.address_points, only_water.subscribers) == (len(water), len(water)), target
            streets = {f"{r['Název ulice']} ({r['Název části obce']})" for _, r in water if r["Název ulice"]}
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
        assert shown.unknown == ["Liberec I-Staré Město", "Masarykva"] or "Masarykva" in shown.unknown
