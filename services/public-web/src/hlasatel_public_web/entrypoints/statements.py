"""The words a citizen agrees to, as the page shows them and as the consent record keeps them."""

from hlasatel_public_web.domain.answers import SignUp
from hlasatel_public_web.entrypoints.questions import LANGUAGE_NAMES
from hlasatel_web.i18n import Lang
from hlasatel_web.words import word


def contacts_statement(lang: Lang) -> str:
    return lang.gettext(
        "Send a code to check that these contacts are mine, and until I finish signing up, send me only the "
        "city's emergency messages for my addresses."
    )


def listed(lang: Lang, items: list[str]) -> str:
    """'a, b and c' in the reader's language."""
    if len(items) <= 1:
        return "".join(items)
    return lang.gettext("%(first)s and %(last)s", first=", ".join(items[:-1]), last=items[-1])


def quiet_sentence(lang: Lang, quiet: dict[str, str] | None) -> str:
    if not quiet or quiet.get("choice") == "none" or not quiet.get("start"):
        return lang.gettext("Messages may come at any time.")
    return lang.gettext(
        "Messages other than emergencies wait between %(start)s and %(end)s.",
        start=quiet["start"],
        end=quiet["end"],
    )


def subscription_statement(lang: Lang, answers: SignUp) -> str:
    """What a subscription means, in one paragraph: the consent record keeps it as it was shown."""
    categories = [word(lang, code).lower() for code in answers.categories or []]
    channels = [
        lang.gettext("SMS to %(value)s", value=c["value"])
        if c["channel"] == "sms"
        else lang.gettext("e-mail to %(value)s", value=c["value"])
        for c in answers.contacts
    ]
    places = listed(lang, [a["label"] for a in answers.addresses])
    what = (
        lang.gettext("messages about %(categories)s and emergencies", categories=listed(lang, categories))
        if categories
        else lang.gettext("emergency messages only")
    )
    return " ".join(
        [
            lang.gettext(
                "I want the City of Liberec's %(what)s for %(places)s, by %(channels)s, in %(language)s.",
                what=what,
                places=places,
                channels=listed(lang, channels),
                language=LANGUAGE_NAMES.get(answers.language or "cs", "Čeština"),
            ),
            quiet_sentence(lang, answers.quiet),
            lang.gettext("I can change this or stop at any time."),
        ]
    )


def categories_statement(lang: Lang, categories: list[str]) -> str:
    if not categories:
        return lang.gettext("Send me the city's emergency messages only.")
    chosen = listed(lang, [word(lang, code).lower() for code in categories])
    return lang.gettext(
        "Send me the city's messages about %(categories)s, and emergencies.", categories=chosen
    )


def language_statement(lang: Lang, language: str) -> str:
    return lang.gettext("Send me the city's messages in %(language)s.", language=LANGUAGE_NAMES[language])


def addresses_statement(lang: Lang, labels: list[str]) -> str:
    return lang.gettext("Send me the city's messages for %(places)s.", places=listed(lang, labels))
