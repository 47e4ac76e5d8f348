"""The walking skeleton, end to end: real broker, the five services as processes, the provider fakes, and
the citizen's pages that the links in messages open.

A citizen registers at a real Liberec address; the press office sends a message to one street; everyone on
that street hears it on each of their channels through the real adapters, and nobody else hears anything.

Every test stands on its own, in any order: the street's citizens are a module fixture that no test
changes, and a test that changes a citizen (verifies, erases, loses a token) registers one of its own at an
address nobody else uses. What stops the broker or a service is in test_outages.py, on a stack of its own.
"""

import asyncio
import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from hlasatel_contracts import ADDRESS_POINTS, SUBSCRIBERS, AddressPoint
from hlasatel_devstack.bus import read_topics
from hlasatel_devstack.demo import code_sent_to, verify_contacts
from hlasatel_devstack.fakes.ledger import read_ledger
from hlasatel_devstack.stack import Stack
from hlasatel_devstack.testing import eventually, stack_fixture
from hlasatel_web.security import CSRF_COOKIE

stack = stack_fixture("stack", web=("public-web",))
MASARYKOVA_12 = 23657235  # Masarykova 522/12, Liberec I-Staré Město
MASARYKOVA_10 = 23656727  # Masarykova 451/10
JABLONECKA_6 = 23653141  # Jablonecká 7/6, the same district, another street
STREET = [MASARYKOVA_12, MASARYKOVA_10, JABLONECKA_6]
# one address a test of its own: nobody else lives there
HUSOVA_2 = 23653256  # Husova 19/2
SOKOLSKA_8 = 23654155  # Sokolská 113/8
JUNGMANNOVA_2 = 23765011  # Jungmannova 351/2
PRAZSKA_2 = 23762802  # Pražská 15/2
MOSKEVSKA_2 = 23767081  # Moskevská 1/2
KLASTERNI_1A = 23655534  # Klášterní 333/1a

JANA = {
    "addresses": [{"address_point": MASARYKOVA_12, "role": "resident"}],
    "contacts": [
        {"channel": "sms", "value": "+420777100001"},
        {"channel": "email", "value": "jana@example.cz"},
        {"channel": "push", "value": "push-token-jana"},
    ],
    "language": "cs",
}
PETR = {
    "addresses": [{"address_point": MASARYKOVA_10, "role": "owner"}],
    "contacts": [
        {"channel": "sms", "value": "777 100 002"},
        {"channel": "email", "value": "petr@example.cz"},
    ],
    "language": "en",
}
MARIE = {
    "addresses": [{"address_point": JABLONECKA_6, "role": "resident"}],
    "contacts": [
        {"channel": "sms", "value": "+420777100003"},
        {"channel": "email", "value": "marie@example.cz"},
        {"channel": "push", "value": "push-token-marie"},
    ],
    "language": "cs",
}
# Karel never types his SMS code: only his push token counts
KAREL = {
    "addresses": [{"address_point": MASARYKOVA_10, "role": "resident"}],
    "contacts": [
        {"channel": "sms", "value": "+420777100004"},
        {"channel": "push", "value": "push-token-karel"},
    ],
    "language": "cs",
}
MESSAGE = {
    "severity": "warning",
    "category": "water",
    "content": {
        "cs": {
            "sms": "Liberec: zítra 8–14 h odstávka vody v ulici Masarykova.",
            "email": {"subject": "Odstávka vody – Masarykova", "text": "Zítra 8–14 h nepoteče voda."},
            "push": {"title": "Odstávka vody", "body": "Zítra 8–14 h, Masarykova"},
        },
        "en": {"sms": "Liberec: water off tomorrow 8-14 in Masarykova street."},
    },
    "target": {"streets": [{"name": "Masarykova"}]},
}


@pytest.fixture(scope="module")
def registry(stack: Stack) -> httpx.Client:
    return httpx.Client(base_url=stack.url("registry"), timeout=10)


@pytest.fixture(scope="module")
def composer(stack: Stack) -> httpx.Client:
    """The press office's editor; approvals go with the approver's key (`as_approver`)."""
    editor = {"Authorization": f"Bearer {stack.keys['editor']}"}
    return httpx.Client(base_url=stack.url("composer"), timeout=10, headers=editor)


