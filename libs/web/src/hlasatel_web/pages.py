"""What every Hlasatel application's pages are made with: Jinja2 templates that find the shared macros
(templates/macros.html) after the application's own, and the shared styles (static/hlasatel.css), which
each application serves at /static/web/."""

from pathlib import Path

from jinja2 import ChainableUndefined, Environment, FileSystemLoader, select_autoescape
from jinja2.utils import missing

SHARED_TEMPLATES = Path(__file__).parent / "templates"
SHARED_STATIC = Path(__file__).parent / "static"


class PageUndefined(ChainableUndefined):
    """A name a page was not given is an error; a key that a service's answer leaves out is empty (the
    services omit what is not set)."""

    def _given(self) -> None:
        if self._undefined_obj is missing:
            self._fail_with_undefined_error()

    def __str__(self) -> str:
        self._given()
        return ""

    def __bool__(self) -> bool:
        self._given()
        return False

    def __iter__(self):  # type: ignore[no-untyped-def]
        self._given()
        return iter(())

    def __len__(self) -> int:
        self._given()
        return 0


def template_environment(directory: Path) -> Environment:
    """An application's templates, then the shared ones; HTML escaped, blocks trimmed."""
    return Environment(
        loader=FileSystemLoader([directory, SHARED_TEMPLATES]),
        autoescape=select_autoescape(["html"]),
        undefined=PageUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
