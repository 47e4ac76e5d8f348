import inspect
import random
import unicodedata

import pytest

import hlasatel_contracts.sms
from hlasatel_contracts.sms import GSM7_BASIC, GSM7_EXTENSION, SmsEncoding, SmsLength, measure, transliterate

CZECH_SENTENCE = "Příliš žluťoučký kůň úpěl ďábelské ódy – „Odstávka vody“ v ulici 28. října…"
UKRAINIAN = "Увага! Відключення води на вулиці Шевченка, 28. Їжу та воду запасіть заздалегідь."
TAP = "\N{POTABLE WATER SYMBOL}"


class TestAlphabet:
    def test_basic_table_has_a_character_for_every_septet_but_the_escape(self) -> None:
        assert len(GSM7_BASIC) == 128
        assert GSM7_BASIC[0x1B] == "\x1b"
        assert len(set(GSM7_BASIC)) == 128

    def test_basic_table_positions_follow_the_spec(self) -> None:
        assert GSM7_BASIC[0x00] == "@"
        assert GSM7_BASIC[0x09] == "\N{LATIN CAPITAL LETTER C WITH CEDILLA}"
        assert GSM7_BASIC[0x10] == "\N{GREEK CAPITAL LETTER DELTA}"
        assert GSM7_BASIC[0x15] == "\N{GREEK CAPITAL LETTER OMEGA}"
        assert GSM7_BASIC[0x24] == "\N{CURRENCY SIGN}"
        assert GSM7_BASIC[0x40] == "¡"
        assert GSM7_BASIC[0x5F] == "§"
        assert GSM7_BASIC[0x60] == "¿"
        assert GSM7_BASIC[0x7F] == "à"

    def test_extension_table_is_the_ten_two_septet_characters(self) -> None:
        assert sorted(GSM7_EXTENSION.values()) == sorted("^{}\\[~]|€\f")
        assert GSM7_EXTENSION[0x65] == "€"

    def test_every_table_character_is_gsm7_and_costs_one_or_two_septets(self) -> None:
        basic = GSM7_BASIC.replace("\x1b", "")
        extension = "".join(GSM7_EXTENSION.values())
        assert measure(basic) == SmsLength(127, SmsEncoding.GSM_7, 127, 1, 160)
        assert measure(extension) == SmsLength(10, SmsEncoding.GSM_7, 20, 1, 160)

    def test_public_api_is_what_all_says(self) -> None:
        module = hlasatel_contracts.sms
        defined_here = {
            name
            for name, value in vars(module).items()
            if not name.startswith("_")
            and not inspect.ismodule(value)
            and getattr(value, "__module__", module.__name__) == module.__name__
        }
        assert defined_here == set(module.__all__)


class TestGsm7Segments:
    @pytest.mark.parametrize(
        ("length", "segments", "per_segment"),
        [(1, 1, 160), (160, 1, 160), (161, 2, 153), (306, 2, 153), (307, 3, 153), (459, 3, 153)],
    )
    def test_plain_text_fills_160_then_153_per_segment(
        self, length: int, segments: int, per_segment: int
    ) -> None:
        result = measure("a" * length)
        assert (result.encoding, result.units, result.segments, result.per_segment) == (
            SmsEncoding.GSM_7,
            length,
            segments,
            per_segment,
        )

    def test_extension_character_costs_two_septets(self) -> None:
        assert measure("€" * 80) == SmsLength(80, SmsEncoding.GSM_7, 160, 1, 160)
        assert measure("€" * 80 + "a").segments == 2

    def test_extension_character_that_would_straddle_two_segments_moves_to_the_second(self) -> None:
        straddling = measure("a" * 152 + "€" + "a" * 152)
        assert (straddling.units, straddling.segments) == (306, 3)

    def test_extension_character_that_ends_a_segment_exactly_stays_in_it(self) -> None:
        assert measure("a" * 151 + "€" + "a" * 153).segments == 2

    def test_line_breaks_are_one_septet(self) -> None:
        assert measure("a\r\nb").units == 4

    def test_empty_text_is_zero_segments(self) -> None:
        assert measure("") == SmsLength(0, SmsEncoding.GSM_7, 0, 0, 160)


