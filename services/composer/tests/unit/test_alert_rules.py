"""Pure alert rules: templates in every language, periods in local time, the rate limit, what of a CAP
warning concerns Liberec."""

from datetime import UTC, datetime, timedelta

import pytest

from hlasatel_composer.domain.cap import CapArea, CapCircle, CapInfo
from hlasatel_composer.domain.cap_alerts import concerned, language_of, severity_of
from hlasatel_composer.domain.messages import Severity
from hlasatel_composer.domain.ratelimit import RateLimited, RateLimiter
from hlasatel_composer.domain.requests import sms_text
from hlasatel_composer.domain.template_defaults import DEFAULTS, over, title
from hlasatel_composer.domain.templates import AlertKind, Facts, Hazard, period, render, render_content
from hlasatel_contracts import Language
from hlasatel_contracts.sms import SmsEncoding, measure

START = datetime(2026, 12, 3, 7, 0, tzinfo=UTC)  # 8:00 in Liberec
END = START + timedelta(hours=6)


def facts(language: Language) -> Facts:
    return Facts(
        title="T",
        period=period(START, END, language),
        places="Masarykova 1-25",
        sender="Vodárna",
        reason="oprava",
        contact="840 111 111",
        warnings=(Hazard(event="Silný vítr", severity="Moderate", period="p", description="d"),),
    )


# what the README promises of the shipped templates' SMS, the unsubscribe link included, for an outage of
# one street with its times, a short reason and a phone number: (encoding, segments at most)
PROMISED = {
    Language.CS: (SmsEncoding.UCS_2, 3),
    Language.EN: (SmsEncoding.GSM_7, 2),
    Language.DE: (SmsEncoding.GSM_7, 2),
    Language.PL: (SmsEncoding.UCS_2, 3),
    Language.UK: (SmsEncoding.UCS_2, 3),
}
REASONS = {
    Language.CS: "oprava vodovodního řadu",
    Language.EN: "water main repair",
    Language.DE: "Reparatur der Wasserleitung",
    Language.PL: "naprawa wodociągu",
    Language.UK: "ремонт водопроводу",
}
WARNINGS = {
    Language.CS: ("Silný vítr", "ČHMÚ"),
    Language.EN: ("Strong wind", "CHMI"),
    Language.DE: ("Starker Wind", "CHMI"),
    Language.PL: ("Silny wiatr", "CHMI"),
    Language.UK: ("Сильний вітер", "CHMI"),
}


def outage(language: Language, category: str = "water") -> Facts:
    return Facts(
        title=title(language, category),
        period=period(START, END, language),
        places="Masarykova 1-25",
        sender="Severočeská vodárenská",
        reason=REASONS[language],
        contact="840 111 111",
        over=over(language, category),
    )


def warning(language: Language) -> Facts:
    event, sender = WARNINGS[language]
    hazard = Hazard(event=event, severity="Moderate", period=period(START, END, language))
    return Facts(title=event, period=hazard.period, places="Liberec", sender=sender, warnings=(hazard,))


