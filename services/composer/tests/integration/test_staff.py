"""The city's staff signing in through the composer's API, as the console does: an invitation, a password,
a TOTP code, sessions that end, and locks after wrong attempts."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pyotp
import pytest
from sqlalchemy import select, update

from hlasatel_composer.adapters.orm import AuditRow, StaffRow, StaffSessionRow
from hlasatel_composer.domain import staff as policy

PASSWORD = "správné koně baterie sponka"


async def invited(api: Any, admin: dict[str, str], **person: Any) -> dict[str, Any]:
    body = {"name": "Eva Editorová", "email": "eva.editorova@liberec.cz", "role": "editor", **person}
    answer = await api.client.post("/v1/staff", json=body, headers=admin)
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


async def signed_up(api: Any, admin: dict[str, str], **person: Any) -> dict[str, Any]:
    """Invited, the invitation accepted, and the second factor set up: the person and their TOTP."""
    made = await invited(api, admin, **person)
    accepted = await api.client.post(
        "/v1/staff/invitations/accept", json={"token": made["invitation"], "password": PASSWORD}
    )
    assert accepted.status_code == 200, accepted.text
    started = (
        await api.client.post("/v1/staff/sessions", json={"email": made["email"], "password": PASSWORD})
    ).json()
    assert started["stage"] == "enrol"
    totp = pyotp.TOTP(started["enrolment"]["secret"])
    proved = await api.client.post(
        "/v1/staff/sessions/current/code", json={"code": totp.now()}, headers=bearer(started["token"])
    )
    assert proved.status_code == 200, proved.text
    return {"person": made, "totp": totp, "session": started["token"]}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def session_of(api: Any, email: str, totp: pyotp.TOTP) -> str:
    """Another sign-in, a while later: the codes used so far belong to the past (a code works once)."""
    async with api.harness.sessions() as session, session.begin():
        await session.execute(update(StaffRow).values(totp_last_step=None))
    started = (
        await api.client.post("/v1/staff/sessions", json={"email": email, "password": PASSWORD})
    ).json()
    answer = await api.client.post(
        "/v1/staff/sessions/current/code", json={"code": totp.now()}, headers=bearer(started["token"])
    )
    assert answer.status_code == 200, answer.text
    return str(started["token"])


@pytest.fixture
async def admin(api: Any) -> dict[str, str]:
    return dict(await api.key("Admin", "admin"))


class TestSigningIn:
    async def test_an_invited_person_sets_a_password_and_a_second_factor_and_acts_under_their_name(
        self, api: Any, admin: dict[str, str]
    ) -> None:
        made = await invited(api, admin, categories=["water"])
        assert made["invited"] is True and made["invitation"].startswith("hsi_")
        weak = await api.client.post(
            "/v1/staff/invitations/accept", json={"token": made["invitation"], "password": "short"}
        )
        assert weak.status_code == 422 and "12 characters" in weak.json()["detail"]
        accepted = await api.client.post(
            "/v1/staff/invitations/accept", json={"token": made["invitation"], "password": PASSWORD}
        )
        assert accepted.status_code == 200
        again = await api.client.post(
            "/v1/staff/invitations/accept", json={"token": made["invitation"], "password": PASSWORD}
        )
        assert again.status_code == 422, "an invitation works once"
        started = (
            await api.client.post(
                "/v1/staff/sessions", json={"email": "EVA.editorova@liberec.cz", "password": PASSWORD}
            )
        ).json()
        assert started["stage"] == "enrol" and started["enrolment"]["uri"].startswith(
            "otpauth://totp/Hlasatel:"
        )
        pending = bearer(started["token"])
        # a password alone opens nothing but the second factor
        assert (await api.client.get("/v1/messages", headers=pending)).status_code == 401
        # a reload of the enrolment page shows the same secret again
        again_pending = (await api.client.get("/v1/staff/sessions/current", headers=pending)).json()
        assert (again_pending["stage"], again_pending["enrolment"]) == ("enrol", started["enrolment"])
        wrong = await api.client.post(
            "/v1/staff/sessions/current/code", json={"code": "000000"}, headers=pending
        )
        assert wrong.status_code == 401
        totp = pyotp.TOTP(started["enrolment"]["secret"])
        code = totp.now()
        proved = await api.client.post(
            "/v1/staff/sessions/current/code", json={"code": code[:3] + " " + code[3:]}, headers=pending
        )
        assert proved.status_code == 200 and proved.json()["second_factor"] is True
        signed_in = await api.client.get("/v1/staff/sessions/current", headers=pending)
        assert signed_in.status_code == 401, "a full session's secret is nobody's to read any more"
        assert (await api.client.get("/v1/staff/me", headers=pending)).json()["name"] == "Eva Editorová"
        draft = {
            "severity": "info",
            "category": "water",
            "content": {"cs": {"sms": "Voda"}},
            "target": {"city": True},
        }
        made_message = await api.client.post("/v1/messages", json=draft, headers=pending)
        assert made_message.status_code == 201, made_message.text
        # the person's scope binds them as a key's binds it
        culture = await api.client.post(
            "/v1/messages", json={**draft, "category": "culture"}, headers=pending
        )
        assert culture.status_code == 403
        async with api.harness.sessions() as session:
            actions = [
                (row.actor, row.action)
                for row in await session.scalars(
                    select(AuditRow).where(AuditRow.actor_key_id.like("staff:%"))
                )
            ]
            stored = await session.scalar(select(StaffRow.totp_secret))
        assert ("Eva Editorová", "staff.signed_in") in actions and (
            "Eva Editorová",
            "message.created",
        ) in actions
        assert stored is not None and started["enrolment"]["secret"] not in stored, (
            "the secret is kept sealed"
        )
        # a code works once: the one just used opens no second session
        second = (
            await api.client.post("/v1/staff/sessions", json={"email": made["email"], "password": PASSWORD})
        ).json()
        reused = await api.client.post(
            "/v1/staff/sessions/current/code", json={"code": code}, headers=bearer(second["token"])
        )
        assert second["stage"] == "totp" and reused.status_code == 401

    async def test_wrong_passwords_lock_the_account_for_a_while_that_grows(
        self, api: Any, admin: dict[str, str]
    ) -> None:
        eva = await signed_up(api, admin)
        email = eva["person"]["email"]
        for _ in range(5):
            answer = await api.client.post(
                "/v1/staff/sessions", json={"email": email, "password": "wrong password!"}
            )
            assert answer.status_code == 401
        # locked: the right password is refused as a wrong one would be, and says nothing more
        locked = await api.client.post("/v1/staff/sessions", json={"email": email, "password": PASSWORD})
        unknown = await api.client.post(
            "/v1/staff/sessions", json={"email": "nobody@liberec.cz", "password": PASSWORD}
        )
        assert locked.status_code == unknown.status_code == 401 and locked.json() == unknown.json()
        async with api.harness.sessions() as session, session.begin():
            row = await session.scalar(select(StaffRow))
            assert row is not None and row.locked_until is not None
            assert timedelta(seconds=25) < row.locked_until - datetime.now(UTC) <= timedelta(seconds=30)
            row.locked_until = datetime.now(UTC) - timedelta(seconds=1)
        assert (
            await api.client.post("/v1/staff/sessions", json={"email": email, "password": PASSWORD})
        ).status_code == 201

    async def test_sessions_end_when_idle_at_sign_out_and_everywhere(
        self, api: Any, admin: dict[str, str]
    ) -> None:
        eva = await signed_up(api, admin)
        email, totp = eva["person"]["email"], eva["totp"]
        me = "/v1/staff/me"
        assert (await api.client.get(me, headers=bearer(eva["session"]))).status_code == 200
        async with api.harness.sessions() as session, session.begin():
            await session.execute(
                update(StaffSessionRow).values(last_seen_at=datetime.now(UTC) - timedelta(minutes=31))
            )
        assert (await api.client.get(me, headers=bearer(eva["session"]))).status_code == 401, (
            "idle 30 minutes"
        )
        first = await session_of(api, email, totp)
        second = await session_of(api, email, totp)
        assert (
            await api.client.delete("/v1/staff/sessions/current", headers=bearer(first))
        ).status_code == 204
        assert (await api.client.get(me, headers=bearer(first))).status_code == 401
        assert (await api.client.get(me, headers=bearer(second))).status_code == 200
        assert (await api.client.delete("/v1/staff/sessions", headers=bearer(second))).status_code == 204
        assert (await api.client.get(me, headers=bearer(second))).status_code == 401

    async def test_ended_sessions_are_deleted_by_the_retention_worker(
        self, api: Any, admin: dict[str, str]
    ) -> None:
        from hlasatel_composer.handlers.retention import Retention

        eva = await signed_up(api, admin)
        idle = await session_of(api, eva["person"]["email"], eva["totp"])
        await api.client.post(
            "/v1/staff/sessions", json={"email": eva["person"]["email"], "password": PASSWORD}
        )  # a password never followed by its code
        now = datetime.now(UTC)
        async with api.harness.sessions() as session, session.begin():
            await session.execute(
                update(StaffSessionRow)
                .where(StaffSessionRow.token_hash != policy.token_hash(eva["session"]))
                .values(created_at=now - timedelta(minutes=40), last_seen_at=now - timedelta(minutes=31))
            )
        retention = Retention(sessions=api.harness.sessions, keep_days=7)
        assert await retention.forget_sessions() == 2
        async with api.harness.sessions() as session:
            left = list(await session.scalars(select(StaffSessionRow.token_hash)))
        assert left == [policy.token_hash(eva["session"])], "the living session stays"
        assert (await api.client.get("/v1/staff/me", headers=bearer(eva["session"]))).status_code == 200
        assert (await api.client.get("/v1/staff/me", headers=bearer(idle))).status_code == 401
        assert await retention.forget_sessions(now=now + timedelta(hours=12, minutes=1)) == 1


class TestAdministration:
    async def test_an_admin_changes_a_role_or_disables_and_the_sessions_end(
        self, api: Any, admin: dict[str, str]
    ) -> None:
        eva = await signed_up(api, admin)
        staff_id = eva["person"]["id"]
        assert (
            await api.client.post(f"/v1/messages/{staff_id}/approve", headers=bearer(eva["session"]))
        ).status_code == 403
        promoted = await api.client.patch(f"/v1/staff/{staff_id}", json={"role": "approver"}, headers=admin)
        assert promoted.status_code == 200 and promoted.json()["role"] == "approver"
        assert (await api.client.get("/v1/staff/me", headers=bearer(eva["session"]))).status_code == 401
        later = await session_of(api, eva["person"]["email"], eva["totp"])
        assert (await api.client.get("/v1/staff/me", headers=bearer(later))).json()["role"] == "approver"
        disabled = await api.client.post(f"/v1/staff/{staff_id}/disable", headers=admin)
        assert disabled.status_code == 200 and disabled.json()["disabled_at"]
        assert (await api.client.get("/v1/staff/me", headers=bearer(later))).status_code == 401
        refused = await api.client.post(
            "/v1/staff/sessions", json={"email": eva["person"]["email"], "password": PASSWORD}
        )
        assert refused.status_code == 401
        listed = (await api.client.get("/v1/staff", headers=admin)).json()
        assert [(p["name"], bool(p["disabled_at"])) for p in listed] == [("Eva Editorová", True)]

    async def test_only_an_admin_invites_and_an_address_is_someone_s_once(
        self, api: Any, admin: dict[str, str]
    ) -> None:
        editor = await api.key("Editor", "editor")
        body = {"name": "X", "email": "x@liberec.cz", "role": "admin"}
        assert (await api.client.post("/v1/staff", json=body, headers=editor)).status_code == 403
        assert (await api.client.post("/v1/staff", json=body, headers=admin)).status_code == 201
        assert (
            await api.client.post("/v1/staff", json={**body, "email": "X@Liberec.cz"}, headers=admin)
        ).status_code == 409
