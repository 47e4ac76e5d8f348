"""The words for the services' codes (categories, severities, states, roles, channels, languages,
relations to an address), through the catalogues: every Hlasatel application says them alike."""

from hlasatel_web.i18n import Lang


def N_(text: str) -> str:
    """Marks a text for the catalogues without translating it here."""
    return text


_WORDS = {
    # categories
    "water": N_("Water"),
    "electricity": N_("Electricity"),
    "gas": N_("Gas"),
    "heating": N_("Heating"),
    "traffic": N_("Traffic"),
    "waste": N_("Waste"),
    "culture": N_("Culture"),
    "city-council": N_("City council"),
    "weather": N_("Weather"),
    "safety": N_("Safety"),
    # severities
    "info": N_("Information"),
    "warning": N_("Warning"),
    "emergency": N_("Emergency"),
    # message states
    "draft": N_("Waiting for approval"),
    "returned": N_("Returned for changes"),
    "approved": N_("Approved"),
    "sending": N_("Sending"),
    "done": N_("Sent"),
    "cancelled": N_("Cancelled"),
    "failed": N_("Failed"),
    "rejected": N_("Rejected"),
    # delivery states
    "queued": N_("Queued"),
    "held": N_("Held for quiet hours"),
    "accepted": N_("Accepted by the provider"),
    "delivered": N_("Delivered"),
    "contact_invalid": N_("Contact not valid"),
    "dropped": N_("Dropped"),
    # staff roles
    "editor": N_("editor"),
    "approver": N_("approver"),
    "admin": N_("admin"),
    "utility": N_("utility"),
    # channels
    "sms": N_("SMS"),
    "email": N_("E-mail"),
    "push": N_("Push"),
    # languages
    "cs": N_("Czech"),
    "en": N_("English"),
    "de": N_("German"),
    "pl": N_("Polish"),
    "uk": N_("Ukrainian"),
    # relations to an address
    "resident": N_("Residents"),
    "owner": N_("Owners"),
    "workplace": N_("People who work there"),
    "caregiver": N_("Caregivers"),
    # alert kinds and states
    "alert": N_("Alert"),
    "update": N_("Update"),
    "released": N_("No longer affected"),
    "cancel": N_("Cancelled by the sender"),
    "all-clear": N_("All-clear"),
    "active": N_("Active"),
    "ended": N_("Ended"),
    # what the register did not know
    "district": N_("district"),
    "street": N_("street"),
    # reasons a household was not reached
    "subscribed_not_reached": N_("Subscribed, but nobody reached"),
    "not_subscribed": N_("Nobody subscribed"),
}


def word(lang: Lang, code: str | None) -> str:
    """The reader's word for a code; an unknown code as it is."""
    if code is None:
        return "–"
    english = _WORDS.get(code)
    return lang.gettext(english) if english else code


def choices(lang: Lang, codes: tuple[str, ...] | list[str]) -> list[tuple[str, str]]:
    return [(code, word(lang, code)) for code in codes]
