"""``public-web serve`` runs the citizen's pages; ``public-web update-catalogue`` adds the texts the code
says now to the Czech catalogue."""

import argparse

import uvicorn

from hlasatel_public_web.bootstrap import bootstrap
from hlasatel_public_web.config import Settings
from hlasatel_public_web.container import LOCALE, PACKAGE
from hlasatel_runtime.logs import configure_logging
from hlasatel_web import catalogue


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="public-web", description="Hlasatel's pages for citizens.")
    parser.add_argument("command", choices=["serve", "update-catalogue"])
    args = parser.parse_args(argv)
    if args.command == "update-catalogue":
        texts, untranslated = catalogue.update("cs", PACKAGE, LOCALE)
        print(f"locale/cs: {texts} texts, {untranslated} without a Czech translation")
        return
    settings = Settings()
    configure_logging("public-web", settings.log_level)
    uvicorn.run(
        bootstrap(settings),
        host=settings.host,
        port=settings.port,
        log_config=None,
        proxy_headers=False,
        timeout_graceful_shutdown=10,
    )
