"""A signed-in citizen's subscription: what it is, each answer changed on its own page (the same questions
as the sign-up's), the contacts with their codes, stopping all but emergencies, the messages sent, the
export, and erasure. A session the registry no longer accepts (a newer sign-in replaced its token) asks to
sign in again."""

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import HTMLResponse, Response

from hlasatel_public_web.domain.answers import MAX_ADDRESSES, SignUp
from hlasatel_public_web.entrypoints import questions, statements
from hlasatel_public_web.entrypoints.codes import (
    check_codes,
    codes_page,
    contacts_of,
    no_code_acted,
    no_code_page,
)
from hlasatel_public_web.entrypoints.questions import Flow
from hlasatel_public_web.entrypoints.statements import quiet_sentence
from hlasatel_public_web.entrypoints.web import (
    SESSION_COOKIE,
    Citizen,
    CitizenDep,
    FormDep,
    IpDep,
    Page,
    PageDep,
    forget,
    redirect,
    text,
)
from hlasatel_web.api import ApiRefused

router = APIRouter(prefix="/manage")
Json = dict[str, Any]
HOME = "/manage/subscription"


async def subscription_of(page: PageDep, citizen: CitizenDep) -> Json:
    """The signed-in citizen's subscription as the registry has it now."""
    return dict(await page.public_web.registry.subscription(citizen.id, citizen.token))


SubscriptionDep = Annotated[Json, Depends(subscription_of)]


def _flow(step: str) -> Flow:
    return Flow(action=f"/manage/{step}", back=HOME)


def as_answers(subscription: Json) -> SignUp:
    """A subscription as a sign-up's answers would give it: for the statement of what it is."""
    quiet = subscription.get("quiet_hours")
    return SignUp(
        addresses=[
            {"code": a["address_point"], "label": a["label"], "role": a["role"]}
            for a in subscription["addresses"]
        ],
        contacts=contacts_of(subscription),
        categories=list(subscription["categories"]),
        language=subscription["language"],
        quiet={"choice": "custom", "start": quiet["start"][:5], "end": quiet["end"][:5]} if quiet else None,
    )


async def _change(
    page: Page, citizen: Citizen, body: Json, ip: str | None, *, where: str, agreed: str
) -> Json:
    """The change, with the words the citizen agreed to on the page for the consent record."""
    consent = {"page": where, "statement": agreed}
    return await page.public_web.registry.update(
        citizen.id, citizen.token, body | {"consent": consent}, ip=ip
    )


@router.get("/subscription", response_class=HTMLResponse)
async def subscription(
    page: PageDep, found: SubscriptionDep, done: Annotated[str, Query(max_length=40)] = ""
) -> HTMLResponse:
    _ = page.lang.gettext
    notices = {
        "changed": _("Your subscription was changed."),
        "stopped": _("You will get emergency messages only."),
    }
    return page.render(
        "subscription.html",
        h1=_("Your subscription"),
        subscription=found,
        contacts=contacts_of(found),
        quiet=quiet_sentence(page.lang, as_answers(found).quiet),
        notice=notices.get(done),
    )


@router.get("/categories", response_class=HTMLResponse)
async def categories(page: PageDep, citizen: CitizenDep, found: SubscriptionDep) -> HTMLResponse:
    return questions.categories_page(page, _flow("categories"), chosen=found["categories"])


@router.post("/categories", response_class=HTMLResponse)
async def choose_categories(page: PageDep, citizen: CitizenDep, form: FormDep, ip: IpDep) -> Response:
    chosen = questions.chosen_categories(form)
    await _change(
        page,
        citizen,
        {"categories": chosen},
        ip,
        where="/manage/categories",
        agreed=statements.categories_statement(page.lang, chosen),
    )
    return redirect(f"{HOME}?done=changed")


@router.get("/language", response_class=HTMLResponse)
async def language(page: PageDep, citizen: CitizenDep, found: SubscriptionDep) -> HTMLResponse:
    return questions.language_page(page, _flow("language"), chosen=found["language"])


@router.post("/language", response_model=None)
async def choose_language(page: PageDep, citizen: CitizenDep, form: FormDep, ip: IpDep) -> Response:
    chosen = questions.chosen_language(page, form)
    if chosen is None:
        return questions.language_page(page, _flow("language"), chosen=None)
    await _change(
        page,
        citizen,
        {"language": chosen},
        ip,
        where="/manage/language",
        agreed=statements.language_statement(page.lang, chosen),
    )
    return redirect(f"{HOME}?done=changed")


@router.get("/quiet-hours", response_class=HTMLResponse)
async def quiet_hours(page: PageDep, citizen: CitizenDep, found: SubscriptionDep) -> HTMLResponse:
    return questions.quiet_page(page, _flow("quiet-hours"), quiet=as_answers(found).quiet)


