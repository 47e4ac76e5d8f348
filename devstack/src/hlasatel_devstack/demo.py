"""Demo subscribers that `make run` registers at real Liberec address points, verified as a citizen would."""

import re
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from hlasatel_devstack.fakes.ledger import read_ledger

# Masarykova 522/12 and 451/10, Jablonecká 7/6 (all Liberec I-Staré Město).
DEMO_SUBSCRIBERS: list[dict[str, Any]] = [
    {
        "addresses": [{"address_point": 23657235, "role": "resident"}],
        "contacts": [
            {"channel": "sms", "value": "+420777000001"},
            {"channel": "email", "value": "jana.novakova@example.cz"},
            {"channel": "push", "value": "demo-push-token-jana"},
        ],
        "language": "cs",
    },
    {
        "addresses": [{"address_point": 23656727, "role": "owner"}],
        "contacts": [
            {"channel": "sms", "value": "777 000 002"},
            {"channel": "email", "value": "petr.svoboda@example.cz"},
        ],
        "language": "en",
    },
    {
        "addresses": [{"address_point": 23653141, "role": "resident"}],
        "contacts": [
            {"channel": "sms", "value": "+420777000003"},
            {"channel": "push", "value": "demo-push-token-marie"},
        ],
        "language": "cs",
    },
]

_CODE = re.compile(r"\b(\d{6})\b")


def code_sent_to(
    ledger_dir: Path, channel: str, recipient: str, *, timeout_s: float = 30.0, after: datetime | None = None
) -> str:
    """The newest verification code a fake received for one recipient (since `after`: the fakes' ledgers
    in var/ outlive a run), waiting until it arrives."""
    deadline = time.monotonic() + timeout_s
    since = after.isoformat() if after else ""
    while time.monotonic() < deadline:
        entries = [
            e
            for e in read_ledger(ledger_dir / f"{channel}.jsonl")
            if e["recipient"] == recipient and e["received_at"] >= since
        ]
        for entry in reversed(entries):
            if match := _CODE.search(entry.get("text") or ""):
                return match.group(1)
        time.sleep(0.2)
    raise TimeoutError(f"no code reached the {channel} fake in {timeout_s:.0f} s")


def verify_contacts(
    registry_url: str, ledger_dir: Path, created: dict[str, Any], *, after: datetime | None = None
) -> None:
    """Type each code that the SMS and e-mail fakes received (since `after`), as the citizen would."""
    with httpx.Client(base_url=registry_url, timeout=10) as client:
        for contact in created["contacts"]:
            if contact["verified"]:
                continue
            code = code_sent_to(ledger_dir, contact["channel"], contact["value"], after=after)
            response = client.post(
                f"/v1/subscribers/{created['id']}/contacts/{contact['id']}/verify", json={"code": code}
            )
            response.raise_for_status()


def register_demo_subscribers(registry_url: str, ledger_dir: Path) -> list[dict[str, Any]]:
    """Register the demo subscribers and verify their contacts; returns them with their access tokens."""
    created, started = [], datetime.now(UTC)
    with httpx.Client(base_url=registry_url, timeout=10) as client:
        for subscriber in DEMO_SUBSCRIBERS:
            response = client.post("/v1/subscribers", json=subscriber)
            response.raise_for_status()
            created.append(response.json())
    verified = []
    with httpx.Client(base_url=registry_url, timeout=10) as client:
        for subscriber in created:
            verify_contacts(registry_url, ledger_dir, subscriber, after=started)
            headers = {"Authorization": f"Bearer {subscriber['access_token']}"}
            now = client.get(f"/v1/subscribers/{subscriber['id']}", headers=headers).raise_for_status().json()
            verified.append(now | {"access_token": subscriber["access_token"]})
    return verified
