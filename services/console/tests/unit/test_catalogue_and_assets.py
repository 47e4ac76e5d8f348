"""Czech first: every text the console says has its Czech translation, with the same placeholders. No CDN:
the third-party scripts come from the npm registry, and a tarball that is not the one the lock file pins
is refused before any of its files is written."""

import base64
import hashlib
import io
import json
import re
import tarfile
from pathlib import Path

import httpx
import pytest

from hlasatel_console import catalogue
from hlasatel_console.adapters import assets

# %(name)s for the pages, {name} for the texts the scripts fill in
PLACEHOLDER = re.compile(r"%\((\w+)\)s|\{(\w+)\}")


def places(text: str) -> set[str]:
    return {one or other for one, other in PLACEHOLDER.findall(text)} - {"num"}


class TestTheCzechCatalogue:
    def test_every_text_of_the_code_and_the_templates_is_translated(self) -> None:
        czech = catalogue.read("cs")
        missing = []
        for message in catalogue.extract():
            if not message.id:
                continue
            found = czech.get(message.id)
            strings = found.string if found is not None else None
            translated = all(strings) if isinstance(strings, tuple | list) else bool(strings)
            if found is None or not translated or found.fuzzy:
                missing.append(message.id if isinstance(message.id, str) else message.id[0])
        assert not missing, (
            f"{len(missing)} texts lack a Czech translation (`console update-catalogue`): {missing[:10]}"
        )

    def test_a_translation_keeps_the_placeholders_of_its_text(self) -> None:
        wrong = []
        for message in catalogue.read("cs"):
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
        czech = catalogue.read("cs")
        assert czech.num_plurals == 3
        for message in czech:
            if message.pluralizable:
                assert len(message.string) == 3 and all(message.string), message.id


def tarball(files: dict[str, bytes]) -> bytes:
    data = io.BytesIO()
    with tarfile.open(fileobj=data, mode="w:gz") as tar:
        for name, content in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    return data.getvalue()


def integrity(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


@pytest.fixture
def lock(tmp_path: Path) -> tuple[Path, bytes]:
    pinned = tarball({"package/dist/map.js": b"console.log('pinned')", "package/LICENSE": b"BSD"})
    path = tmp_path / "assets.lock.json"
    path.write_text(
        json.dumps(
            {
                "packages": {
                    "map": {
                        "version": "1.0.0",
                        "resolved": "https://registry.npmjs.org/map/-/map-1.0.0.tgz",
                        "integrity": integrity(pinned),
                        "files": {"package/dist/map.js": "map/map.js", "package/LICENSE": "map/LICENSE"},
                    }
                }
            }
        )
    )
    return path, pinned


def registry_serving(data: bytes) -> httpx.MockTransport:
    return httpx.MockTransport(lambda request: httpx.Response(200, content=data))


class TestTheScripts:
    def test_the_pinned_tarball_is_unpacked_and_marked_installed(
        self, tmp_path: Path, lock: tuple[Path, bytes]
    ) -> None:
        path, pinned = lock
        vendor = tmp_path / "vendor"
        assert assets.fetch(vendor, path, transport=registry_serving(pinned)) == ["map 1.0.0"]
        assert (vendor / "map" / "map.js").read_bytes() == b"console.log('pinned')"
        assert assets.installed(vendor, path)
        path.write_text(path.read_text().replace("1.0.0", "1.0.1"))
        assert not assets.installed(vendor, path), "a changed lock file installs again"

    def test_a_tarball_that_is_not_the_pinned_one_writes_nothing(
        self, tmp_path: Path, lock: tuple[Path, bytes]
    ) -> None:
        path, _ = lock
        changed = tarball(
            {"package/dist/map.js": b"fetch('https://evil.example/')", "package/LICENSE": b"BSD"}
        )
        vendor = tmp_path / "vendor"
        with pytest.raises(assets.AssetMismatch, match="the lock file pins"):
            assets.fetch(vendor, path, transport=registry_serving(changed))
        assert not (vendor / "map" / "map.js").exists()
        assert not assets.installed(vendor, path)

    def test_the_console_lock_pins_leaflet_from_the_npm_registry_and_its_files_are_served(self) -> None:
        packages = {package.name: package for package in assets.locked()}
        assert packages["leaflet"].resolved.startswith("https://registry.npmjs.org/leaflet/-/")
        assert packages["leaflet"].integrity.startswith("sha512-")
        assert assets.installed(), "`make install` fetched them"
        for target in packages["leaflet"].files.values():
            assert (assets.VENDOR / target).is_file(), target
