"""``dispatch-push serve``: run the push dispatcher."""

from hlasatel_dispatch_push.bootstrap import bootstrap
from hlasatel_dispatch_push.config import Settings
from hlasatel_runtime.service import serve_command


def main(argv: list[str] | None = None) -> None:
    serve_command("dispatch-push", Settings, bootstrap, argv)
