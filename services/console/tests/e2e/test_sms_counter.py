"""The compose page's SMS counter (static/sms.js) counts in the browser what the composer counts on the
server (hlasatel_contracts.sms): the same characters, encoding, segments and characters forcing UCS-2, and
the same transliteration, on Czech and other texts, in Debian's Chromium."""

import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, sync_playwright

from hlasatel_contracts.sms import GSM7_BASIC, GSM7_EXTENSION, measure, transliterate
from hlasatel_devstack.browsing import chromium_path

pytestmark = pytest.mark.browser
SMS_JS = Path(__file__).resolve().parents[2] / "src" / "hlasatel_console" / "static" / "sms.js"

WRITTEN = [
    "",
    "Zítra 8–14 h nepoteče voda v ulici Masarykova. Děkujeme za pochopení, Severočeská vodárenská.",
    "Tomorrow 8-14 no water in Masarykova street.",
    "Cena: 5 € [sleva {10 %}] ~ ^ | \\ konec",
    "Uzavírka 🚧 Husova ulice 👷‍♀️ do pátku",
    "Шановні мешканці! Завтра з 8 до 14 год. не буде води.",
    "Jutro łączność przerwana — prosimy o wyrozumiałość „dziękujemy”.",
    "Straße gesperrt; Umleitung über Sokolovská… ×2",
    "e\u0301 a\u030a o\u0308 c\u030c combining marks",
    "\ttab\u00a0nbsp\u2009thin\u200bzero",
    "a" * 160,
    "a" * 161,
    "a" * 152 + "€",
    "a" * 153 + "€" + "b" * 10,
    "č" * 70,
    "č" * 71,
    "č" * 66 + "😀" + "č" * 5,
]


def generated(count: int = 150) -> Iterator[str]:
    """Texts drawn from GSM-7, its extension table, Czech letters and things beyond the BMP, near the
    segment boundaries."""
    pool = list(GSM7_BASIC.replace("\x1b", "")) + list(GSM7_EXTENSION.values()) + list("ěščřžýáíéůúťďňĚŠČŘŽ")
    pool += ["😀", "🚰", "\u0301", "–", "„", "“", "…"]
    rng = random.Random(1207)
    for _ in range(count):
        length = rng.choice(
            [rng.randint(0, 40), rng.randint(60, 75), rng.randint(150, 170), rng.randint(300, 480)]
        )
        yield "".join(rng.choice(pool) for _ in range(length))


TEXTS = WRITTEN + list(generated())


@pytest.fixture(scope="module")
def page() -> Iterator[Page]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=["--no-sandbox"])
        opened = browser.new_page()
        opened.set_content("<!doctype html><html lang='en'><title>sms.js</title></html>")
        opened.add_script_tag(content=SMS_JS.read_text(encoding="utf-8"))
        yield opened
        browser.close()


def in_the_browser(page: Page, texts: list[str]) -> list[dict[str, Any]]:
    return list(
        page.evaluate(
            "texts => texts.map(t => ({measured: HlasatelSms.measure(t), plain: HlasatelSms.transliterate(t),"
            " plainMeasured: HlasatelSms.measure(HlasatelSms.transliterate(t))}))",
            texts,
        )
    )


def on_the_server(text: str) -> dict[str, Any]:
    length = measure(text)
    return {
        "characters": length.characters,
        "encoding": str(length.encoding),
        "segments": length.segments,
        "per_segment": length.per_segment,
        "non_gsm": list(length.non_gsm),
    }


def test_the_counter_measures_as_the_composer_does(page: Page) -> None:
    browser = in_the_browser(page, TEXTS)
    differ = [
        (text[:40], got["measured"], on_the_server(text))
        for text, got in zip(TEXTS, browser, strict=True)
        if got["measured"] != on_the_server(text)
    ]
    assert not differ, differ[:3]


def test_the_transliteration_switch_gives_the_composers_text(page: Page) -> None:
    browser = in_the_browser(page, TEXTS)
    differ = [
        (text[:40], got["plain"][:40], transliterate(text)[:40])
        for text, got in zip(TEXTS, browser, strict=True)
        if got["plain"] != transliterate(text)
    ]
    assert not differ, differ[:3]
    czech = browser[1]
    assert czech["plainMeasured"]["encoding"] == "GSM-7"
    assert czech["plainMeasured"]["segments"] == 1, "transliterated, the Czech notice fits one SMS"
