"""``dispatch-email serve``: run the e-mail dispatcher."""

from hlasatel_dispatch_email.bootstrap import bootstrap
from hlasatel_dispatch_email.config import Settings
from hlasatel_runtime.service import serve_command


def main(argv: list[str] | None = None) -> None:
    serve_command("dispatch-email", Settings, bootstrap, argv)
