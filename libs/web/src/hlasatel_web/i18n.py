"""Czech first, English second: every text through gettext catalogues (Babel's .po files, compiled in
memory at start), numbers and dates in the reader's form, times in Prague's."""

import datetime as dt
import gettext
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime, format_time
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

LANGUAGES = ("cs", "en")
DEFAULT_LANGUAGE = "cs"
PRAGUE = ZoneInfo("Europe/Prague")


def load_catalogues(directory: Path) -> dict[str, gettext.NullTranslations]:
    """Each language's translations; English is the catalogues' own language (the msgids)."""
    found: dict[str, gettext.NullTranslations] = {"en": gettext.NullTranslations()}
    for language in LANGUAGES:
        po = directory / language / "LC_MESSAGES" / "messages.po"
        if language == "en" or not po.exists():
            continue
        with po.open("rb") as source:
            catalog = read_po(source, locale=language)
        compiled = io.BytesIO()
        write_mo(compiled, catalog, use_fuzzy=False)
        compiled.seek(0)
        found[language] = gettext.GNUTranslations(compiled)
    return found


@dataclass(frozen=True)
class Lang:
    """One reader's language: the texts, numbers, dates and times of a page."""

    code: str
    translations: gettext.NullTranslations

    def gettext(self, text: str, /, **values: Any) -> str:
        translated = self.translations.gettext(text)
        return translated % values if values else translated

    def ngettext(self, singular: str, plural: str, n: int, /, **values: Any) -> str:
        translated = self.translations.ngettext(singular, plural, n)
        return translated % {"num": self.number(n), **values}

    def number(self, value: float | int | None) -> str:
        if value is None:
            return "–"
        return format_decimal(value, locale=self.code)

    def count(self, value: int | str | None) -> str:
        """A count the composer may withhold below 5 for a target narrowed to people ('fewer than 5')."""
        return self.number(value) if isinstance(value, int) or value is None else self.gettext("fewer than 5")

    def datetime(self, value: dt.datetime | str | None) -> str:
        """A moment as Prague's clock shows it: '7. 12. 2026 18:05'."""
        moment = _moment(value)
        if moment is None:
            return "–"
        pattern = "d. M. yyyy H:mm" if self.code == "cs" else "d MMM yyyy, HH:mm"
        return format_datetime(moment, pattern, tzinfo=PRAGUE, locale=self.code)

    def time(self, value: dt.datetime | str | None) -> str:
        moment = _moment(value)
        return "–" if moment is None else format_time(moment, "H:mm", tzinfo=PRAGUE, locale=self.code)

    def date(self, value: dt.date | None) -> str:
        return "–" if value is None else format_date(value, "d. M. yyyy", locale=self.code)


def _moment(value: dt.datetime | str | None) -> dt.datetime | None:
    if value is None or value == "":
        return None
    return dt.datetime.fromisoformat(value) if isinstance(value, str) else value


class Languages:
    """An application's catalogues (`directory`/<language>/LC_MESSAGES/messages.po), loaded once; a `Lang`
    per page."""

    def __init__(self, directory: Path) -> None:
        self.catalogues = load_catalogues(directory)

    def lang(self, code: str | None) -> Lang:
        chosen = code if code in LANGUAGES else DEFAULT_LANGUAGE
        return Lang(chosen, self.catalogues.get(chosen, gettext.NullTranslations()))
