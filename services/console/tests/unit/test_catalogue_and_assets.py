"""Czech first: every text the console says has its Czech translation, with the same placeholders. No CDN:
the console's third-party scripts come from the npm registry, pinned (libs/web's tests refuse a tarball
that is not the pinned one)."""

import re

from hlasatel_console.container import ASSETS_LOCK, LOCALE, PACKAGE, VENDOR
from hlasatel_web import assets, catalogue

# %(name)s for the pages, {name} for the texts the scripts fill in
PLACEHOLDER = re.compile(r"%\((\w+)\)s|\{(\w+)\}")


def places(text: str) -> set[str]:
    return {one or other for one, other in PLACEHOLDER.findall(text)} - {"num"}


class TestTheCzechCatalogue:
    def test_every_text_of_the_code_and_the_templates_is_translated(self) -> None:
        missing = catalogue.untranslated("cs", PACKAGE, LOCALE)
        assert not missing, (
            f"{len(missing)} texts lack a Czech translation (`console update-catalogue`): {missing[:10]}"
        )

    def test_a_translation_keeps_the_placeholders_of_its_text(self) -> None:
        wrong = []
        for message in catalogue.read("cs", LOCALE):
            if not message.id:
                continue
            ids = message.id if isinstance(message.id, tuple) else (message.id,)
            strings = message.string if isinstance(message.string, tuple | list) else (message.string,)
            wanted = places(" ".join(ids))
            for string in strings:
                if places(string or "") != wanted:
                    wrong.append(ids[0])
        assert not wrong, wrong

    def test_czech_plurals_have_their_three_forms(self) -> None:
        czech = catalogue.read("cs", LOCALE)
        assert czech.num_plurals == 3
        for message in czech:
            if message.pluralizable:
                assert len(message.string) == 3 and all(message.string), message.id


class TestTheScripts:
    def test_the_console_lock_pins_leaflet_from_the_npm_registry_and_its_files_are_served(self) -> None:
        packages = {package.name: package for package in assets.locked(ASSETS_LOCK)}
        assert packages["leaflet"].resolved.startswith("https://registry.npmjs.org/leaflet/-/")
        assert packages["leaflet"].integrity.startswith("sha512-")
        assert assets.installed(VENDOR, ASSETS_LOCK), "`make install` fetched them"
        for target in packages["leaflet"].files.values():
            assert (VENDOR / target).is_file(), target
