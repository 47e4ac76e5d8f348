"""The texts the registry itself sends: verification codes. Pure."""

from hlasatel_contracts import Language

_SMS = {
    Language.CS: (
        "Hlasatel Liberec: váš ověřovací kód je {code}. Platí {minutes} minut. Nikomu jej nesdělujte."
    ),
    Language.EN: "Hlasatel Liberec: your verification code is {code}. Valid for {minutes} minutes.",
}
_EMAIL_SUBJECT = {
    Language.CS: "Ověření e-mailu pro Hlasatel Liberec",
    Language.EN: "Confirm your e-mail address for Hlasatel Liberec",
}
_EMAIL_TEXT = {
    Language.CS: (
        "Dobrý den,\n\npro ověření e-mailové adresy zadejte kód {code}, "
        "nebo otevřete tento odkaz:\n{link}\n\n"
        "Kód i odkaz platí {minutes} minut. Pokud jste se k odběru zpráv města Liberec nepřihlásili, "
        "tento e-mail ignorujte.\n\nStatutární město Liberec"
    ),
    Language.EN: (
        "Hello,\n\nto confirm your e-mail address enter the code {code}, or open this link:\n{link}\n\n"
        "The code and the link are valid for {minutes} minutes. If you did not sign up for messages from "
        "the city of Liberec, ignore this e-mail.\n\nStatutory City of Liberec"
    ),
}


def verification_sms(language: Language, *, code: str, minutes: int) -> str:
    return _SMS.get(language, _SMS[Language.CS]).format(code=code, minutes=minutes)


def verification_email(language: Language, *, code: str, link: str, minutes: int) -> tuple[str, str]:
    """Subject and text."""
    subject = _EMAIL_SUBJECT.get(language, _EMAIL_SUBJECT[Language.CS])
    text = _EMAIL_TEXT.get(language, _EMAIL_TEXT[Language.CS]).format(code=code, link=link, minutes=minutes)
    return subject, text


_ACCESS_SMS = {
    Language.CS: (
        "Hlasatel Liberec: kód pro správu vašeho odběru je {code}. Platí {minutes} minut. "
        "Nikomu jej nesdělujte."
    ),
    Language.EN: (
        "Hlasatel Liberec: the code to manage your subscription is {code}. Valid for {minutes} minutes."
    ),
}
_ACCESS_SUBJECT = {
    Language.CS: "Kód pro správu odběru Hlasatel Liberec",
    Language.EN: "Your code to manage Hlasatel Liberec",
}
_ACCESS_TEXT = {
    Language.CS: (
        "Dobrý den,\n\nkód pro správu vašeho odběru zpráv města je {code}. Platí {minutes} minut.\n\n"
        "Pokud jste o něj nežádali, tento e-mail ignorujte: bez kódu se k vašemu odběru nikdo nedostane."
        "\n\nStatutární město Liberec"
    ),
    Language.EN: (
        "Hello,\n\nthe code to manage your subscription to the city's messages is {code}. It is valid for "
        "{minutes} minutes.\n\nIf you did not ask for it, ignore this e-mail: nobody gets to your "
        "subscription without the code.\n\nStatutory City of Liberec"
    ),
}


def access_sms(language: Language, *, code: str, minutes: int) -> str:
    """The code that proves a verified phone is the citizen's, for a new access token."""
    return _ACCESS_SMS.get(language, _ACCESS_SMS[Language.CS]).format(code=code, minutes=minutes)


def access_email(language: Language, *, code: str, minutes: int) -> tuple[str, str]:
    subject = _ACCESS_SUBJECT.get(language, _ACCESS_SUBJECT[Language.CS])
    return subject, _ACCESS_TEXT.get(language, _ACCESS_TEXT[Language.CS]).format(code=code, minutes=minutes)
