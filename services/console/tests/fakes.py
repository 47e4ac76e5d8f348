"""The composer's and the registry's APIs as the console calls them, in memory behind an httpx transport:
for the console's fast tests only (its journeys in a browser run against the real services)."""

import json
import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx

COMPOSER = "http://composer.test"
REGISTRY = "http://registry.test"
Json = dict[str, Any]
PASSWORD = "správné koně baterie sponka"
CODE = "123456"

DISTRICTS = [
    {"code": 408638, "name": "Liberec I-Staré Město", "address_points": 1433},
    {"code": 408646, "name": "Liberec VI-Rochlice", "address_points": 1200},
]
STREETS = {
    408638: [
        {
            "code": 1,
            "name": "Masarykova",
            "district_code": 408638,
            "district": "Liberec I-Staré Město",
            "address_points": 38,
        }
    ],
    408646: [
        {
            "code": 2,
            "name": "Kubelíkova",
            "district_code": 408646,
            "district": "Liberec VI-Rochlice",
            "address_points": 7,
        }
    ],
}
ADDRESS = {
    "code": 23657235,
    "label": "Masarykova 522/12, Liberec I-Staré Město, 460 01",
    "district_code": 408638,
    "district": "Liberec I-Staré Město",
    "street": "Masarykova",
    "building_kind": "č.p.",
    "building_number": 522,
    "orientation_number": 12,
    "postcode": "46001",
    "latitude": 50.7663,
    "longitude": 15.0543,
}


def now() -> str:
    return datetime.now(UTC).isoformat()


def person(role: str, name: str) -> Json:
    return {
        "id": str(uuid.uuid4()),
        "name": name,
        "email": f"{role}@example.cz",
        "role": role,
        "categories": None,
        "area": None,
        "emergency": True,
        "whole_city": False,
        "created_at": now(),
        "created_by": "test",
        "invited": False,
        "second_factor": True,
        "locked_until": None,
        "disabled_at": None,
    }


def message(author: Json, **fields: Any) -> Json:
    made = {
        "id": str(uuid.uuid4()),
        "state": "draft",
        "severity": "warning",
        "category": "water",
        "content": {
            "cs": {
                "sms": "Zítra 8–14 h nepoteče voda.",
                "email": None,
                "push": {"title": "Odstávka vody", "body": "Masarykova, zítra 8–14 h"},
            }
        },
        "target": {"streets": [{"name": "Masarykova", "houses": {"numbers": ["1-25"], "side": "odd"}}]},
        "follows": None,
        "alert_id": None,
        "kind": None,
        "sms_transliterate": False,
        "author": author["name"],
        "author_key_id": f"staff:{author['id']}",
        "approved_by": None,
        "review": None,
        "created_at": now(),
        "approved_at": None,
        "send_at": None,
        "expires_at": None,
        "cancelled_at": None,
        "failure": None,
        "recipients": 0,
        "deliveries": {},
        "waiting_for_quiet_hours": 0,
    }
    return made | fields


