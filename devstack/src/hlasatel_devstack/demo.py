"""Demo subscribers that `make run` registers, at real Liberec address points."""

from typing import Any

import httpx

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


def register_demo_subscribers(registry_url: str) -> list[str]:
    """Register the demo subscribers; returns their ids."""
    ids = []
    with httpx.Client(base_url=registry_url, timeout=10) as client:
        for subscriber in DEMO_SUBSCRIBERS:
            response = client.post("/v1/subscribers", json=subscriber)
            response.raise_for_status()
            ids.append(response.json()["id"])
    return ids
