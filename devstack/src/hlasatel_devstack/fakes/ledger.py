"""What a fake received, one JSON object a line, readable by a person and a test."""

import json
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


class Ledger:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()

    def append(self, entry: dict[str, Any]) -> None:
        line = json.dumps({"received_at": datetime.now(UTC).isoformat(), **entry}, ensure_ascii=False)
        with self._lock, self.path.open("a", encoding="utf-8") as out:
            out.write(line + "\n")


def read_ledger(path: Path) -> list[dict[str, Any]]:
    """Every entry of a ledger file; none when it does not exist yet."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
