"""Sign up, one question a page: the address (from the register), the relation to it, how to reach you,
the codes, what you want, the language, quiet hours, the answers checked, and what happens now. The
registry holds the subscription from the contacts' page on (the codes need it); until the answers are
checked it receives only emergencies at its addresses, which the contacts' page says. Each consent
record keeps the page and the words agreed to."""

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from hlasatel_public_web.container import PublicWeb
from hlasatel_public_web.domain.answers import MAX_ADDRESSES, SignUp
from hlasatel_public_web.entrypoints import questions
from hlasatel_public_web.entrypoints.codes import check_codes, codes_page, no_code_acted, no_code_page
from hlasatel_public_web.entrypoints.questions import Flow
from hlasatel_public_web.entrypoints.statements import contacts_statement, subscription_statement
from hlasatel_public_web.entrypoints.web import (
    SIGN_UP_COOKIE,
    FormDep,
    IpDep,
    Page,
    PageDep,
    PublicWebDep,
    forget,
    keep,
    redirect,
    text,
)
from hlasatel_web.api import ApiRefused

router = APIRouter(prefix="/sign-up")
Json = dict[str, Any]


def answers_of(request: Request, public_web: PublicWeb) -> SignUp:
    return SignUp.of(public_web.sign_up.unseal(request.cookies.get(SIGN_UP_COOKIE)))


def _kept(response: Response, public_web: PublicWeb, answers: SignUp) -> Response:
    minutes = public_web.settings.sign_up_minutes
    return keep(
        response,
        SIGN_UP_COOKIE,
        public_web.sign_up.seal(answers.sealed(), ttl_s=minutes * 60),
        minutes=minutes,
    )


def _next(public_web: PublicWeb, answers: SignUp) -> Response:
    return _kept(redirect(f"/sign-up/{answers.next_step()}"), public_web, answers)


def _flow(step: str, back: str) -> Flow:
    return Flow(action=f"/sign-up/{step}", back=back)


@router.get("", response_class=HTMLResponse)
async def start(request: Request, page: PageDep, public_web: PublicWebDep) -> HTMLResponse:
    answers = answers_of(request, public_web)
    begun = answers.addresses or answers.pending or answers.registered
    return page.render(
        "start.html",
        h1=page.lang.gettext("Get the city's messages about your address"),
        resume=f"/sign-up/{answers.next_step()}" if begun else None,
    )


@router.post("/again")
async def start_again(form: FormDep) -> Response:
    return forget(redirect("/sign-up/address"), SIGN_UP_COOKIE)


@router.get("/address", response_model=None)
async def address(
    request: Request,
    page: PageDep,
    public_web: PublicWebDep,
    q: Annotated[str, Query(max_length=200)] = "",
    code: Annotated[int | None, Query(ge=1, le=999_999_999)] = None,
) -> Response:
    answers = answers_of(request, public_web)
    if not answers.may_visit("address"):
        return redirect(f"/sign-up/{answers.next_step()}")
    if code is not None:
        # from "what concerns my house": that address, already chosen
        found = await public_web.registry.address(code)
        if found is not None:
            answers.pending = {"code": found["code"], "label": found["label"]}
            return _next(public_web, answers)
    back = "/sign-up/addresses" if answers.addresses else "/sign-up"
    return await questions.address_page(page, _flow("address", back), query=q.strip())


@router.post("/address", response_model=None)
async def choose_address(
    request: Request, page: PageDep, public_web: PublicWebDep, form: FormDep
) -> Response:
    answers = answers_of(request, public_web)
    if not answers.may_visit("address"):
        return redirect(f"/sign-up/{answers.next_step()}")
    found = await questions.chosen_address(page, form)
    if len(answers.addresses) >= MAX_ADDRESSES:
        page.errors["address_point"] = page.lang.gettext("You can add up to 10 addresses")
    if found is None or page.errors:
        return await questions.address_page(page, _flow("address", "/sign-up"), query=text(form, "q"))
    answers.pending = {"code": found["code"], "label": found["label"]}
    return _next(public_web, answers)