def as_approver(stack: Stack) -> dict[str, str]:
    return {"Authorization": f"Bearer {stack.keys['approver']}"}


def bearer(citizen: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {citizen['access_token']}"}


def ledger(stack: Stack, channel: str) -> list[dict[str, Any]]:
    return read_ledger(stack.config.ledger_dir / f"{channel}.jsonl")


@pytest.fixture(scope="module")
def gazetteer(stack: Stack, liberec_csv: Path) -> list[str]:
    """The Liberec gazetteer imported into the registry, and every address point of it in the composer:
    what the command said."""
    return stack.import_register(liberec_csv).splitlines()


def register(stack: Stack, body: dict[str, Any], *, verify: bool = True) -> dict[str, Any]:
    """A citizen registered (and their contacts verified with the codes the fakes received)."""
    response = httpx.post(f"{stack.url('registry')}/v1/subscribers", json=body, timeout=10)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    if verify:
        verify_contacts(stack.url("registry"), stack.config.ledger_dir, created)
    return created


def someone_at(address_point: int, *contacts: tuple[str, str]) -> dict[str, Any]:
    return {
        "addresses": [{"address_point": address_point}],
        "contacts": [{"channel": channel, "value": value} for channel, value in contacts],
    }


def preview(composer: httpx.Client, *address_points: int) -> dict[str, Any]:
    answer = composer.post("/v1/targets/preview", json={"target": {"address_points": list(address_points)}})
    assert answer.status_code in (200, 422), answer.text
    return answer.json() if answer.status_code == 200 else {"subscribers": 0, "deliveries": {}}


@pytest.fixture(scope="module")
def street(stack: Stack, gazetteer: list[str], composer: httpx.Client) -> dict[str, dict[str, Any]]:
    """Jana and Petr on Masarykova, Marie around the corner, Karel (push only) beside Petr: registered,
    verified and indexed by the composer. No test changes them."""
    citizens = {
        "jana": register(stack, JANA),
        "petr": register(stack, PETR),
        "marie": register(stack, MARIE),
        "karel": register(stack, KAREL, verify=False),
    }
    eventually(
        lambda: preview(composer, *STREET)["subscribers"] == 4,
        what="the composer indexed the street's citizens",
        detail=lambda: preview(composer, *STREET),
    )
    return citizens


def test_registry_imports_the_liberec_gazetteer(gazetteer: list[str]) -> None:
    summary, changes, announced = gazetteer
    assert summary.endswith("16140 address points in 33 districts and 987 streets")
    assert changes.endswith("added 16140, updated 0, retired 0, unchanged 0")
    assert announced.endswith("16140 address points announced to the composer")


def test_the_composer_knows_every_house_of_the_city_not_only_the_subscribed_ones(
    stack: Stack, composer: httpx.Client, street: dict[str, dict[str, Any]], liberec: list[AddressPoint]
) -> None:
    """The register reached the composer on its own topic: a preview of Masarykova counts its 38 houses,
    two of which have subscribers; a replay of the topic from its beginning is the registry's register."""
    answer = composer.post(
        "/v1/targets/preview", json={"target": {"streets": [{"name": "Masarykova"}]}, "category": "water"}
    ).json()
    assert (answer["address_points"], answer["address_points_with_subscribers"]) == (38, 2), answer
    records = asyncio.run(read_topics(f"127.0.0.1:{stack.config.ports.broker}", [ADDRESS_POINTS]))
    latest: dict[int, dict[str, Any]] = {}
    for record in records:
        value = json.loads(record.value)
        assert record.key.decode() == str(value["address"]["code"])
        if value["version"] > latest.get(value["address"]["code"], {"version": 0})["version"]:
            latest[value["address"]["code"]] = value
    assert {code: (v["version"], v["retired_at"]) for code, v in latest.items()} == {
        p.code: (1, None) for p in liberec
    }
    assert [AddressPoint.model_validate(latest[p.code]["address"]) for p in liberec] == liberec


def test_people_find_their_address_as_they_type_it(registry: httpx.Client, gazetteer: list[str]) -> None:
    found = registry.get("/v1/addresses/search", params={"q": "masarykova 12, Liberec"})
    assert found.status_code == 200
    assert found.json()["results"][0]["code"] == MASARYKOVA_12
    missing = registry.get("/v1/addresses/search", params={"q": "Masarykova 47"})
    assert missing.status_code == 404
    assert missing.json()["suggestions"][0]["label"].startswith("Masarykova 988/46")


def test_registration_refuses_bad_input_with_a_reason(registry: httpx.Client, gazetteer: list[str]) -> None:
    unknown = registry.post("/v1/subscribers", json={**JANA, "addresses": [{"address_point": 1}]})
    assert unknown.status_code == 422
    assert unknown.json()["detail"][0]["msg"] == "unknown address points: 1"
    landline = registry.post(
        "/v1/subscribers", json={**JANA, "contacts": [{"channel": "sms", "value": "485 243 111"}]}
    )
    assert landline.status_code == 422
    assert landline.json()["detail"][0]["loc"] == ["body", "contacts", 0]
    assert "mobile" in landline.json()["detail"][0]["msg"]


def test_citizens_register_and_receive_codes(stack: Stack, gazetteer: list[str]) -> None:
    marek = register(
        stack,
        someone_at(KLASTERNI_1A, ("sms", "+420777100011"), ("email", "marek@example.cz")),
        verify=False,
    )
    assert marek["addresses"][0]["label"] == "Klášterní 333/1a, Liberec I-Staré Město, 460 01"
    # the codes travel registry → outbox → transactional lane → dispatchers → fakes
    assert len(code_sent_to(stack.config.ledger_dir, "sms", "+420777100011")) == 6
    email = eventually(
        lambda: [e for e in ledger(stack, "email") if e["recipient"] == "marek@example.cz"],
        what="Marek's verification e-mail",
    )[-1]
    assert email["subject"] == "Ověření e-mailu pro Hlasatel Liberec"


def test_citizens_verify_by_code_and_by_the_email_link(
    stack: Stack, registry: httpx.Client, gazetteer: list[str]
) -> None:
    lucie = register(
        stack, someone_at(HUSOVA_2, ("sms", "+420777100012"), ("email", "lucie@example.cz")), verify=False
    )
    sms = next(c for c in lucie["contacts"] if c["channel"] == "sms")
    wrong = registry.post(
        f"/v1/subscribers/{lucie['id']}/contacts/{sms['id']}/verify", json={"code": "000000"}
    )
    assert wrong.status_code == 422 and "attempts left" in wrong.json()["detail"][0]["msg"]
    code = code_sent_to(stack.config.ledger_dir, "sms", sms["value"])
    assert registry.post(
        f"/v1/subscribers/{lucie['id']}/contacts/{sms['id']}/verify", json={"code": code}
    ).is_success
    email = eventually(
        lambda: [e for e in ledger(stack, "email") if e["recipient"] == "lucie@example.cz"],
        what="Lucie's verification e-mail",
    )[-1]
    link = re.search(r"https?://\S+", email["text"]).group(0)  # type: ignore[union-attr]
    assert link.startswith(f"{stack.url('public-web')}/v1/verify/email?token=")
    page = httpx.get(link, timeout=10)
    assert page.status_code == 200 and '<form method="post"' in page.text  # a link scanner verifies nothing
    assert not registry.get(f"/v1/subscribers/{lucie['id']}", headers=bearer(lucie)).json()["contacts"][1][
        "verified"
    ]
    assert press_the_button(page).status_code == 200
    mine = registry.get(f"/v1/subscribers/{lucie['id']}", headers=bearer(lucie))
    assert all(c["verified"] for c in mine.json()["contacts"])


def press_the_button(page: httpx.Response) -> httpx.Response:
    """Send the page's one form as a browser does: its fields, with the CSRF cookie the page set (a
    browser sends that Secure cookie back to a page on 127.0.0.1; httpx sends none over plain http)."""
    action = re.search(r'<form method="post" action="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page.text))
    return httpx.post(
        str(page.url.join(action.replace("&amp;", "&"))),
        data=fields,
        headers={"Cookie": f"{CSRF_COOKIE}={page.cookies[CSRF_COOKIE]}"},
        timeout=10,
    )


def test_code_requests_are_limited_per_number(
    stack: Stack, registry: httpx.Client, gazetteer: list[str]
) -> None:
    ota = register(stack, someone_at(SOKOLSKA_8, ("sms", "+420777100013")), verify=False)
    sms = next(c for c in ota["contacts"] if c["channel"] == "sms")
    url = f"/v1/subscribers/{ota['id']}/contacts/{sms['id']}/code"
    answers = [registry.post(url, headers=bearer(ota)) for _ in range(5)]
    assert [a.status_code for a in answers] == [202, 202, 202, 202, 429]  # the registration sent the first
    assert 3000 < int(answers[-1].headers["Retry-After"]) <= 3601
    assert registry.post(url).status_code == 401


def test_the_composer_indexes_verified_contacts_only(
    composer: httpx.Client, street: dict[str, dict[str, Any]]
) -> None:
    # Karel registered on Masarykova but never typed his code: only his push token counts
    counted = preview(composer, *STREET)
    assert (counted["subscribers"], counted["deliveries"]) == (4, {"sms": 3, "email": 3, "push": 3})


def test_a_message_to_one_street_reaches_exactly_that_street(
    stack: Stack, composer: httpx.Client, street: dict[str, dict[str, Any]]
) -> None:
    created = composer.post("/v1/messages", json=MESSAGE)
    assert created.status_code == 201, created.text
    message_id = created.json()["id"]
    approved = composer.post(f"/v1/messages/{message_id}/approve", headers=as_approver(stack))
    assert approved.status_code == 200 and approved.json()["state"] == "approved"

    # the fake gateway reports each SMS delivered a moment after taking it
    expected = {
        "sms": {"delivered": 2},
        "email": {"accepted": 2},
        "push": {"accepted": 2},
    }

    def reported() -> dict[str, Any] | None:
        message = composer.get(f"/v1/messages/{message_id}").json()
        return message if message["deliveries"] == expected else None

    message = eventually(reported, what=f"every delivery accepted, the SMS delivered: {expected}")
    assert (message["state"], message["recipients"]) == ("done", 3)

    sms = {e["recipient"]: e["text"] for e in ledger(stack, "sms") if e["message_id"] == message_id}
    assert set(sms) == {"+420777100001", "+420777100002"}
    assert sms["+420777100001"].startswith(
        "Liberec: zítra 8–14 h odstávka vody v ulici Masarykova.\nOdhlásit: "
    )
    assert sms["+420777100002"].startswith(
        "Liberec: water off tomorrow 8-14 in Masarykova street.\nUnsubscribe: "
    )
    footer_link = sms["+420777100001"].rsplit(" ", 1)[1]
    assert footer_link.startswith(f"{stack.url('public-web')}/u/")
    page = httpx.get(footer_link, timeout=10)
    assert page.status_code == 200 and '<form method="post"' in page.text
    emails = {e["recipient"]: e["subject"] for e in ledger(stack, "email") if e["message_id"] == message_id}
    assert emails == {
        "jana@example.cz": "Odstávka vody – Masarykova",
        "petr@example.cz": "Odstávka vody – Masarykova",
    }
    pushes = {(e["recipient"], e["title"]) for e in ledger(stack, "push") if e["message_id"] == message_id}
    assert pushes == {("push-token-jana", "Odstávka vody"), ("push-token-karel", "Odstávka vody")}
    nobody_else = {"+420777100003", "marie@example.cz", "push-token-marie", "+420777100004"}
    reached = {
        e["recipient"]
        for c in ("sms", "email", "push")
        for e in ledger(stack, c)
        if e["message_id"] == message_id
    }
    assert nobody_else.isdisjoint(reached)


def test_a_utility_alert_its_update_and_all_clear_reach_exactly_the_houses_concerned(
    stack: Stack, composer: httpx.Client, street: dict[str, dict[str, Any]]
) -> None:
    """The water company's system, pre-approved for water: Petr's house, then Marie's street instead."""
    water = {"Authorization": f"Bearer {stack.keys['water']}"}
    event = {
        "event_id": "SVS-E2E-1",
        "category": "water",
        "addresses": {"address_points": [MASARYKOVA_10]},
        "start": "2030-06-03T08:00:00+02:00",
        "end": "2030-06-03T14:00:00+02:00",
        "reason": "oprava vodovodního řadu",
    }
    alert = composer.post("/v1/alerts", json=event, headers={**water, "Idempotency-Key": "e2e-1"})
    assert alert.status_code == 201 and not alert.json()["awaiting_approval"], alert.text
    sent = _told(stack, alert.json()["current"], "+420777100002")
    assert sent == {"+420777100002": "Water supply interruption: 3 Jun 2030, 08:00-14:00, Masarykova."}

    moved = {**event, "msg_type": "update", "addresses": {"address_points": [JABLONECKA_6]}}
    updated = composer.post("/v1/alerts", json=moved, headers=water).json()
    kinds = {m["kind"]: m["id"] for m in updated["messages"]}
    assert _told(stack, kinds["update"], "+420777100003")["+420777100003"].startswith("ZMĚNA: Odstávka vody")
    assert _told(stack, kinds["released"], "+420777100002")["+420777100002"].endswith(
        "has changed and no longer affects your address."
    )

    ended = composer.post("/v1/alerts", json={**event, "msg_type": "all-clear"}, headers=water).json()
    all_clear = next(m["id"] for m in ended["messages"] if m["kind"] == "all-clear")
    assert set(_told(stack, all_clear, "+420777100003")) == {"+420777100003"}
    told = {
        e["recipient"]
        for e in ledger(stack, "sms")
        if e["message_id"] in {m["id"] for m in ended["messages"]}
    }
    assert "+420777100001" not in told  # Jana's house on Masarykova was never concerned


def _told(stack: Stack, message_id: str, waiting_for: str) -> dict[str, str]:
    """Once `waiting_for` has the message's SMS: every SMS of the message, by phone, without its footer."""

    def arrived() -> dict[str, str] | None:
        texts = {e["recipient"]: e["text"] for e in ledger(stack, "sms") if e["message_id"] == message_id}
        return texts if waiting_for in texts else None

    found = eventually(arrived, what=f"the SMS of {message_id} reached {waiting_for}")
    return {
        phone: text.split("\n")[0].split(" Reason:")[0].split(" Důvod:")[0] for phone, text in found.items()
    }


def test_a_token_fcm_no_longer_knows_is_deactivated_everywhere(
    stack: Stack, composer: httpx.Client, registry: httpx.Client, gazetteer: list[str]
) -> None:
    zdenek = register(
        stack, someone_at(JUNGMANNOVA_2, ("sms", "+420777100014"), ("push", "unregistered-zdenek"))
    )
    eventually(lambda: preview(composer, JUNGMANNOVA_2)["subscribers"] == 1, what="Zdeněk indexed")
    made = composer.post("/v1/messages", json={**MESSAGE, "target": {"address_points": [JUNGMANNOVA_2]}})
    assert made.status_code == 201, made.text
    approved = composer.post(f"/v1/messages/{made.json()['id']}/approve", headers=as_approver(stack))
    assert approved.status_code == 200, approved.text

    def deactivated() -> bool:
        contacts = registry.get(f"/v1/subscribers/{zdenek['id']}", headers=bearer(zdenek)).json()["contacts"]
        return not next(c for c in contacts if c["channel"] == "push")["active"]

    eventually(deactivated, what="the registry deactivated the token dispatch-push reported invalid")
    eventually(
        lambda: preview(composer, JUNGMANNOVA_2)["deliveries"].get("push", 0) == 0,
        what="the composer stopped counting the dead token",
        detail=lambda: preview(composer, JUNGMANNOVA_2),
    )


def test_approving_twice_is_refused_and_sends_nothing_more(
    stack: Stack, composer: httpx.Client, street: dict[str, dict[str, Any]]
) -> None:
    message_id = composer.post("/v1/messages", json=MESSAGE).json()["id"]
    assert composer.post(f"/v1/messages/{message_id}/approve", headers=as_approver(stack)).status_code == 200
    again = composer.post(f"/v1/messages/{message_id}/approve", headers=as_approver(stack))
    assert again.status_code == 409
    eventually(
        lambda: (
            composer.get(f"/v1/messages/{message_id}").json()["deliveries"].get("sms") == {"delivered": 2}
        ),
        what="the second message delivered",
    )
    assert sum(1 for e in ledger(stack, "sms") if e["message_id"] == message_id) == 2


def test_erasure_reaches_the_composers_index(
    stack: Stack, registry: httpx.Client, composer: httpx.Client, gazetteer: list[str]
) -> None:
    vera = register(stack, someone_at(PRAZSKA_2, ("sms", "+420777100015"), ("email", "vera@example.cz")))
    eventually(lambda: preview(composer, PRAZSKA_2)["subscribers"] == 1, what="Věra indexed")
    exported = registry.get(f"/v1/subscribers/{vera['id']}/export", headers=bearer(vera)).json()
    assert {c["value"] for c in exported["contacts"]} == {"+420777100015", "vera@example.cz"}
    assert registry.delete(f"/v1/subscribers/{vera['id']}", headers=bearer(vera)).status_code == 204
    assert registry.get(f"/v1/subscribers/{vera['id']}", headers=bearer(vera)).status_code == 401
    eventually(
        lambda: preview(composer, PRAZSKA_2)["subscribers"] == 0, what="the tombstone reached the composer"
    )


async def _changelog(bootstrap: str) -> dict[str, dict[str, Any]]:
    """The latest record of every key of the changelog, read from the very beginning."""
    latest: dict[str, dict[str, Any]] = {}
    for record in await read_topics(bootstrap, [SUBSCRIBERS]):
        value = json.loads(record.value)
        if value["version"] > latest.get(record.key.decode(), {"version": 0})["version"]:
            latest[record.key.decode()] = value
    return latest


def test_a_replay_of_the_changelog_reaches_the_registrys_state(
    stack: Stack, registry: httpx.Client, street: dict[str, dict[str, Any]]
) -> None:
    radek = register(stack, someone_at(MOSKEVSKA_2, ("email", "radek@example.cz")))
    assert registry.delete(f"/v1/subscribers/{radek['id']}", headers=bearer(radek)).status_code == 204
    bootstrap = f"127.0.0.1:{stack.config.ports.broker}"
    replayed = eventually(
        lambda: (
            (found := asyncio.run(_changelog(bootstrap))).get(radek["id"], {}).get("type")
            == "subscriber.erased"
            and found
        ),
        what="Radek's erasure on the changelog",
    )
    assert set(replayed) >= {c["id"] for c in street.values()}
    for name, citizen in street.items():
        state = registry.get(f"/v1/subscribers/{citizen['id']}", headers=bearer(citizen)).json()
        record = replayed[state["id"]]
        assert record["version"] == state["version"], name
        assert [(c["value"], c["verified"], c["active"]) for c in record["contacts"]] == [
            (c["value"], c["verified"], c["active"]) for c in state["contacts"]
        ], name
        assert record["type"] == "subscriber.changed"


def test_the_composer_refuses_calls_without_a_valid_key_and_keeps_the_dev_keys(stack: Stack) -> None:
    url = stack.url("composer")
    assert httpx.post(f"{url}/v1/targets/preview", json={"target": {"city": True}}).status_code == 401
    wrong = {"Authorization": "Bearer hls_not-a-key"}
    assert (
        httpx.post(f"{url}/v1/targets/preview", json={"target": {"city": True}}, headers=wrong).status_code
        == 401
    )
    editor = {"Authorization": f"Bearer {stack.keys['editor']}"}
    created = httpx.post(f"{url}/v1/keys", json={"name": "x", "role": "admin"}, headers=editor)
    assert created.status_code == 403 and "needs admin" in created.json()["detail"]
    saved = json.loads((stack.config.var_dir / "dev-keys.json").read_text())
    assert set(saved) == {"editor", "approver", "admin", "water", "weather", "registry_operator"}
    assert saved == stack.keys
