"""The texts of the console's pages and code, gathered as gettext catalogues: what `console
update-catalogue` merges into each language's .po file, and what the tests check is all translated."""

from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from hlasatel_console.i18n import LOCALE_DIR

PACKAGE = Path(__file__).parent
# count(words, value, singular, plural) in domain/check.py says a count with its plural form
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None, "count": (3, 4)}
METHODS = [("**.py", "python"), ("templates/**.html", "jinja2")]
OPTIONS = {"templates/**.html": {"extensions": "", "trimmed": "false"}}


def extract() -> Catalog:
    """Every text the console says, from its Python code and its templates."""
    catalog = Catalog(project="Hlasatel console", locale=None)
    for filename, lineno, message, comments, context in extract_from_dir(
        PACKAGE, METHODS, keywords=KEYWORDS, options_map=OPTIONS, strip_comment_tags=True
    ):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalog


def po_path(language: str, directory: Path = LOCALE_DIR) -> Path:
    return directory / language / "LC_MESSAGES" / "messages.po"


def read(language: str, directory: Path = LOCALE_DIR) -> Catalog:
    path = po_path(language, directory)
    if not path.exists():
        return Catalog(locale=language, project="Hlasatel console")
    with path.open("rb") as source:
        return read_po(source, locale=language)


def update(language: str, directory: Path = LOCALE_DIR) -> tuple[int, int]:
    """Merge the texts found now into the language's catalogue; returns (texts, of them untranslated)."""
    catalog = read(language, directory)
    catalog.update(extract(), no_fuzzy_matching=True)
    catalog.obsolete.clear()
    path = po_path(language, directory)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as target:
        write_po(target, catalog, width=110, omit_header=False, sort_output=False, include_previous=False)
    missing = sum(bool(message.id) and not _translated(message.string) for message in catalog)
    return len([m for m in catalog if m.id]), missing


def _translated(value: str | tuple[str, ...] | list[str] | None) -> bool:
    if isinstance(value, tuple | list):
        return all(value)
    return bool(value)
