"""What the compose form means: the draft the composer is sent, the form a draft opens again as, the
problems named against their fields, what the check page says in Czech and English, and the duplicate it
refuses."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from hlasatel_console.container import LOCALE
from hlasatel_console.domain.check import duplicate_of, refusal, summary
from hlasatel_console.domain.compose import build, field_of, from_draft, from_post
from hlasatel_console.domain.report import still_arriving
from hlasatel_web.i18n import Languages

LANGUAGES = Languages(LOCALE)


class Posted(dict[str, list[str]]):
    """A posted form as starlette gives it: several values a name."""

    def get(self, key: str, default: Any = None, /) -> Any:  # type: ignore[override]
        values = super().get(key)
        return values[-1] if values else default

    def getlist(self, key: str, /) -> list[str]:
        return list(super().get(key) or [])


def posted(**fields: str | list[str]) -> Posted:
    return Posted({name.replace("__", "."): v if isinstance(v, list) else [v] for name, v in fields.items()})


def english(text: str, /, **values: Any) -> str:
    return text % values if values else text


EVERYTHING = posted(
    category="water",
    severity="emergency",
    send_at="2026-12-08T08:00",
    expires_at="2026-12-08T16:30",
    sms_transliterate="1",
    cs__sms="Zítra 8–14 h\r\nnepoteče voda.",
    cs__email_subject="Odstávka vody",
    cs__email_text="Zítra od 8 do 14 hodin nepoteče voda.",
    en__push_title="Water off",
    en__push_body="Tomorrow 8–14",
    districts=["408638"],
    street_count="3",
    **{
        "street-0.name": "Masarykova",
        "street-0.district": "Liberec I-Staré Město",
        "street-0.numbers": "1-25, 30; 32",
        "street-0.side": "odd",
        "street-1.name": "Kubelíkova",
        "street-1.by": "building",
        "street-1.numbers": "522",
        "street-2.name": "",
    },
    address_points=["23657235"],
    polygons="50.77 15.05; 50.78 15.06; 50.77 15.07",
    circles="50.766 15.054 150",
    exclude_address_points="41501047, 41501055",
    xstreet_count="1",
    **{"xstreet-0.name": "Jablonecká"},
    verified_only="1",
    roles=["resident", "owner"],
    languages=["cs"],
)


class TestTheDraft:
    def test_every_field_of_the_form_reaches_the_draft(self) -> None:
        built = build(from_post(EVERYTHING), english)
        assert built.errors == {}
        draft = built.draft
        assert draft["content"]["cs"]["sms"] == "Zítra 8–14 h\nnepoteče voda.", "lines kept, CRLF read as LF"
        assert draft["content"]["cs"]["email"] == {
            "subject": "Odstávka vody",
            "text": "Zítra od 8 do 14 hodin nepoteče voda.",
        }
        assert draft["content"]["en"] == {"push": {"title": "Water off", "body": "Tomorrow 8–14"}}
        target = draft["target"]
        assert target["streets"] == [
            {
                "name": "Masarykova",
                "district": "Liberec I-Staré Město",
                "houses": {"numbers": ["1-25", "30", "32"], "side": "odd"},
            },
            {"name": "Kubelíkova", "houses": {"by": "building", "numbers": ["522"]}},
        ]
        assert target["polygons"] == [{"points": [[50.77, 15.05], [50.78, 15.06], [50.77, 15.07]]}]
        assert target["circles"] == [{"latitude": 50.766, "longitude": 15.054, "radius_m": 150.0}]
        assert target["exclude"] == {
            "streets": [{"name": "Jablonecká"}],
            "address_points": [41501047, 41501055],
        }
        assert target["filters"] == {
            "identity_level": "verified",
            "roles": ["resident", "owner"],
            "languages": ["cs"],
        }
        assert draft["send_at"] == "2026-12-08T08:00:00+01:00", "typed on Prague's clock (winter time)"
        assert draft["sms_transliterate"] is True

    def test_a_draft_opens_again_as_the_same_form(self) -> None:
        first = build(from_post(EVERYTHING), english).draft
        again = build(from_draft(first), english)
        assert again.errors == {}
        assert again.draft == first

    def test_a_draft_the_composer_answered_in_utc_shows_prague_time(self) -> None:
        form = from_draft({"send_at": "2026-07-01T06:00:00+00:00", "content": {}, "target": {}})
        assert form.send_at == "2026-07-01T08:00", "summer time"

    @pytest.mark.parametrize(
        ("fields", "field", "says"),
        [
            (
                {"cs__sms": "", "cs__email_subject": "", "cs__email_text": ""},
                "cs.sms",
                "Write the message in Czech",
            ),
            ({"cs__email_text": "", "cs__sms": ""}, "cs.email_text", "subject and its text"),
            ({"en__push_body": ""}, "en.push_body", "title and its text"),
            ({"polygons": "50.77 15.05; 50.78 15.06"}, "polygons", "3 points at least"),
            ({"polygons": "padesát 15.05; 50.78 15.06; 1 2"}, "polygons", "latitude longitude"),
            ({"circles": "50.766 15.054"}, "circles", "radius in metres"),
            ({"circles": "50.766 15.054 -5"}, "circles", "radius in metres"),
            ({"address_points": ["Masarykova 12"]}, "address_points", "is not an address point's code"),
            ({"send_at": "zítra"}, "send_at", "Enter a date and time"),
            ({"category": "lottery"}, "category", "Choose a category"),
        ],
    )
    def test_each_problem_is_named_against_its_field(
        self, fields: dict[str, str], field: str, says: str
    ) -> None:
        form = Posted(EVERYTHING)
        for name, value in fields.items():
            form[name.replace("__", ".")] = value if isinstance(value, list) else [value]
        built = build(from_post(form), english)
        assert field in built.errors, built.errors
        assert says in built.errors[field]

    def test_a_message_for_nobody_is_refused_before_the_composer_is_asked(self) -> None:
        built = build(from_post(posted(cs__sms="Voda", street_count="3")), english)
        assert built.errors == {
            "targets": "Choose whom the message is for: the whole city, districts, streets, addresses or "
            "an area"
        }

    @pytest.mark.parametrize(
        ("location", "field"),
        [
            ("content.cs.sms", "cs.sms"),
            ("content.en.email.subject", "en.email_subject"),
            ("content.de.push.body", "de.push_body"),
            ("target.streets.1.houses.numbers.0", "street-1.numbers"),
            ("target.streets.0.name", "street-0.name"),
            ("target.polygons.0.points", "polygons"),
            ("target.filters.roles", "targets"),
            ("send_at", "send_at"),
            ("sms_transliterate", "form"),
        ],
    )
    def test_the_composers_complaint_goes_to_the_field_it_is_about(self, location: str, field: str) -> None:
        assert field_of(location) == field


PREVIEW = {
    "address_points": 38,
    "address_points_with_subscribers": 12,
    "subscribers": 12,
    "deliveries": {"sms": 9, "email": 11, "push": 7},
    "sms": {"cs": {"segments": 2}, "en": {"segments": 1}},
}


class TestTheCheckPage:
    def test_it_says_what_will_happen_in_english(self) -> None:
        assert summary(PREVIEW, LANGUAGES.lang("en")) == (
            "Send to 38 households — 12 subscribers: 9 SMS of 2 segments, 11 e-mails, 7 push notifications"
        )

    def test_it_says_it_in_czech_with_czech_plurals_and_numbers(self) -> None:
        said = summary(
            PREVIEW | {"address_points": 1432, "subscribers": 1, "deliveries": {"sms": 3, "email": 5}},
            LANGUAGES.lang("cs"),
        )
        assert said == "Odeslat do 1\xa0432 domácností — 1 odběratel: 3 SMS o 2 segmentech, 5 e-mailů"

    def test_a_count_withheld_for_privacy_is_said_so(self) -> None:
        said = summary(PREVIEW | {"subscribers": "<5", "deliveries": {"sms": "<5"}}, LANGUAGES.lang("en"))
        assert said == "Send to 38 households — fewer than 5 subscribers: fewer than 5 SMS of 2 segments"

    def test_a_target_without_households_is_refused(self) -> None:
        assert refusal(PREVIEW | {"address_points": 0}, LANGUAGES.lang("en")) is not None
        assert refusal(PREVIEW, LANGUAGES.lang("en")) is None


NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
DRAFT = {
    "content": {"cs": {"sms": "Zítra nepoteče voda."}},
    "target": {"streets": [{"name": "Masarykova", "houses": {"numbers": ["1-25"], "side": "odd"}}]},
}


def sent(minutes_ago: int, **changes: Any) -> dict[str, Any]:
    """A message as the composer lists it: every default of the target filled in."""
    message = {
        "id": f"m{minutes_ago}",
        "state": "sending",
        "created_at": (NOW - timedelta(minutes=minutes_ago)).isoformat(),
        "content": {"cs": {"sms": "Zítra nepoteče voda.", "email": None, "push": None}},
        "target": {
            "city": False,
            "districts": [],
            "streets": [
                {"name": "Masarykova", "district": None, "houses": {"numbers": ["1-25"], "side": "odd"}}
            ],
            "exclude": None,
            "filters": {"roles": [], "languages": []},
        },
    }
    return message | changes


class TestDuplicates:
    def test_the_same_text_to_the_same_houses_within_the_hour_is_a_duplicate(self) -> None:
        assert duplicate_of(DRAFT, [sent(59)], now=NOW) is not None

    @pytest.mark.parametrize(
        "other",
        [
            sent(61),
            sent(5, state="draft"),
            sent(5, state="cancelled"),
            sent(5, content={"cs": {"sms": "Voda už teče."}}),
            sent(5, target={"streets": [{"name": "Masarykova", "houses": {"numbers": ["1-25"]}}]}),
        ],
        ids=["over an hour ago", "not sent", "cancelled", "other text", "other houses"],
    )
    def test_anything_else_is_not(self, other: dict[str, Any]) -> None:
        assert duplicate_of(DRAFT, [other], now=NOW) is None

    def test_a_draft_is_not_its_own_duplicate_when_edited(self) -> None:
        assert duplicate_of(DRAFT, [sent(5)], now=NOW, editing="m5") is None


class TestTheLiveReport:
    @pytest.mark.parametrize(
        ("message", "arriving"),
        [
            ({"state": "approved", "deliveries": {}}, True),
            ({"state": "sending", "deliveries": {"sms": {"delivered": 3}}}, True),
            ({"state": "done", "deliveries": {"sms": {"queued": 1, "delivered": 3}}}, True),
            ({"state": "done", "deliveries": {"sms": {"accepted": 2}}}, True),
            ({"state": "done", "deliveries": {"sms": {"accepted": "<5"}}}, True),
            ({"state": "done", "deliveries": {"sms": {"delivered": 2}}, "waiting_for_quiet_hours": 1}, True),
            ({"state": "done", "deliveries": {"email": {"accepted": 2}, "push": {"accepted": 4}}}, False),
            ({"state": "done", "deliveries": {"sms": {"delivered": 2, "failed": 1}}}, False),
            ({"state": "cancelled", "deliveries": {"sms": {"queued": 2}}}, False),
            ({"state": "draft", "deliveries": {}}, False),
        ],
    )
    def test_it_follows_the_deliveries_after_the_fan_out_is_over(
        self, message: dict[str, Any], arriving: bool
    ) -> None:
        assert still_arriving(message) is arriving
