"""Third-party scripts from the npm registry, never a CDN: a tarball that is not the one the lock file pins
is refused before any of its files is written, and a changed lock file installs again."""

import base64
import hashlib
import io
import json
import tarfile
from pathlib import Path

import httpx
import pytest

from hlasatel_web import assets


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
