"""The texts the console's scripts say; the words for the services' codes (hlasatel_web.words) re-exported."""

from hlasatel_web.i18n import Lang
from hlasatel_web.words import N_, choices, word

__all__ = ["N_", "choices", "script_words", "word"]


def script_words(lang: Lang) -> dict[str, str]:
    """The texts the page's scripts show, in the reader's language; {n}-style places are filled there."""
    _ = lang.gettext
    return {
        "characters": _("{n} characters"),
        "segments": _("{n} segments of {per}"),
        "times_recipients": _("× {n} recipients = {total} segments"),
        "as_sent": _("as sent, with the unsubscribe line: {n} segments"),
        "preview_failed": _(
            "The preview could not be updated: the services did not answer, or your session ended. Try "
            "again with the button below."
        ),
        "forces_ucs2": _("UCS-2 because of"),
        "of_limit": _("{n} of {limit} characters"),
        "targeted_list": _("{n} targeted households by street"),
        "draw_polygon": _(
            "Click the polygon's corners on the map; click the first corner again to close it."
        ),
        "draw_circle": _("Click the circle's centre on the map."),
        "draw_circle_edge": _("Now click a point on its edge."),
    }
