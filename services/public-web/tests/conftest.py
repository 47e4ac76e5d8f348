"""The citizen's pages' test harness: the app with the registry and the composer faked in memory (unit),
and a browser-like client that keeps cookies and reads the CSRF token of the page it was given."""

import json
import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from hlasatel_public_web.bootstrap import bootstrap
from hlasatel_public_web.config import Settings

from hlasatel_devstack.pages import Browser

SITE = "https://zpravy.liberec.test"
REGISTRY = "http://registry.test"
COMPOSER = "http://composer.test"
MASARYKOVA_12 = 23657235
JABLONECKA_2 = 21357331
ADDRESSES = {
    MASARYKOVA_12: "Masarykova 522/12, Liberec V-Kristiánov, 460 05",
    JABLONECKA_2: "Jablonecká 415/2, Liberec V-Kristiánov, 460 05",
}
CODE = "123456"
Json = dict[str, Any]


@dataclass
class FakeServices:
    """The registry's and the composer's APIs as the pages use them, with what they were asked."""

    subscribers: dict[str, Json] = field(default_factory=dict)
    asked: list[httpx.Request] = field(default_factory=list)
    limited: set[str] = field(default_factory=set)  # paths answered 429
    down: bool = False
    alerts: dict[int, list[Json]] = field(default_factory=dict)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def bodies(self, method: str, path: str) -> list[Json]:
        return [
            json.loads(r.content or b"{}") for r in self.asked if r.method == method and r.url.path == path
        ]

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.asked.append(request)
        if self.down:
            raise httpx.ConnectError("down")
        path = request.url.path
        if any(path.startswith(limited) for limited in self.limited):
            return httpx.Response(429, json={"detail": "too many"}, headers={"Retry-After": "300"})
        body = json.loads(request.content) if request.content else {}
        if request.url.host == "composer.test":
            return self._composer(path)
        return self._registry(request, path, body)

    def _composer(self, path: str) -> httpx.Response:
        code = int(path.split("/")[4])
        if code not in ADDRESSES:
            return httpx.Response(404, json={"detail": "no such address point"})
        return httpx.Response(
            200,
            json={
                "address_point": code,
                "address": ADDRESSES[code],
                "messages": self.alerts.get(code, []),
                "feed": f"{COMPOSER}/v1/public/feed.atom",
            },
        )

    def _registry(self, request: httpx.Request, path: str, body: Json) -> httpx.Response:
        method, parts = request.method, path.strip("/").split("/")[1:]
        if parts[:2] == ["addresses", "search"]:
            query = request.url.params["q"].lower()
            found = [
                self._address(code) for code, label in ADDRESSES.items() if query.split()[0] in label.lower()
            ]
            if not found:
                return httpx.Response(
                    404, json={"detail": "no match", "suggestions": [self._address(MASARYKOVA_12)]}
                )
            return httpx.Response(200, json={"query": query, "results": found})
        if parts[0] == "addresses":
            code = int(parts[1])
            return httpx.Response(200, json=self._address(code)) if code in ADDRESSES else httpx.Response(404)
        if parts == ["subscribers"] and method == "POST":
            return self._register(body)
        if parts[0] == "subscribers":
            return self._subscriber(request, method, parts[1:], body)
        if parts == ["access", "code"]:
            return httpx.Response(202, json={"status": "on its way"})
        if parts == ["access", "token"]:
            if body["code"] != CODE:
                return httpx.Response(422, json={"detail": [{"loc": ["body", "code"], "msg": "wrong code"}]})
            found = [
                s
                for s in self.subscribers.values()
                if any(c["value"] == body["value"] for c in s["contacts"])
            ]
            for subscriber in found:
                subscriber["token"] = uuid.uuid4().hex
            return httpx.Response(
                200,
                json={
                    "subscriptions": [{"subscriber_id": s["id"], "access_token": s["token"]} for s in found]
                },
            )
        if parts[:2] == ["links", "unsubscribe"]:
            if parts[2] not in ("water-code", "all-code"):
                return httpx.Response(404, json={"detail": "not valid"})
            category = "water" if parts[2] == "water-code" else None
            done = method == "POST" and (category is not None or body.get("confirm") is True)
            return httpx.Response(200, json={"category": category, "done": done})
        if parts == ["links", "verify-email"]:
            ok = body["token"] == "good"
            return httpx.Response(
                200 if ok else 422, json={"verified": True} if ok else {"detail": "expired"}
            )
        if parts == ["portal", "messages"]:
            return httpx.Response(200, json={"kept_for_days": 7, "messages": []})
        return httpx.Response(404, json={"detail": f"the fake has no {method} {path}"})

    @staticmethod
    def _address(code: int) -> Json:
        return {"code": code, "label": ADDRESSES[code]}

    def _register(self, body: Json) -> httpx.Response:
        for index, contact in enumerate(body["contacts"]):
            if contact["channel"] == "sms" and not re.fullmatch(r"[+\d ]{9,}", contact["value"]):
                return httpx.Response(
                    422,
                    json={"detail": [{"loc": ["body", "contacts", index, "value"], "msg": "not a phone"}]},
                )
        subscriber_id = str(uuid.uuid4())
        self.subscribers[subscriber_id] = {
            "id": subscriber_id,
            "token": uuid.uuid4().hex,
            "language": body.get("language", "cs"),
            "identity_level": "self_declared",
            "categories": body.get("categories", []),
            "quiet_hours": body.get("quiet_hours"),
            "addresses": [
                {
                    "address_point": a["address_point"],
                    "role": a["role"],
                    "label": ADDRESSES[a["address_point"]],
                }
                for a in body["addresses"]
            ],
            "contacts": [self._contact(c) for c in body["contacts"]],
        }
        return httpx.Response(
            201, json=self._read(subscriber_id) | {"access_token": self.subscribers[subscriber_id]["token"]}
        )

    @staticmethod
    def _contact(contact: Json) -> Json:
        return {
            "id": str(uuid.uuid4()),
            "channel": contact["channel"],
            "value": contact["value"],
            "verified": False,
            "active": True,
        }

    def _read(self, subscriber_id: str) -> Json:
        return {k: v for k, v in self.subscribers[subscriber_id].items() if k != "token"} | {"version": 1}

    def _subscriber(
        self, request: httpx.Request, method: str, parts: list[str], body: Json
    ) -> httpx.Response:
        subscriber = self.subscribers.get(parts[0])
        if subscriber is None:
            return httpx.Response(401, json={"detail": "wrong access token"})
        authorised = request.headers.get("authorization") == f"Bearer {subscriber['token']}"
        if len(parts) == 4 and parts[3] == "verify":
            contact = next(c for c in subscriber["contacts"] if c["id"] == parts[2])
            if body.get("code", "").strip() != CODE:
                return httpx.Response(422, json={"detail": [{"loc": ["body", "code"], "msg": "wrong code"}]})
            contact["verified"] = True
            return httpx.Response(200, json={"verified": True})
        if not authorised:
            return httpx.Response(401, json={"detail": "wrong access token"})
        if len(parts) == 1 and method == "GET":
            return httpx.Response(200, json=self._read(parts[0]))
        if len(parts) == 1 and method == "PATCH":
            for name in ("categories", "language", "quiet_hours"):
                if name in body:
                    subscriber[name] = body[name]
            if "addresses" in body:
                subscriber["addresses"] = [
                    {
                        "address_point": a["address_point"],
                        "role": a["role"],
                        "label": ADDRESSES[a["address_point"]],
                    }
                    for a in body["addresses"]
                ]
            subscriber["contacts"] += [self._contact(c) for c in body.get("add_contacts", [])]
            return httpx.Response(200, json=self._read(parts[0]))
        if len(parts) == 1 and method == "DELETE":
            del self.subscribers[parts[0]]
            return httpx.Response(204)
        if parts[1:] == ["export"]:
            return httpx.Response(200, json={"subscriber": self._read(parts[0]), "consents": []})
        if parts[1:] == ["messages"]:
            sent = {
                "message_id": str(uuid.uuid4()),
                "headline": "Voda",
                "text": "Zítra nepoteče voda.",
                "category": "water",
                "severity": "warning",
                "channel": "sms",
                "sent_at": "2026-12-07T08:00:00+00:00",
                "state": "delivered",
                "updated_at": "2026-12-07T08:00:04+00:00",
            }
            return httpx.Response(200, json={"kept_for_days": 7, "messages": [sent]})
        if len(parts) == 3 and method == "DELETE":
            subscriber["contacts"] = [c for c in subscriber["contacts"] if c["id"] != parts[2]]
            return httpx.Response(200, json=self._read(parts[0]))
        if len(parts) == 4 and parts[3] == "code":
            return httpx.Response(202, json={"status": "sent"})
        return httpx.Response(404, json={"detail": "the fake does not know this"})


@pytest.fixture
def services() -> FakeServices:
    return FakeServices()


@pytest.fixture
async def browser(services: FakeServices) -> AsyncIterator[Browser]:
    settings = Settings(
        registry_url=REGISTRY, composer_url=COMPOSER, public_url=SITE, trusted_proxies=["10.0.0.0/8"]
    )
    app = bootstrap(settings, transport=services.transport())
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 4711))
    async with httpx.AsyncClient(transport=transport, base_url=SITE) as client:
        yield Browser(client, form_page="/manage")
