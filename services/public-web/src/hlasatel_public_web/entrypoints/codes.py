"""The codes that prove a phone number or an e-mail address is the citizen's: typed in (with spaces or
not), sent again, or the number corrected when no code came — within the registry's limits, which the page
says in minutes."""

from typing import Any

from fastapi.responses import HTMLResponse
from starlette.datastructures import FormData

from hlasatel_public_web.domain.answers import code_typed
from hlasatel_public_web.entrypoints.questions import Flow, registry_refusal
from hlasatel_public_web.entrypoints.web import Page, text
from hlasatel_web.api import ApiRefused

Json = dict[str, Any]
PROVABLE = ("sms", "email")


def contacts_of(subscription: Json) -> list[Json]:
    """The phone numbers and e-mail addresses of a subscription, as the codes' pages follow them."""
    return [
        {"id": str(c["id"]), "channel": c["channel"], "value": c["value"], "verified": bool(c["verified"])}
        for c in subscription["contacts"]
        if c["channel"] in PROVABLE and c["active"]
    ]


def codes_page(page: Page, contacts: list[Json], *, flow: Flow, no_code: str) -> HTMLResponse:
    sent = page.request.query_params.get("sent") == "1"
    return page.render(
        "codes.html",
        h1=page.lang.gettext("Enter the codes we sent you"),
        flow=flow,
        contacts=contacts,
        no_code=no_code,
        notice=page.lang.gettext("A new code is on its way. The earlier one no longer works.")
        if sent
        else None,
        status_code=422 if page.errors else 200,
    )


async def check_codes(
    page: Page, subscriber_id: str, token: str, contacts: list[Json], form: FormData, ip: str | None
) -> list[Json]:
    """Each code typed, checked; the contacts as the registry knows them afterwards (an e-mail address
    may have been verified by its link in the meantime)."""
    _ = page.lang.gettext
    registry = page.public_web.registry
    for contact in contacts:
        if contact["verified"]:
            continue
        field = f"code-{contact['id']}"
        typed = text(form, field, limit=40)
        if not typed:
            continue
        code = code_typed(typed)
        if code is None:
            page.errors[field] = _("Enter the 6 digits of the code")
            continue
        try:
            await registry.verify(subscriber_id, contact["id"], code, ip=ip)
        except ApiRefused as refused:
            if refused.status == 429:
                registry_refusal(page, refused, field=field)
            else:
                page.errors[field] = _(
                    "This code is not right, or it has expired. Check it or ask for a new one."
                )
    fresh = contacts_of(await registry.subscription(subscriber_id, token))
    for contact in fresh:
        field = f"code-{contact['id']}"
        if not contact["verified"] and field not in page.errors:
            page.errors[field] = (
                _("Enter the code from the SMS")
                if contact["channel"] == "sms"
                else _("Enter the code from the e-mail, or open the link in it")
            )
    return fresh


def no_code_page(page: Page, contacts: list[Json], *, action: str, back: str) -> HTMLResponse:
    """'No code came?': send it again, correct the number or address, or do without it."""
    return page.render(
        "no_code.html",
        h1=page.lang.gettext("No code came?"),
        waiting=[c for c in contacts if not c["verified"]],
        removable=len(contacts) > 1,
        action=action,
        back_to=back,
        status_code=422 if page.errors else 200,
    )


async def no_code_acted(
    page: Page, subscriber_id: str, token: str, contacts: list[Json], form: FormData, ip: str | None
) -> list[Json] | None:
    """What the citizen chose done: the contacts afterwards, or None with the page's errors."""
    registry = page.public_web.registry
    contact = next((c for c in contacts if c["id"] == text(form, "contact") and not c["verified"]), None)
    if contact is None:
        page.errors["form"] = page.lang.gettext("Choose a phone number or an e-mail address from the list")
        return None
    field = f"value-{contact['id']}"
    try:
        match text(form, "do"):
            case "resend":
                await registry.send_code(subscriber_id, token, contact["id"], ip=ip)
                return contacts
            case "correct":
                corrected = text(form, field, limit=254)
                if not corrected:
                    page.errors[field] = page.lang.gettext("Enter the right phone number or e-mail address")
                    return None
                body = {"add_contacts": [{"channel": contact["channel"], "value": corrected}]}
                await registry.update(subscriber_id, token, body, ip=ip)
                return contacts_of(await registry.remove_contact(subscriber_id, token, contact["id"]))
            case "remove" if len(contacts) > 1:
                return contacts_of(await registry.remove_contact(subscriber_id, token, contact["id"]))
    except ApiRefused as refused:
        if refused.status == 422:
            page.errors[field] = page.lang.gettext(
                "This is not a phone number or e-mail address the city can send to"
            )
        else:
            registry_refusal(page, refused, field=field)
        return None
    page.errors["form"] = page.lang.gettext("Choose what to do")
    return None
