"""What a subscriber's list of messages says each delivery was: the words of its channel, in their
language where the message had it."""

from hlasatel_composer.handlers.history import what_was_sent
from hlasatel_contracts import Language

CONTENT = {
    "cs": {
        "sms": "Zítra 8–14 h nepoteče voda v ulici Masarykova.",
        "email": {"subject": "Přerušení dodávky vody", "text": "Zítra nepoteče voda."},
        "push": {"title": "Voda", "body": "Zítra nepoteče voda."},
    },
    "en": {"email": {"subject": "Water supply interrupted", "text": "No water tomorrow."}},
}


class TestWhatWasSent:
    def test_each_channel_shows_its_own_words(self) -> None:
        assert what_was_sent(CONTENT, Language.CS, "email") == (
            "Přerušení dodávky vody",
            "Zítra nepoteče voda.",
        )
        assert what_was_sent(CONTENT, Language.CS, "push") == ("Voda", "Zítra nepoteče voda.")
        headline, text = what_was_sent(CONTENT, Language.CS, "sms")
        assert text == CONTENT["cs"]["sms"] and headline == "Přerušení dodávky vody"

    def test_the_subscribers_language_where_the_message_has_it_on_that_channel_czech_otherwise(self) -> None:
        assert what_was_sent(CONTENT, Language.EN, "email") == (
            "Water supply interrupted",
            "No water tomorrow.",
        )
        assert what_was_sent(CONTENT, Language.EN, "sms")[1] == CONTENT["cs"]["sms"]
