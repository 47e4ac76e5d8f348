"""The third-party scripts and styles an application serves, fetched from the npm registry at install time
(never from a CDN at run time): each package's tarball is checked against the integrity in the
application's lock file (npm's sha512) before any of its files is written under its vendor folder."""

import base64
import hashlib
import io
import json
import tarfile
from dataclasses import dataclass
from pathlib import Path

import httpx


class AssetMismatch(RuntimeError):
    """A downloaded tarball is not the one the lock file pins."""


@dataclass(frozen=True)
class Package:
    name: str
    version: str
    resolved: str
    integrity: str
    files: dict[str, str]


def locked(lock: Path) -> list[Package]:
    packages = json.loads(lock.read_text(encoding="utf-8"))["packages"]
    return [
        Package(
            name=name,
            version=p["version"],
            resolved=p["resolved"],
            integrity=p["integrity"],
            files=p["files"],
        )
        for name, p in packages.items()
    ]


def _marker(vendor: Path) -> Path:
    return vendor / ".installed"


def _lock_digest(lock: Path) -> str:
    return hashlib.sha256(lock.read_bytes()).hexdigest()


def installed(vendor: Path, lock: Path) -> bool:
    marker = _marker(vendor)
    return marker.exists() and marker.read_text().strip() == _lock_digest(lock)


def check_integrity(data: bytes, integrity: str) -> None:
    algorithm, _, expected = integrity.partition("-")
    if algorithm not in ("sha512", "sha384", "sha256"):
        raise AssetMismatch(f"unknown integrity algorithm {algorithm}")
    actual = base64.b64encode(hashlib.new(algorithm, data).digest()).decode()
    if actual != expected:
        raise AssetMismatch(
            f"the tarball's {algorithm} is {actual[:16]}…, the lock file pins {expected[:16]}…"
        )


def unpack(package: Package, data: bytes, vendor: Path) -> None:
    check_integrity(data, package.integrity)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        for member, target in package.files.items():
            extracted = tar.extractfile(member)
            if extracted is None:
                raise AssetMismatch(f"{package.name} {package.version} has no file {member}")
            path = vendor / target
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(extracted.read())


def fetch(vendor: Path, lock: Path, *, transport: httpx.BaseTransport | None = None) -> list[str]:
    """Download, check and unpack every locked package; returns what was installed."""
    done = []
    with httpx.Client(timeout=60, follow_redirects=True, transport=transport) as client:
        for package in locked(lock):
            response = client.get(package.resolved)
            response.raise_for_status()
            unpack(package, response.content, vendor)
            done.append(f"{package.name} {package.version}")
    _marker(vendor).write_text(_lock_digest(lock) + "\n")
    return done