class FakeServices:
    """What the console may ask of the composer and the registry, and what it was asked."""

    def __init__(self) -> None:
        self.people = {
            role: person(role, name)
            for role, name in (
                ("editor", "Eva Editorová"),
                ("approver", "Adam Schvalovatel"),
                ("admin", "Dana Správcová"),
            )
        }
        self.sessions: dict[str, tuple[str, str]] = {}  # token → (role, stage)
        self.messages: dict[str, Json] = {}
        self.requests: list[tuple[str, str, Any]] = []
        # paths (prefixes) whose service does not answer, as a network error
        self.down: set[str] = set()
        self.keys = [
            {
                "id": str(uuid.uuid4()),
                "name": "Severočeská vodárenská",
                "role": "utility",
                "prefix": "hls_abc",
                "categories": ["water"],
                "pre_approved": ["water"],
                "area": None,
                "rate_limit_per_minute": 60,
                "emergency": False,
                "whole_city": False,
                "cap_senders": None,
                "created_at": now(),
                "created_by": "Dana Správcová",
                "revoked_at": None,
            }
        ]
        self.routes: list[tuple[str, str, Callable[..., httpx.Response]]] = []
        self._route_all()

    # --- helpers for tests
    def sign_in(self, role: str) -> str:
        token = f"hss_{role}_{uuid.uuid4().hex}"
        self.sessions[token] = (role, "signed_in")
        return token

    def add(self, author_role: str = "editor", **fields: Any) -> Json:
        made = message(self.people[author_role], **fields)
        self.messages[made["id"]] = made
        return made

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    # --- the router
    def handle(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else None
        self.requests.append((request.method, request.url.path, body))
        if any(request.url.path.startswith(prefix) for prefix in self.down):
            raise httpx.ConnectError("the fake service is down", request=request)
        base = f"{request.url.scheme}://{request.url.host}"
        for method, pattern, answer in self.routes:
            match = re.fullmatch(pattern, f"{base}{request.url.path}")
            if match and method == request.method:
                return answer(request, body, *match.groups())
        return httpx.Response(404, json={"detail": f"no fake for {request.method} {request.url.path}"})

    def _route(self, method: str, path: str, answer: Callable[..., httpx.Response]) -> None:
        self.routes.append((method, re.escape(path.split("{")[0]) + _groups(path), answer))

    def _who(self, request: httpx.Request, *, stage: str = "signed_in") -> Json | None:
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        held = self.sessions.get(token)
        if held is None or held[1] != stage:
            return None
        return self.people[held[0]]

    def _route_all(self) -> None:
        c, r = COMPOSER, REGISTRY
        route = self._route
        route("GET", f"{c}/healthz", lambda *_: httpx.Response(200, json={"status": "ok"}))
        route("GET", f"{r}/healthz", lambda *_: httpx.Response(200, json={"status": "ok"}))
        route("POST", f"{c}/v1/staff/sessions", self._sign_in)
        route("GET", f"{c}/v1/staff/sessions/current", self._pending)
        route("POST", f"{c}/v1/staff/sessions/current/code", self._code)
        route("DELETE", f"{c}/v1/staff/sessions/current", self._sign_out)
        route("DELETE", f"{c}/v1/staff/sessions", self._sign_out)
        route("POST", f"{c}/v1/staff/invitations/accept", self._accept)
        route("GET", f"{c}/v1/staff/me", self._signed_in(lambda who, *_: httpx.Response(200, json=who)))
        route(
            "GET",
            f"{c}/v1/staff",
            self._signed_in(lambda *_: httpx.Response(200, json=list(self.people.values()))),
        )
        route("POST", f"{c}/v1/staff", self._signed_in(self._invite))
        route(
            "PATCH",
            f"{c}/v1/staff/{{id}}",
            self._signed_in(lambda who, req, body, sid: httpx.Response(200, json=who)),
        )
        route(
            "POST",
            f"{c}/v1/staff/{{id}}/disable",
            self._signed_in(lambda who, req, body, sid: httpx.Response(200, json=who)),
        )
        route("GET", f"{c}/v1/messages", self._signed_in(self._list))
        route("POST", f"{c}/v1/messages", self._signed_in(self._create))
        route("GET", f"{c}/v1/messages/{{id}}", self._signed_in(self._get))
        route("PATCH", f"{c}/v1/messages/{{id}}", self._signed_in(self._patch))
        route("GET", f"{c}/v1/messages/{{id}}/report", self._signed_in(self._report))
        route(
            "GET",
            f"{c}/v1/messages/{{id}}/unreached.csv",
            self._signed_in(
                lambda *_: httpx.Response(
                    200,
                    text="ulice;číslo\nMasarykova;522/12\n",
                    headers={"content-disposition": 'attachment; filename="unreached.csv"'},
                )
            ),
        )
        route(
            "GET",
            f"{c}/v1/messages/{{id}}/unreached.geojson",
            self._signed_in(
                lambda *_: httpx.Response(200, json={"type": "FeatureCollection", "features": []})
            ),
        )
        route("POST", f"{c}/v1/messages/{{id}}/updates", self._signed_in(self._follow_up))
        route("POST", f"{c}/v1/messages/{{id}}/{{decision}}", self._signed_in(self._decide))
        route("POST", f"{c}/v1/targets/preview", self._signed_in(self._preview))
        route("GET", f"{c}/v1/targets/geojson", self._signed_in(self._geojson))
        route("POST", f"{c}/v1/targets/geojson", self._signed_in(self._geojson))
        route("GET", f"{c}/v1/alerts", self._signed_in(self._alerts))
        route("GET", f"{c}/v1/keys", self._signed_in(lambda *_: httpx.Response(200, json=self.keys)))
        route(
            "POST",
            f"{c}/v1/keys",
            self._signed_in(self._create_key),
        )
        route(
            "POST",
            f"{c}/v1/keys/{{id}}/revoke",
            self._signed_in(lambda *_: httpx.Response(200, json=self.keys[0])),
        )
        route("GET", f"{c}/v1/templates", self._signed_in(lambda *_: httpx.Response(200, json=[TEMPLATE])))
        route("PUT", f"{c}/v1/templates/{{language}}/{{kind}}", self._signed_in(self._put_template))
        route(
            "DELETE",
            f"{c}/v1/templates/{{language}}/{{kind}}",
            self._signed_in(lambda *_: httpx.Response(200, json=TEMPLATE)),
        )
        route("GET", f"{c}/v1/audit", self._signed_in(lambda *_: httpx.Response(200, json=[AUDIT])))
        route("GET", f"{r}/v1/districts", lambda *_: httpx.Response(200, json=DISTRICTS))
        route(
            "GET",
            f"{r}/v1/districts/{{code}}/streets",
            lambda req, body, code: httpx.Response(200, json=STREETS[int(code)]),
        )
        route("GET", f"{r}/v1/addresses/search", self._search)
        route("POST", f"{r}/v1/staff/subscribers", self._register)
        route(
            "POST",
            f"{r}/v1/staff/subscribers/{{id}}/contacts/{{contact}}/verify",
            self._signed_in(
                lambda who, req, body, *_: httpx.Response(200, json={"verified": body["code"] == CODE})
            ),
        )
        route(
            "POST",
            f"{r}/v1/staff/subscribers/{{id}}/contacts/{{contact}}/code",
            self._signed_in(
                lambda who, req, body, *_: httpx.Response(
                    202 if body["access_token"] == "citizen-token" else 401, json={}
                )
            ),
        )

    def _signed_in(self, answer: Callable[..., httpx.Response]) -> Callable[..., httpx.Response]:
        def checked(request: httpx.Request, body: Any, *groups: str) -> httpx.Response:
            who = self._who(request)
            if who is None:
                return httpx.Response(401, json={"detail": "the session has ended"})
            return answer(who, request, body, *groups)

        return checked

    def _sign_in(self, request: httpx.Request, body: Json) -> httpx.Response:
        found = next((p for p in self.people.values() if p["email"] == body["email"]), None)
        if found is None or body["password"] != PASSWORD:
            return httpx.Response(401, json={"detail": "the e-mail address or the password is wrong"})
        token = f"hss_{uuid.uuid4().hex}"
        stage = "totp" if found["second_factor"] else "enrol"
        self.sessions[token] = (found["role"], stage)
        return httpx.Response(
            201, json={"token": token, "stage": stage, "expires_at": now(), "enrolment": None}
        )

    def _pending(self, request: httpx.Request, body: Any) -> httpx.Response:
        for stage in ("totp", "enrol"):
            if self._who(request, stage=stage) is not None:
                enrolment = {
                    "secret": "JBSWY3DPEHPK3PXP",
                    "uri": "otpauth://totp/Hlasatel:x?secret=JBSWY3DPEHPK3PXP",
                }
                return httpx.Response(
                    200,
                    json={
                        "token": "x",
                        "stage": stage,
                        "expires_at": now(),
                        "enrolment": enrolment if stage == "enrol" else None,
                    },
                )
        return httpx.Response(401, json={"detail": "the session is unknown"})

    def _code(self, request: httpx.Request, body: Json) -> httpx.Response:
        token = request.headers["authorization"].removeprefix("Bearer ")
        role, stage = self.sessions.get(token, ("", ""))
        if stage not in ("totp", "enrol"):
            return httpx.Response(
                401, json={"detail": "the session is unknown or has expired: sign in again"}
            )
        if body["code"].replace(" ", "") != CODE:
            return httpx.Response(401, json={"detail": "the code is wrong"})
        self.sessions[token] = (role, "signed_in")
        return httpx.Response(200, json=self.people[role])

    def _sign_out(self, request: httpx.Request, body: Any) -> httpx.Response:
        self.sessions.pop(request.headers.get("authorization", "").removeprefix("Bearer "), None)
        return httpx.Response(204)

    def _accept(self, request: httpx.Request, body: Json) -> httpx.Response:
        if body["token"] != "hsi_good":
            return httpx.Response(422, json={"detail": "the invitation is unknown, used or expired"})
        if len(body["password"]) < 12:
            return httpx.Response(422, json={"detail": "the password needs at least 12 characters"})
        return httpx.Response(200, json=self.people["editor"])

    def _invite(self, who: Json, request: httpx.Request, body: Json) -> httpx.Response:
        made = person(body["role"], body["name"]) | {"email": body["email"], "invited": True}
        return httpx.Response(201, json=made | {"invitation": "hsi_fresh", "invitation_expires_at": now()})

    def _list(self, who: Json, request: httpx.Request, body: Any) -> httpx.Response:
        state = request.url.params.get("state")
        found = [m for m in reversed(self.messages.values()) if state is None or m["state"] == state]
        return httpx.Response(200, json=found)

    def _get(self, who: Json, request: httpx.Request, body: Any, message_id: str) -> httpx.Response:
        if message_id not in self.messages:
            return httpx.Response(404, json={"detail": f"no message {message_id}"})
        return httpx.Response(200, json=self.messages[message_id])

    def _create(self, who: Json, request: httpx.Request, body: Json) -> httpx.Response:
        role = who["role"]
        made = message(self.people[role], **body)
        self.messages[made["id"]] = made
        return httpx.Response(201, json=made)

    def _patch(self, who: Json, request: httpx.Request, body: Json, message_id: str) -> httpx.Response:
        if self.messages[message_id]["author_key_id"] != f"staff:{who['id']}":
            return httpx.Response(403, json={"detail": "only its author changes a draft"})
        self.messages[message_id] |= body | {"review": None}
        return httpx.Response(200, json=self.messages[message_id])

    def _decide(
        self, who: Json, request: httpx.Request, body: Json | None, message_id: str, decision: str
    ) -> httpx.Response:
        message = self.messages[message_id]
        if decision == "approve" and message["author_key_id"] == f"staff:{who['id']}":
            return httpx.Response(
                403, json={"detail": "you wrote this message: another approver must approve it"}
            )
        if who["role"] == "editor":
            return httpx.Response(403, json={"detail": "this needs approver"})
        states = {"approve": "approved", "cancel": "cancelled", "reject": "rejected", "return": "draft"}
        message["state"] = states[decision]
        if body:
            message["review"] = {
                "decision": "rejected" if decision == "reject" else "returned",
                "reason": body["reason"],
                "by": who["name"],
                "at": now(),
            }
        return httpx.Response(200, json=message)

    def _follow_up(self, who: Json, request: httpx.Request, body: Json, message_id: str) -> httpx.Response:
        made = message(who, content=body["content"], follows=message_id, target=None)
        self.messages[made["id"]] = made
        return httpx.Response(201, json=made)

    def _report(self, who: Json, request: httpx.Request, body: Any, message_id: str) -> httpx.Response:
        return httpx.Response(
            200,
            json={
                "message_id": message_id,
                "state": self.messages[message_id]["state"],
                "deliveries": {"sms": {"delivered": 9, "failed": 1}, "push": {"accepted": 7}},
                "waiting_for_quiet_hours": 0,
                "households_targeted": 19,
                "households_reached": 10,
                "households_not_reached": {"total": 9, "subscribed_not_reached": 1, "not_subscribed": 8},
                "unreached": [
                    {
                        "address_point_code": 23657235,
                        "address": ADDRESS["label"],
                        "district": ADDRESS["district"],
                        "street": "Masarykova",
                        "number": "522/12",
                        "postcode": "46001",
                        "subscribers": 1,
                        "deliveries": 1,
                        "states": {"failed": 1},
                        "reached": False,
                        "reason": "subscribed_not_reached",
                    }
                ],
                "households_withheld": None,
                "purged": False,
            },
        )

    def _preview(self, who: Json, request: httpx.Request, body: Json) -> httpx.Response:
        streets = [s["name"] for s in body["target"].get("streets", [])]
        unknown = [
            {"name": n, "kind": "street", "suggestions": ["Masarykova"]} for n in streets if n != "Masarykova"
        ]
        count = 19 if streets and not unknown else (0 if streets else 16140)
        return httpx.Response(
            200,
            json={
                "address_points": count,
                "address_points_with_subscribers": 12 if count else 0,
                "subscribers": 12 if count else 0,
                "deliveries": {"sms": 9, "email": 11, "push": 7} if count else {},
                "streets": ["Masarykova (Liberec I-Staré Město)"] if count else [],
                "sms": {
                    "cs": {
                        "characters": 27,
                        "encoding": "UCS-2",
                        "segments": 2,
                        "per_segment": 67,
                        "non_gsm": ["č", "ž"],
                    }
                },
                "unknown": unknown,
                "four_eyes": bool(body["target"].get("city")),
            },
        )

    def _geojson(self, who: Json, request: httpx.Request, body: Json | None) -> httpx.Response:
        outline = {
            "type": "Feature",
            "id": "district-408638",
            "properties": {
                "kind": "district",
                "district_code": 408638,
                "district": "Liberec I-Staré Město",
                "address_points": 1433,
            },
            "geometry": {
                "type": "Polygon",
                "coordinates": [[[15.05, 50.76], [15.06, 50.76], [15.06, 50.77], [15.05, 50.76]]],
            },
        }
        point = {
            "type": "Feature",
            "id": ADDRESS["code"],
            "properties": {
                "kind": "address_point",
                "address": ADDRESS["label"],
                "street": "Masarykova",
                "number": "522/12",
                "district": ADDRESS["district"],
                "postcode": "460 01",
            },
            "geometry": {"type": "Point", "coordinates": [ADDRESS["longitude"], ADDRESS["latitude"]]},
        }
        return httpx.Response(
            200, json={"type": "FeatureCollection", "features": [outline] + ([point] if body else [])}
        )

    def _alerts(self, who: Json, request: httpx.Request, body: Any) -> httpx.Response:
        waiting = [m for m in self.messages.values() if m.get("alert_id")]
        return httpx.Response(
            200,
            json=[
                {
                    "id": str(uuid.uuid4()),
                    "source": "json",
                    "sender": "Severočeská vodárenská",
                    "event_id": "SVS-2026-4711",
                    "category": "water",
                    "state": "active",
                    "current": waiting[0]["id"] if waiting else None,
                    "awaiting_approval": bool(waiting),
                    "messages": [{"id": m["id"], "kind": "alert", "state": m["state"]} for m in waiting],
                    "created_at": now(),
                    "updated_at": now(),
                    "reach": "Masarykova 1–25",
                }
            ],
        )

    def _create_key(self, who: Json, request: httpx.Request, body: Json) -> httpx.Response:
        if not isinstance(body.get("rate_limit_per_minute", 60), int):
            problem = {"loc": ["body", "rate_limit_per_minute"], "msg": "a whole number of requests"}
            return httpx.Response(422, json={"detail": [problem]})
        return httpx.Response(201, json={**self.keys[0], **body, "key": "hls_new_key"})

    def _put_template(
        self, who: Json, request: httpx.Request, body: Json, language: str, kind: str
    ) -> httpx.Response:
        if "{{" in body["sms"] and "}}" not in body["sms"]:
            return httpx.Response(
                422, json={"detail": [{"loc": ["body", "sms"], "msg": "the template does not compile"}]}
            )
        return httpx.Response(200, json=TEMPLATE | body | {"customised": True})

    def _search(self, request: httpx.Request, body: Any) -> httpx.Response:
        if "masaryk" not in request.url.params.get("q", "").lower():
            return httpx.Response(404, json={"detail": "no address matches", "suggestions": []})
        return httpx.Response(200, json={"query": request.url.params["q"], "results": [ADDRESS]})

    def _register(self, request: httpx.Request, body: Json) -> httpx.Response:
        if request.headers.get("authorization", "").removeprefix("Bearer ") not in self.sessions:
            return httpx.Response(401, json={"detail": "a staff member's session is required"})
        for index, contact in enumerate(body["contacts"]):
            if contact["channel"] == "email" and "@" not in contact["value"]:
                problem = {"loc": ["body", "contacts", index, "value"], "msg": "not an e-mail address"}
                return httpx.Response(422, json={"detail": [problem]})
        contacts = [
            {"id": str(uuid.uuid4()), "channel": c["channel"], "value": c["value"], "verified": False}
            for c in body["contacts"]
        ]
        return httpx.Response(
            201, json={"id": str(uuid.uuid4()), "contacts": contacts, "access_token": "citizen-token"}
        )


TEMPLATE = {
    "language": "cs",
    "kind": "alert",
    "customised": False,
    "sms": "{{ utility }}: {{ what }}",
    "subject": "{{ what }}",
    "text": "{{ what }} {{ when }}",
    "example": {
        "sms": "SVS: odstávka vody",
        "email": {"subject": "Odstávka vody", "text": "Zítra"},
        "push": None,
    },
}
AUDIT = {
    "at": now(),
    "actor": "Eva Editorová",
    "actor_key_id": "staff:1",
    "role": "editor",
    "action": "message.created",
    "message_id": None,
    "target_size": None,
    "detail": {"author": "Eva Editorová"},
}


def _groups(path: str) -> str:
    """'/v1/messages/{id}/report' → a pattern whose groups are the path's parameters."""
    rest = path[path.index("{") :] if "{" in path else ""
    return re.sub(r"\{[a-z_]+\}", "([^/]+)", re.escape(rest).replace(r"\{", "{").replace(r"\}", "}"))
