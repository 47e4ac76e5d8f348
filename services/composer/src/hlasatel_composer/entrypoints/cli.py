"""``composer serve``: run the composer."""

from hlasatel_composer.bootstrap import bootstrap
from hlasatel_composer.config import Settings
from hlasatel_runtime.service import serve_command


def main(argv: list[str] | None = None) -> None:
    serve_command("composer", Settings, bootstrap, argv)