class TestUcs2Segments:
    def test_a_single_czech_letter_makes_the_whole_text_ucs2(self) -> None:
        result = measure("a" * 100 + "ř")
        assert result == SmsLength(101, SmsEncoding.UCS_2, 101, 2, 67, ("ř",))

    @pytest.mark.parametrize(("length", "segments"), [(70, 1), (71, 2), (134, 2), (135, 3)])
    def test_czech_text_fills_70_then_67_per_segment(self, length: int, segments: int) -> None:
        result = measure(("Příliš žluťoučký kůň " * 10)[:length])
        assert (result.encoding, result.units, result.segments) == (SmsEncoding.UCS_2, length, segments)
        assert result.per_segment == (70 if segments == 1 else 67)

    def test_emoji_is_one_character_of_two_units(self) -> None:
        assert measure(TAP) == SmsLength(1, SmsEncoding.UCS_2, 2, 1, 70, (TAP,))
        assert measure(TAP * 35).segments == 1
        assert measure(TAP * 36).segments == 2

    def test_emoji_that_would_straddle_two_segments_moves_to_the_second(self) -> None:
        straddling = measure("a" * 66 + TAP + "a" * 66)
        assert (straddling.units, straddling.segments) == (134, 3)
        assert measure("a" * 65 + TAP + "a" * 67).segments == 2

    def test_non_gsm_lists_each_offending_character_once_in_order(self) -> None:
        assert measure("Řeka řeší č, řeka").non_gsm == ("Ř", "ř", "š", "í", "č")
        assert measure(CZECH_SENTENCE.replace("…", "")).non_gsm[:3] == ("ř", "í", "š")