@router.post("/quiet-hours", response_model=None)
async def choose_quiet_hours(page: PageDep, citizen: CitizenDep, form: FormDep, ip: IpDep) -> Response:
    quiet = questions.chosen_quiet(page, form)
    if page.errors:
        return questions.quiet_page(page, _flow("quiet-hours"), quiet=quiet)
    answers = SignUp(quiet=quiet)
    await _change(
        page,
        citizen,
        {"quiet_hours": answers.quiet_hours()},
        ip,
        where="/manage/quiet-hours",
        agreed=statements.quiet_sentence(page.lang, quiet),
    )
    return redirect(f"{HOME}?done=changed")


@router.get("/addresses", response_class=HTMLResponse)
async def addresses(page: PageDep, citizen: CitizenDep, found: SubscriptionDep) -> HTMLResponse:
    return page.render(
        "manage_addresses.html",
        h1=page.lang.gettext("Your addresses"),
        addresses=found["addresses"],
        room=len(found["addresses"]) < MAX_ADDRESSES,
    )


@router.post("/addresses", response_model=None)
async def remove_address(
    page: PageDep, citizen: CitizenDep, found: SubscriptionDep, form: FormDep, ip: IpDep
) -> Response:
    kept = [a for a in found["addresses"] if str(a["address_point"]) != text(form, "remove")]
    if kept and len(kept) < len(found["addresses"]):
        body = {"addresses": [{"address_point": a["address_point"], "role": a["role"]} for a in kept]}
        await _change(
            page,
            citizen,
            body,
            ip,
            where="/manage/addresses",
            agreed=statements.addresses_statement(page.lang, [a["label"] for a in kept]),
        )
    return redirect("/manage/addresses")


@router.get("/addresses/add", response_class=HTMLResponse)
async def find_address(
    page: PageDep, citizen: CitizenDep, q: Annotated[str, Query(max_length=200)] = ""
) -> HTMLResponse:
    return await questions.address_page(
        page, Flow("/manage/addresses/add", "/manage/addresses"), query=q.strip()
    )


@router.post("/addresses/add", response_model=None)
async def pick_address(page: PageDep, citizen: CitizenDep, form: FormDep) -> Response:
    found = await questions.chosen_address(page, form)
    if found is None:
        flow = Flow("/manage/addresses/add", "/manage/addresses")
        return await questions.address_page(page, flow, query=text(form, "q"))
    return redirect(f"/manage/addresses/relation?code={found['code']}")


@router.get("/addresses/relation", response_model=None)
async def relation(
    page: PageDep, citizen: CitizenDep, code: Annotated[int, Query(ge=1, le=999_999_999)]
) -> Response:
    found = await page.public_web.registry.address(code)
    if found is None:
        return redirect("/manage/addresses/add")
    flow = Flow(f"/manage/addresses/relation?code={code}", "/manage/addresses/add")
    return questions.relation_page(page, flow, label=found["label"], role=None)


@router.post("/addresses/relation", response_model=None)
async def add_address(
    page: PageDep,
    citizen: CitizenDep,
    form: FormDep,
    ip: IpDep,
    code: Annotated[int, Query(ge=1, le=999_999_999)],
) -> Response:
    registry = page.public_web.registry
    address = await registry.address(code)
    if address is None:
        return redirect("/manage/addresses/add")
    role = questions.chosen_role(page, form)
    if role is None:
        flow = Flow(f"/manage/addresses/relation?code={code}", "/manage/addresses/add")
        return questions.relation_page(page, flow, label=address["label"], role=None)
    found = await registry.subscription(citizen.id, citizen.token)
    kept = [a for a in found["addresses"] if a["address_point"] != code][: MAX_ADDRESSES - 1]
    body = {
        "addresses": [
            *({"address_point": a["address_point"], "role": a["role"]} for a in kept),
            {"address_point": code, "role": role},
        ]
    }
    labels = [a["label"] for a in kept] + [address["label"]]
    await _change(
        page,
        citizen,
        body,
        ip,
        where="/manage/addresses",
        agreed=statements.addresses_statement(page.lang, labels),
    )
    return redirect("/manage/addresses")


def _contacts_page(page: Page, found: Json, entered: Json) -> HTMLResponse:
    contacts = contacts_of(found)
    return page.render(
        "manage_contacts.html",
        h1=page.lang.gettext("How the city reaches you"),
        contacts=contacts,
        removable=len(contacts) > 1,
        entered=entered,
        status_code=422 if page.errors else 200,
    )


@router.get("/contacts", response_class=HTMLResponse)
async def contacts(page: PageDep, citizen: CitizenDep, found: SubscriptionDep) -> HTMLResponse:
    return _contacts_page(page, found, {})