@router.get("/not-listed", response_class=HTMLResponse)
async def not_listed(page: PageDep) -> HTMLResponse:
    return page.render("not_listed.html", h1=page.lang.gettext("If your address is not listed"))


@router.get("/relation", response_model=None)
async def relation(request: Request, page: PageDep, public_web: PublicWebDep) -> Response:
    answers = answers_of(request, public_web)
    if answers.pending is None or not answers.may_visit("relation"):
        return redirect(f"/sign-up/{answers.next_step()}")
    return questions.relation_page(
        page, _flow("relation", "/sign-up/address"), label=answers.pending["label"], role=None
    )


@router.post("/relation", response_model=None)
async def choose_relation(
    request: Request, page: PageDep, public_web: PublicWebDep, form: FormDep
) -> Response:
    answers = answers_of(request, public_web)
    if answers.pending is None or not answers.may_visit("relation"):
        return redirect(f"/sign-up/{answers.next_step()}")
    role = questions.chosen_role(page, form)
    if role is None:
        flow = _flow("relation", "/sign-up/address")
        return questions.relation_page(page, flow, label=answers.pending["label"], role=None)
    answers.add_address(role)
    return _next(public_web, answers)


def _addresses_page(page: Page, answers: SignUp) -> HTMLResponse:
    return page.render(
        "addresses.html",
        h1=page.lang.gettext("Your addresses"),
        addresses=answers.addresses,
        room=len(answers.addresses) < MAX_ADDRESSES,
        status_code=422 if page.errors else 200,
    )


@router.get("/addresses", response_model=None)
async def addresses(request: Request, page: PageDep, public_web: PublicWebDep) -> Response:
    answers = answers_of(request, public_web)
    if not answers.addresses or not answers.may_visit("addresses"):
        return redirect(f"/sign-up/{answers.next_step()}")
    return _addresses_page(page, answers)


@router.post("/addresses", response_model=None)
async def more_addresses(
    request: Request, page: PageDep, public_web: PublicWebDep, form: FormDep
) -> Response:
    answers = answers_of(request, public_web)
    if not answers.may_visit("addresses"):
        return redirect(f"/sign-up/{answers.next_step()}")
    removed = text(form, "remove")
    if removed.isdigit():
        answers.remove_address(int(removed))
        return _kept(
            redirect("/sign-up/addresses" if answers.addresses else "/sign-up/address"), public_web, answers
        )
    more = text(form, "more")
    if more not in ("yes", "no"):
        page.errors["more"] = page.lang.gettext("Choose whether you want to add another address")
        return _addresses_page(page, answers)
    if more == "yes":
        return _kept(redirect("/sign-up/address"), public_web, answers)
    answers.more_addresses = False
    return _next(public_web, answers)


def _contacts_page(page: Page, answers: SignUp, entered: dict[str, str]) -> HTMLResponse:
    return page.render(
        "contacts.html",
        h1=page.lang.gettext("How should the city reach you?"),
        entered=entered,
        statement=contacts_statement(page.lang),
        status_code=422 if page.errors else 200,
    )


@router.get("/contacts", response_model=None)
async def contacts(request: Request, page: PageDep, public_web: PublicWebDep) -> Response:
    answers = answers_of(request, public_web)
    if not answers.may_visit("contacts"):
        return redirect(f"/sign-up/{answers.next_step()}")
    return _contacts_page(page, answers, {"phone": "", "email": ""})


