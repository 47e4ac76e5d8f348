"""`make` installs uv from PyPI at a pinned version and only with a known hash: a wheel that is not the
one pinned is refused, and nothing is installed."""

import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.hostile

ROOT = Path(__file__).resolve().parents[2]


def test_a_uv_wheel_whose_hash_is_not_pinned_is_refused(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "scripts", tmp_path / "scripts")
    pins = tmp_path / "scripts" / "uv-requirements.txt"
    # every pinned hash replaced: whatever PyPI serves for this platform is now an unknown wheel
    pins.write_text(
        "\n".join(
            line.split("--hash=sha256:")[0]
            + "--hash=sha256:"
            + "0" * 64
            + (" \\" if line.endswith("\\") else "")
            if "--hash=sha256:" in line
            else line
            for line in pins.read_text().splitlines()
        )
        + "\n"
    )
    run = subprocess.run(
        ["sh", "scripts/bootstrap-uv.sh"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode != 0
    assert "hash" in (run.stderr + run.stdout).lower()
    assert not (tmp_path / ".tools" / "bin" / "uv").exists()