@router.post("/contacts", response_model=None)
async def change_contacts(
    page: PageDep, citizen: CitizenDep, found: SubscriptionDep, form: FormDep, ip: IpDep
) -> Response:
    registry = page.public_web.registry
    removed = text(form, "remove")
    if removed:
        if len(contacts_of(found)) > 1 and removed in {c["id"] for c in contacts_of(found)}:
            await registry.remove_contact(citizen.id, citizen.token, removed)
        return redirect("/manage/contacts")
    entered = {"phone": text(form, "phone", limit=40), "email": text(form, "email", limit=254)}
    added = [
        {"channel": c, "value": entered[n]} for c, n in (("sms", "phone"), ("email", "email")) if entered[n]
    ]
    if not added:
        page.errors["phone"] = page.lang.gettext("Enter a mobile phone number, an e-mail address, or both")
        return _contacts_page(page, found, entered)
    try:
        await registry.update(citizen.id, citizen.token, {"add_contacts": added}, ip=ip)
    except ApiRefused as refused:
        if refused.status != 422:
            raise
        page.errors["phone" if entered["phone"] else "email"] = page.lang.gettext(
            "This is not a phone number or e-mail address the city can send to"
        )
        return _contacts_page(page, found, entered)
    return redirect("/manage/codes")


@router.get("/codes", response_class=HTMLResponse)
async def codes(page: PageDep, citizen: CitizenDep, found: SubscriptionDep) -> HTMLResponse:
    return codes_page(page, contacts_of(found), flow=_flow("codes"), no_code="/manage/no-code")


@router.post("/codes", response_model=None)
async def type_codes(
    page: PageDep, citizen: CitizenDep, found: SubscriptionDep, form: FormDep, ip: IpDep
) -> Response:
    checked = await check_codes(page, citizen.id, citizen.token, contacts_of(found), form, ip)
    if page.errors:
        return codes_page(page, checked, flow=_flow("codes"), no_code="/manage/no-code")
    return redirect("/manage/contacts")


@router.get("/no-code", response_model=None)
async def no_code_question(page: PageDep, citizen: CitizenDep, found: SubscriptionDep) -> Response:
    return no_code_page(page, contacts_of(found), action="/manage/no-code", back="/manage/codes")


@router.post("/no-code", response_model=None)
async def send_again(
    page: PageDep, citizen: CitizenDep, found: SubscriptionDep, form: FormDep, ip: IpDep
) -> Response:
    done = await no_code_acted(page, citizen.id, citizen.token, contacts_of(found), form, ip)
    if done is None:
        return no_code_page(page, contacts_of(found), action="/manage/no-code", back="/manage/codes")
    return redirect("/manage/codes?sent=1")


@router.get("/stop", response_class=HTMLResponse)
async def stop_page(page: PageDep, citizen: CitizenDep) -> HTMLResponse:
    return page.render("stop.html", h1=page.lang.gettext("Stop the city's messages"))


@router.post("/stop", response_model=None)
async def stop(page: PageDep, citizen: CitizenDep, form: FormDep, ip: IpDep) -> Response:
    await _change(
        page,
        citizen,
        {"categories": []},
        ip,
        where="/manage/stop",
        agreed=statements.categories_statement(page.lang, []),
    )
    return redirect(f"{HOME}?done=stopped")


@router.get("/messages", response_class=HTMLResponse)
async def messages(page: PageDep, citizen: CitizenDep) -> HTMLResponse:
    found = await page.public_web.registry.messages(citizen.id, citizen.token)
    return page.render(
        "messages.html",
        h1=page.lang.gettext("Messages the city sent you"),
        messages=found["messages"],
        kept_for_days=found.get("kept_for_days"),
    )


@router.get("/export")
async def export(page: PageDep, citizen: CitizenDep) -> Response:
    """Everything held about the citizen, as the registry gives it (GDPR article 15), to save."""
    found = await page.public_web.registry.export(citizen.id, citizen.token)
    return Response(
        json.dumps(found, ensure_ascii=False, indent=2),
        media_type="application/json",
        headers={"Content-Disposition": 'attachment; filename="hlasatel-my-data.json"'},
    )


@router.get("/erase", response_class=HTMLResponse)
async def erase_page(page: PageDep, citizen: CitizenDep) -> HTMLResponse:
    return page.render("erase.html", h1=page.lang.gettext("Delete everything about you"), status_code=200)


@router.post("/erase", response_model=None)
async def erase(page: PageDep, citizen: CitizenDep, form: FormDep) -> Response:
    if text(form, "confirm") != "yes":
        page.errors["confirm"] = page.lang.gettext("Tick the box to confirm that everything is deleted")
        return page.render("erase.html", h1=page.lang.gettext("Delete everything about you"), status_code=422)
    await page.public_web.registry.erase(citizen.id, citizen.token)
    return forget(redirect("/manage/erased"), SESSION_COOKIE)


@router.get("/erased", response_class=HTMLResponse)
async def erased(page: PageDep) -> HTMLResponse:
    return page.render("erased.html", h1=page.lang.gettext("Everything about you was deleted"))
