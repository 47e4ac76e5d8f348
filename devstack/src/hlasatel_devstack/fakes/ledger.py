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
    """Every entry of a ledger file written whole; none when it does not exist yet. A line the fake is
    writing at this moment (no line end yet: a long e-mail is more than one write) is left for the next
    read rather than read torn."""
    if not path.exists():
        return []
    text = path.read_text(encoding="utf-8")
    whole = text if text.endswith("\n") else text[: text.rfind("\n") + 1]
    return [json.loads(line) for line in whole.splitlines() if line.strip()]