@router.post("/contacts", response_model=None)
async def give_contacts(
    request: Request, page: PageDep, public_web: PublicWebDep, form: FormDep, ip: IpDep
) -> Response:
    answers = answers_of(request, public_web)
    if not answers.may_visit("contacts"):
        return redirect(f"/sign-up/{answers.next_step()}")
    entered = {"phone": text(form, "phone", limit=40), "email": text(form, "email", limit=254)}
    given = [("sms", "phone"), ("email", "email")]
    wanted = [(channel, name) for channel, name in given if entered[name]]
    if not wanted:
        page.errors["phone"] = page.lang.gettext("Enter a mobile phone number, an e-mail address, or both")
        return _contacts_page(page, answers, entered)
    body = {
        "addresses": [{"address_point": a["code"], "role": a["role"]} for a in answers.addresses],
        "contacts": [{"channel": channel, "value": entered[name]} for channel, name in wanted],
        "language": page.lang.code,
        # until the answers are checked: emergencies at the addresses only
        "categories": [],
        "consent": {"page": "/sign-up/contacts", "statement": contacts_statement(page.lang)},
    }
    try:
        created = await public_web.registry.register(body, ip=ip)
    except ApiRefused as refused:
        if refused.status == 422 and refused.fields:
            for where, message in refused.fields.items():
                index = where.split(".")[1] if where.startswith("contacts.") else None
                name = wanted[int(index)][1] if index is not None and index.isdigit() else "form"
                page.errors[name] = _contact_problem(page, name, message)
        else:
            questions.registry_refusal(page, refused)
        return _contacts_page(page, answers, entered)
    answers.subscriber_id, answers.token = str(created["id"]), str(created["access_token"])
    answers.contacts = [
        {"id": str(c["id"]), "channel": c["channel"], "value": c["value"], "verified": bool(c["verified"])}
        for c in created["contacts"]
    ]
    return _next(public_web, answers)


def _contact_problem(page: Page, name: str, reason: str) -> str:
    _ = page.lang.gettext
    if "not accepted" in reason:
        return _("The city sends SMS to Czech and Slovak numbers only")
    if name == "phone":
        return _("Enter a mobile phone number, like 777 123 456 or +420 777 123 456")
    return _("Enter an e-mail address, like jana.novakova@example.cz")


@router.get("/codes", response_model=None)
async def codes(request: Request, page: PageDep, public_web: PublicWebDep) -> Response:
    answers = answers_of(request, public_web)
    if not answers.registered:
        return redirect(f"/sign-up/{answers.next_step()}")
    return codes_page(page, answers.contacts, flow=_flow("codes", "/sign-up"), no_code="/sign-up/no-code")


@router.post("/codes", response_model=None)
async def type_codes(
    request: Request, page: PageDep, public_web: PublicWebDep, form: FormDep, ip: IpDep
) -> Response:
    answers = answers_of(request, public_web)
    if not answers.registered:
        return redirect(f"/sign-up/{answers.next_step()}")
    assert answers.subscriber_id is not None and answers.token is not None
    answers.contacts = await check_codes(
        page, answers.subscriber_id, answers.token, answers.contacts, form, ip
    )
    if page.errors or not answers.verified:
        page.errors.setdefault("form", page.lang.gettext("Enter every code"))
        response = codes_page(
            page, answers.contacts, flow=_flow("codes", "/sign-up"), no_code="/sign-up/no-code"
        )
        return _kept(response, public_web, answers)
    return _next(public_web, answers)


@router.get("/no-code", response_model=None)
async def no_code_question(request: Request, page: PageDep, public_web: PublicWebDep) -> Response:
    answers = answers_of(request, public_web)
    if not answers.registered:
        return redirect(f"/sign-up/{answers.next_step()}")
    assert answers.subscriber_id is not None and answers.token is not None
    return no_code_page(page, answers.contacts, action="/sign-up/no-code", back="/sign-up/codes")


@router.post("/no-code", response_model=None)
async def send_again(
    request: Request, page: PageDep, public_web: PublicWebDep, form: FormDep, ip: IpDep
) -> Response:
    answers = answers_of(request, public_web)
    if not answers.registered:
        return redirect(f"/sign-up/{answers.next_step()}")
    assert answers.subscriber_id is not None and answers.token is not None
    done = await no_code_acted(page, answers.subscriber_id, answers.token, answers.contacts, form, ip)
    if done is None:
        return no_code_page(page, answers.contacts, action="/sign-up/no-code", back="/sign-up/codes")
    answers.contacts = done
    return _kept(redirect("/sign-up/codes?sent=1"), public_web, answers)


@router.get("/categories", response_model=None)
async def categories(request: Request, page: PageDep, public_web: PublicWebDep) -> Response:
    answers = answers_of(request, public_web)
    if not answers.may_visit("categories"):
        return redirect(f"/sign-up/{answers.next_step()}")
    return questions.categories_page(page, _flow("categories", "/sign-up/codes"), chosen=answers.categories)