class TestTemplates:
    @pytest.mark.parametrize("language", list(Language))
    def test_every_template_s_sms_fits_the_segments_the_readme_promises(self, language: Language) -> None:
        encoding, most = PROMISED[language]
        for kind in AlertKind:
            shown = warning(language) if kind is AlertKind.WARNING else outage(language)
            rendered = render(DEFAULTS[language][kind], shown).content()
            assert rendered.sms is not None
            sent = sms_text(
                rendered.sms,
                language=language,
                severity=Severity.WARNING,
                base_url="https://hlasatel.liberec.cz",
                token="x" * 12,
            )
            length = measure(sent)
            assert (length.encoding, length.segments <= most) == (encoding, True), (kind, sent, length)

    def test_an_outage_is_over_in_the_title_s_own_gender(self) -> None:
        def ended(language: Language, facts: Facts) -> str:
            content = render(DEFAULTS[language][AlertKind.ALL_CLEAR], facts).content()
            assert content.email is not None
            return content.email.text.splitlines()[0]

        assert ended(Language.CS, outage(Language.CS)).startswith("Odstávka vody skončila,")
        assert ended(Language.CS, outage(Language.CS, "heating")).startswith(
            "Přerušení dodávky tepla skončilo,"
        )
        assert ended(Language.PL, outage(Language.PL, "traffic")).startswith(
            "Utrudnienia w ruchu zakończone,"
        )
        assert ended(Language.PL, outage(Language.PL)).startswith("Przerwa w dostawie wody zakończona,")
        # a warning's own event: its gender is not known, and the sentence does without it
        assert ended(Language.CS, warning(Language.CS)).startswith("Konec: Silný vítr,")

    @pytest.mark.parametrize("language", list(Language))
    @pytest.mark.parametrize("kind", list(AlertKind))
    def test_every_default_renders_within_every_channel_s_limits(
        self, language: Language, kind: AlertKind
    ) -> None:
        content = render(DEFAULTS[language][kind], facts(language)).content()
        assert content.sms and content.email and content.push
        assert "{" not in content.sms + content.email.text, "a variable was left unrendered"
        expected = "Silný vítr" if kind is AlertKind.WARNING else "T"
        assert expected in content.sms and expected in content.email.subject

    def test_periods_are_written_in_liberec_time_the_way_each_language_writes_them(self) -> None:
        assert period(START, END, Language.CS) == "3. 12. 2026 8:00–14:00"
        # a hyphen where the language is written in GSM-7: an en dash would make its SMS UCS-2
        assert period(START, END, Language.EN) == "3 Dec 2026, 08:00-14:00"
        assert period(START, END, Language.DE) == "03.12.2026, 08:00-14:00"
        assert period(START, START + timedelta(days=1), Language.CS) == "3. 12. 2026 8:00 – 4. 12. 2026 8:00"
        assert period(START, None, Language.UK) == "з 03.12.2026 08:00"

    def test_a_missing_czech_falls_back_to_the_first_language_given(self) -> None:
        templates = {language: texts[AlertKind.WARNING] for language, texts in DEFAULTS.items()}
        content = render_content(templates, {Language.EN: facts(Language.EN)})
        assert content.cs.email is not None and content.cs.email.subject.startswith("Warning:")

    def test_text_too_long_for_a_channel_is_cut_not_refused(self) -> None:
        long = Facts(title="x" * 3000, period="", places="", sender="")
        content = render(DEFAULTS[Language.CS][AlertKind.ALERT], long).content()
        assert content.sms is not None and len(content.sms) == 1600 and content.sms.endswith("…")
        assert content.push is not None and len(content.push.title) == 100


class TestRateLimit:
    def test_a_minute_s_allowance_then_the_steady_rate(self) -> None:
        limiter = RateLimiter()
        for _ in range(60):
            limiter.take(key_id="k", name="Vodárna", per_minute=60, now=0.0)
        with pytest.raises(RateLimited) as refused:
            limiter.take(key_id="k", name="Vodárna", per_minute=60, now=0.5)
        assert refused.value.retry_after_s == 1
        limiter.take(key_id="k", name="Vodárna", per_minute=60, now=1.0)
        limiter.take(key_id="other", name="Teplárna", per_minute=60, now=1.0)


def info(*areas: CapArea, certainty: str = "Likely", severity: str = "Moderate") -> CapInfo:
    return CapInfo(
        language="cs", categories=("Met",), event="e", urgency="Immediate", severity=severity,
        certainty=certainty, areas=areas,
    )  # fmt: skip


class TestCapConcerns:
    def test_a_liberec_geocode_means_the_whole_city_and_only_its_warnings(self) -> None:
        here = info(CapArea(description="Liberecký kraj", geocodes=(("CISORP", "5105"),)))
        prague = info(CapArea(description="Praha", geocodes=(("CISORP", "1100"),)))
        found = concerned([here, prague], frozenset({("CISORP", "5105")}))
        assert found is not None and found[0] == [here] and found[1].city

    def test_polygons_and_circles_become_the_target(self) -> None:
        ring = ((50.76, 15.05), (50.77, 15.05), (50.77, 15.06), (50.76, 15.05))
        shaped = info(CapArea(description="x", polygons=(ring,), circles=(CapCircle(50.77, 15.06, 2.0),)))
        found = concerned([shaped], frozenset())
        assert found is not None
        target = found[1]
        assert len(target.polygons[0].points) == 3 and target.circles[0].radius_m == 2000

    def test_nothing_for_the_city_without_a_geocode_or_a_shape(self) -> None:
        assert concerned([info(CapArea(description="somewhere"))], frozenset({("CISORP", "5105")})) is None

    def test_languages_and_severities(self) -> None:
        assert [language_of(tag) for tag in ("cs", "en-GB", "de-DE", "es-US")] == [
            Language.CS, Language.EN, Language.DE, None,
        ]  # fmt: skip
        assert severity_of([info(severity="Extreme")]) == "emergency"
        assert severity_of([info(severity="Severe")]) == "warning"
        assert severity_of([info(severity="Minor")]) == "info"
