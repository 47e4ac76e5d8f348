"""The texts of an application's pages and code, gathered as gettext catalogues: what its
`update-catalogue` command merges into each language's .po file, and what its tests check is all
translated."""

from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

# count(words, value, singular, plural) says a count with its plural form (the console's domain/check.py)
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None, "count": (3, 4)}
METHODS = [("**.py", "python"), ("templates/**.html", "jinja2")]
OPTIONS = {"templates/**.html": {"extensions": "", "trimmed": "false"}}


SHARED = Path(__file__).parent


def extract(package: Path) -> Catalog:
    """Every text an application says, from its Python code and its templates (under `package`) and the
    shared macros it uses (this package's templates)."""
    catalog = Catalog(project=f"Hlasatel {package.name}", locale=None)
    for directory in (package, SHARED):
        for filename, lineno, message, comments, context in extract_from_dir(
            directory, METHODS, keywords=KEYWORDS, options_map=OPTIONS, strip_comment_tags=True
        ):
            catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalog


def po_path(language: str, directory: Path) -> Path:
    return directory / language / "LC_MESSAGES" / "messages.po"


def read(language: str, directory: Path) -> Catalog:
    path = po_path(language, directory)
    if not path.exists():
        return Catalog(locale=language, project="Hlasatel")
    with path.open("rb") as source:
        return read_po(source, locale=language)


def update(language: str, package: Path, directory: Path) -> tuple[int, int]:
    """Merge the texts `package` says now into the language's catalogue under `directory`; returns
    (texts, of them untranslated)."""
    catalog = read(language, directory)
    catalog.update(extract(package), no_fuzzy_matching=True)
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


def untranslated(language: str, package: Path, directory: Path) -> list[str]:
    """The texts `package` says that the language's catalogue under `directory` does not translate (or
    only fuzzily): what an application's test lists, and its `update-catalogue` adds for translating."""
    catalog = read(language, directory)
    missing = []
    for message in extract(package):
        if not message.id:
            continue
        found = catalog.get(message.id)
        if found is None or found.fuzzy or not _translated(found.string):
            missing.append(message.id if isinstance(message.id, str) else message.id[0])
    return missing
