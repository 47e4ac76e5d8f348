"""``dispatch-sms serve``: run the SMS dispatcher."""

from hlasatel_dispatch_sms.bootstrap import bootstrap
from hlasatel_dispatch_sms.config import Settings
from hlasatel_runtime.service import serve_command


def main(argv: list[str] | None = None) -> None:
    serve_command("dispatch-sms", Settings, bootstrap, argv)