class TestTransliterate:
    def test_czech_sentence_becomes_one_gsm7_segment(self) -> None:
        result = transliterate(CZECH_SENTENCE)
        assert result == 'Prilis zlutoucky kun upel dabelské ody - "Odstavka vody" v ulici 28. rijna...'
        assert (measure(result).encoding, measure(result).segments) == (SmsEncoding.GSM_7, 1)
        assert measure(CZECH_SENTENCE).segments == 2

    def test_letters_gsm7_has_keep_their_diacritics(self) -> None:
        text = "é É ä ö ü à Ä Ö Ü ñ Ñ ß å Å æ Æ ø Ø è ì ò ù Ç"
        assert transliterate(text) == text

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("ěščřžýáíéúůďťň ĚŠČŘŽÝÁÍÉÚŮĎŤŇ", "escrzyaiéuudtn ESCRZYAIÉUUDTN"),
            ("Łódź, Gdańsk, źdźbło, ąę ść ż", "Lodz, Gdansk, zdzblo, ae sc z"),
            ("ľĺŕô ĽĹŔÔ", "llro LLRO"),
            ("őű ŐŰ", "ou OU"),
            ("ăâîșț ĂÂÎȘȚ", "aaist AAIST"),
            ("ğış İĞŞ", "gis IGS"),
            ("đ Đ ç ê", "d D c e"),
        ],
    )
    def test_other_latin_letters_lose_their_diacritics(self, text: str, expected: str) -> None:
        assert transliterate(text) == expected

    def test_diacritics_gsm7_has_are_kept_when_others_are_dropped(self) -> None:
        assert transliterate("ǘ Ǻ") == "ü Å"

    def test_decomposed_input_is_treated_like_composed(self) -> None:
        assert transliterate("r\u030cek e\u0301 q\u030c") == "rek é q"

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("„Voda“ ‚teče‘ »nyní« 'ok' ’s", "\"Voda\" 'tece' \"nyni\" 'ok' 's"),
            ("8–12 h — pozor − 5", "8-12 h - pozor - 5"),
            ("Děkujeme…", "Dekujeme..."),
            ("10\u00a0000\u202fKč\u2009/\u2003m", "10 000 Kc / m"),
            ("od\u00adstáv\u200bka\tvody", "odstavka vody"),
            ("3×4", "3x4"),
        ],
    )
    def test_typography_becomes_its_gsm7_look_alike(self, text: str, expected: str) -> None:
        assert transliterate(text) == expected

    def test_degree_sign_is_kept_so_the_text_stays_ucs2_rather_than_change_meaning(self) -> None:
        result = transliterate("Mráz −15 °C")
        assert result == "Mraz -15 °C"
        assert measure(result).non_gsm == ("°",)

    def test_ukrainian_text_stays_as_it_is_and_ucs2(self) -> None:
        assert transliterate(UKRAINIAN) == UKRAINIAN
        assert measure(UKRAINIAN).encoding == SmsEncoding.UCS_2

    def test_emoji_stay_and_keep_the_text_ucs2(self) -> None:
        result = transliterate(f"Voda teče {TAP} 1\ufe0f\u20e3")
        assert result == f"Voda tece {TAP} 1\ufe0f\u20e3"
        assert measure(result).non_gsm == (TAP, "\ufe0f", "\u20e3")

    def test_latin1_and_latin_extended_a_letters_all_become_gsm7(self) -> None:
        # Kra, the apostrophe-n ligature and eng have no GSM-7 look-alike that keeps their sound.
        untouched = set("ĸŉŊŋ")
        letters = [
            chr(c)
            for c in range(0xC0, 0x180)
            if unicodedata.category(chr(c)).startswith("L") and chr(c) not in untouched
        ]
        assert [c for c in letters if measure(transliterate(c)).encoding != SmsEncoding.GSM_7] == []
        assert [c for c in untouched if transliterate(c) != c] == []

    def test_transliterating_twice_changes_nothing_more(self) -> None:
        once = transliterate(CZECH_SENTENCE + UKRAINIAN)
        assert transliterate(once) == once


class TestProperties:
    # hypothesis is not a dependency of the workspace, so a seeded random sample stands in for it.
    POOLS = (
        GSM7_BASIC.replace("\x1b", "") + "".join(GSM7_EXTENSION.values()),
        "ěščřžýáíéúůďťňĚŠČŘŽÝÁÍÉÚŮĎŤŇ„“–…\u00a0°",
        UKRAINIAN,
        TAP + "\U0001f4a7\u200d\ufe0f",
    )

    def _samples(self, seed: int) -> list[str]:
        rng = random.Random(seed)
        samples = []
        for _ in range(1500):
            pool = "".join(rng.sample(self.POOLS, rng.randint(1, len(self.POOLS))))
            text = "".join(rng.choice(pool) for _ in range(rng.randint(0, 400)))
            samples.append(text + "".join(chr(rng.randrange(0x110000)) for _ in range(rng.randint(0, 2))))
        return samples

    def test_segments_hold_every_unit_without_wasting_a_segment(self) -> None:
        for text in self._samples(seed=23038):
            result = measure(text)
            assert result.segments * result.per_segment >= result.units >= result.characters == len(text)
            assert (result.segments == 0) == (text == "")
            if result.segments > 1:
                assert result.units > (result.segments - 1) * (result.per_segment - 1)

    def test_transliteration_is_stable_and_makes_latin_text_gsm7(self) -> None:
        for text in self._samples(seed=338):
            once = transliterate(text)
            assert transliterate(once) == once
        latin = self.POOLS[0] + self.POOLS[1].replace("°", "")
        rng = random.Random(7)
        for _ in range(500):
            text = "".join(rng.choice(latin) for _ in range(rng.randint(0, 300)))
            assert measure(transliterate(text)).encoding == SmsEncoding.GSM_7