@router.post("/categories", response_model=None)
async def choose_categories(request: Request, public_web: PublicWebDep, form: FormDep) -> Response:
    answers = answers_of(request, public_web)
    if not answers.may_visit("categories"):
        return redirect(f"/sign-up/{answers.next_step()}")
    answers.categories = questions.chosen_categories(form)
    return _next(public_web, answers)


@router.get("/language", response_model=None)
async def language(request: Request, page: PageDep, public_web: PublicWebDep) -> Response:
    answers = answers_of(request, public_web)
    if not answers.may_visit("language"):
        return redirect(f"/sign-up/{answers.next_step()}")
    return questions.language_page(page, _flow("language", "/sign-up/categories"), chosen=answers.language)


@router.post("/language", response_model=None)
async def choose_language(
    request: Request, page: PageDep, public_web: PublicWebDep, form: FormDep
) -> Response:
    answers = answers_of(request, public_web)
    if not answers.may_visit("language"):
        return redirect(f"/sign-up/{answers.next_step()}")
    chosen = questions.chosen_language(page, form)
    if chosen is None:
        return questions.language_page(page, _flow("language", "/sign-up/categories"), chosen=None)
    answers.language = chosen
    return _next(public_web, answers)


@router.get("/quiet-hours", response_model=None)
async def quiet_hours(request: Request, page: PageDep, public_web: PublicWebDep) -> Response:
    answers = answers_of(request, public_web)
    if not answers.may_visit("quiet-hours"):
        return redirect(f"/sign-up/{answers.next_step()}")
    return questions.quiet_page(page, _flow("quiet-hours", "/sign-up/language"), quiet=answers.quiet)


@router.post("/quiet-hours", response_model=None)
async def choose_quiet_hours(
    request: Request, page: PageDep, public_web: PublicWebDep, form: FormDep
) -> Response:
    answers = answers_of(request, public_web)
    if not answers.may_visit("quiet-hours"):
        return redirect(f"/sign-up/{answers.next_step()}")
    quiet = questions.chosen_quiet(page, form)
    if page.errors:
        return questions.quiet_page(page, _flow("quiet-hours", "/sign-up/language"), quiet=quiet)
    answers.quiet = quiet
    return _next(public_web, answers)


def _check_page(page: Page, answers: SignUp) -> HTMLResponse:
    return page.render(
        "check.html",
        h1=page.lang.gettext("Check your answers"),
        answers=answers,
        statement=subscription_statement(page.lang, answers),
        status_code=422 if page.errors else 200,
    )


@router.get("/check", response_model=None)
async def check(request: Request, page: PageDep, public_web: PublicWebDep) -> Response:
    answers = answers_of(request, public_web)
    if answers.next_step() != "check":
        return redirect(f"/sign-up/{answers.next_step()}")
    return _check_page(page, answers)


@router.post("/check", response_model=None)
async def agree(
    request: Request, page: PageDep, public_web: PublicWebDep, form: FormDep, ip: IpDep
) -> Response:
    answers = answers_of(request, public_web)
    if answers.next_step() != "check":
        return redirect(f"/sign-up/{answers.next_step()}")
    assert answers.subscriber_id is not None and answers.token is not None
    body = {
        "categories": answers.categories,
        "language": answers.language,
        "quiet_hours": answers.quiet_hours(),
        "consent": {"page": "/sign-up/check", "statement": subscription_statement(page.lang, answers)},
    }
    try:
        await public_web.registry.update(answers.subscriber_id, answers.token, body, ip=ip)
    except ApiRefused as refused:
        questions.registry_refusal(page, refused)
        return _check_page(page, answers)
    answers.agreed = True
    return _kept(redirect("/sign-up/done"), public_web, answers)


@router.get("/done", response_model=None)
async def done(request: Request, page: PageDep, public_web: PublicWebDep) -> Response:
    """What the citizen will receive and how to stop it; the answers leave the browser now."""
    answers = answers_of(request, public_web)
    if not answers.agreed:
        return redirect("/sign-up")
    response = page.render("done.html", h1=page.lang.gettext("You are subscribed"), answers=answers)
    return forget(response, SIGN_UP_COOKIE)
