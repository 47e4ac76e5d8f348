"""``console serve`` runs the console; ``console fetch-assets`` installs its pinned scripts and styles;
``console update-catalogue`` adds the texts the code says now to the Czech catalogue."""

import argparse
import sys

import uvicorn

from hlasatel_console.bootstrap import bootstrap
from hlasatel_console.config import Settings
from hlasatel_console.container import ASSETS_LOCK, LOCALE, PACKAGE, VENDOR
from hlasatel_runtime.logs import configure_logging
from hlasatel_web import assets, catalogue


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="console", description="Hlasatel's console for the city's staff.")
    parser.add_argument("command", choices=["serve", "fetch-assets", "update-catalogue"])
    args = parser.parse_args(argv)
    if args.command == "update-catalogue":
        texts, untranslated = catalogue.update("cs", PACKAGE, LOCALE)
        print(f"locale/cs: {texts} texts, {untranslated} without a Czech translation")
        return
    if args.command == "fetch-assets":
        if assets.installed(VENDOR, ASSETS_LOCK):
            return
        for done in assets.fetch(VENDOR, ASSETS_LOCK):
            print(f"installed {done} from the npm registry (integrity checked)")
        return
    settings = Settings()
    configure_logging("console", settings.log_level)
    if not assets.installed(VENDOR, ASSETS_LOCK):
        sys.exit("the console's scripts are not installed: run `make install` (or `console fetch-assets`)")
    uvicorn.run(
        bootstrap(settings),
        host=settings.host,
        port=settings.port,
        log_config=None,
        proxy_headers=False,
        timeout_graceful_shutdown=10,
    )
