"""Sign up, one question a page: the address (from the register), the relation to it, how to reach you,
the codes, what you want, the language, quiet hours, the answers checked, and what happens now. The
registry holds the subscription from the contacts' page on (the codes need it); until the answers are
checked it receives only emergencies at its addresses, which the contacts' page says. Each consent
record keeps the page and the words agreed to. A question asked out of turn sends the reader to the first
one not answered."""

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
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


class OutOfTurn(Exception):
    """A question whose turn has not come (or has passed): the reader goes to the first one unanswered."""

    def __init__(self, step: str) -> None:
        super().__init__(step)
        self.url = f"/sign-up/{step}"


@dataclass
class Answers:
    """The sign-up's answers as this request found them in the browser, and the way to keep them there."""

    now: SignUp
    public_web: PublicWeb

    def kept(self, response: Response) -> Response:
        minutes = self.public_web.settings.sign_up_minutes
        sealed = self.public_web.sign_up.seal(self.now.sealed(), ttl_s=minutes * 60)
        return keep(response, SIGN_UP_COOKIE, sealed, minutes=minutes)

    def next(self) -> Response:
        """On to the first question not answered, the answers kept."""
        return self.kept(redirect(f"/sign-up/{self.now.next_step()}"))

    @property
    def registration(self) -> tuple[str, str]:
        """The subscription's id and access token, once the registry holds it."""
        assert self.now.subscriber_id is not None and self.now.token is not None
        return self.now.subscriber_id, self.now.token


def answers_of(request: Request, public_web: PublicWeb) -> Answers:
    sealed = public_web.sign_up.unseal(request.cookies.get(SIGN_UP_COOKIE))
    return Answers(now=SignUp.of(sealed), public_web=public_web)


def asking(step: str) -> Any:
    """A dependency: the answers, once `step` may be asked."""

    def answers(request: Request, public_web: PublicWebDep) -> Answers:
        found = answers_of(request, public_web)
        if not found.now.may_visit(step):
            raise OutOfTurn(found.now.next_step())
        return found

    return Depends(answers)


def _flow(step: str, back: str) -> Flow:
    return Flow(action=f"/sign-up/{step}", back=back)


@router.get("", response_class=HTMLResponse)
async def start(request: Request, page: PageDep, public_web: PublicWebDep) -> HTMLResponse:
    answers = answers_of(request, public_web).now
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
    page: PageDep,
    answers: Annotated[Answers, asking("address")],
    q: Annotated[str, Query(max_length=200)] = "",
    code: Annotated[int | None, Query(ge=1, le=999_999_999)] = None,
) -> Response:
    if code is not None:
        # from "what concerns my house": that address, already chosen
        found = await page.public_web.registry.address(code)
        if found is not None:
            answers.now.pending = {"code": found["code"], "label": found["label"]}
            return answers.next()
    back = "/sign-up/addresses" if answers.now.addresses else "/sign-up"
    return await questions.address_page(page, _flow("address", back), query=q.strip())


@router.post("/address", response_model=None)
async def choose_address(
    page: PageDep, answers: Annotated[Answers, asking("address")], form: FormDep
) -> Response:
    found = await questions.chosen_address(page, form)
    if len(answers.now.addresses) >= MAX_ADDRESSES:
        page.errors["address_point"] = page.lang.gettext("You can add up to 10 addresses")
    if found is None or page.errors:
        return await questions.address_page(page, _flow("address", "/sign-up"), query=text(form, "q"))
    answers.now.pending = {"code": found["code"], "label": found["label"]}
    return answers.next()


@router.get("/not-listed", response_class=HTMLResponse)
async def not_listed(page: PageDep) -> HTMLResponse:
    return page.render("not_listed.html", h1=page.lang.gettext("If your address is not listed"))


def _relation_page(page: Page, answers: Answers) -> HTMLResponse:
    assert answers.now.pending is not None
    flow = _flow("relation", "/sign-up/address")
    return questions.relation_page(page, flow, label=answers.now.pending["label"], role=None)


@router.get("/relation", response_class=HTMLResponse)
async def relation(page: PageDep, answers: Annotated[Answers, asking("relation")]) -> HTMLResponse:
    return _relation_page(page, answers)


@router.post("/relation", response_model=None)
async def choose_relation(
    page: PageDep, answers: Annotated[Answers, asking("relation")], form: FormDep
) -> Response:
    role = questions.chosen_role(page, form)
    if role is None:
        return _relation_page(page, answers)
    answers.now.add_address(role)
    return answers.next()


def _addresses_page(page: Page, answers: Answers) -> HTMLResponse:
    return page.render(
        "addresses.html",
        h1=page.lang.gettext("Your addresses"),
        addresses=answers.now.addresses,
        room=len(answers.now.addresses) < MAX_ADDRESSES,
        status_code=422 if page.errors else 200,
    )


@router.get("/addresses", response_class=HTMLResponse)
async def addresses(page: PageDep, answers: Annotated[Answers, asking("addresses")]) -> HTMLResponse:
    return _addresses_page(page, answers)


@router.post("/addresses", response_model=None)
async def more_addresses(
    page: PageDep, answers: Annotated[Answers, asking("addresses")], form: FormDep
) -> Response:
    removed = text(form, "remove")
    if removed.isdigit():
        answers.now.remove_address(int(removed))
        return answers.kept(redirect("/sign-up/addresses" if answers.now.addresses else "/sign-up/address"))
    more = text(form, "more")
    if more not in ("yes", "no"):
        page.errors["more"] = page.lang.gettext("Choose whether you want to add another address")
        return _addresses_page(page, answers)
    if more == "yes":
        return answers.kept(redirect("/sign-up/address"))
    answers.now.more_addresses = False
    return answers.next()


def _contacts_page(page: Page, entered: dict[str, str]) -> HTMLResponse:
    return page.render(
        "contacts.html",
        h1=page.lang.gettext("How should the city reach you?"),
        entered=entered,
        statement=contacts_statement(page.lang),
        status_code=422 if page.errors else 200,
    )


@router.get("/contacts", response_class=HTMLResponse)
async def contacts(page: PageDep, answers: Annotated[Answers, asking("contacts")]) -> HTMLResponse:
    return _contacts_page(page, {"phone": "", "email": ""})


@router.post("/contacts", response_model=None)
async def give_contacts(
    page: PageDep, answers: Annotated[Answers, asking("contacts")], form: FormDep, ip: IpDep
) -> Response:
    entered = {"phone": text(form, "phone", limit=40), "email": text(form, "email", limit=254)}
    wanted = [(channel, name) for channel, name in (("sms", "phone"), ("email", "email")) if entered[name]]
    if not wanted:
        page.errors["phone"] = page.lang.gettext("Enter a mobile phone number, an e-mail address, or both")
        return _contacts_page(page, entered)
    body = {
        "addresses": [{"address_point": a["code"], "role": a["role"]} for a in answers.now.addresses],
        "contacts": [{"channel": channel, "value": entered[name]} for channel, name in wanted],
        "language": page.lang.code,
        # until the answers are checked: emergencies at the addresses only
        "categories": [],
        "consent": {"page": "/sign-up/contacts", "statement": contacts_statement(page.lang)},
    }
    try:
        created = await page.public_web.registry.register(body, ip=ip)
    except ApiRefused as refused:
        _contact_refusal(page, refused, [name for _, name in wanted])
        return _contacts_page(page, entered)
    answers.now.subscriber_id, answers.now.token = str(created["id"]), str(created["access_token"])
    answers.now.contacts = [
        {"id": str(c["id"]), "channel": c["channel"], "value": c["value"], "verified": bool(c["verified"])}
        for c in created["contacts"]
    ]
    return answers.next()


def _contact_refusal(page: Page, refused: ApiRefused, names: list[str]) -> None:
    """The registry's refusal at the field it names, in the reader's words."""
    if refused.status != 422 or not refused.fields:
        questions.registry_refusal(page, refused)
        return
    _ = page.lang.gettext
    for where, reason in refused.fields.items():
        index = where.split(".")[1] if where.startswith("contacts.") else ""
        name = names[int(index)] if index.isdigit() and int(index) < len(names) else "form"
        if "not accepted" in reason:
            page.errors[name] = _("The city sends SMS to Czech and Slovak numbers only")
        elif name == "phone":
            page.errors[name] = _("Enter a mobile phone number, like 777 123 456 or +420 777 123 456")
        else:
            page.errors[name] = _("Enter an e-mail address, like jana.novakova@example.cz")


def _codes_page(page: Page, answers: Answers) -> HTMLResponse:
    return codes_page(page, answers.now.contacts, flow=_flow("codes", "/sign-up"), no_code="/sign-up/no-code")


@router.get("/codes", response_class=HTMLResponse)
async def codes(page: PageDep, answers: Annotated[Answers, asking("codes")]) -> HTMLResponse:
    return _codes_page(page, answers)


@router.post("/codes", response_model=None)
async def type_codes(
    page: PageDep, answers: Annotated[Answers, asking("codes")], form: FormDep, ip: IpDep
) -> Response:
    subscriber_id, token = answers.registration
    answers.now.contacts = await check_codes(page, subscriber_id, token, answers.now.contacts, form, ip)
    if page.errors or not answers.now.verified:
        page.errors.setdefault("form", page.lang.gettext("Enter every code"))
        return answers.kept(_codes_page(page, answers))
    return answers.next()


@router.get("/no-code", response_class=HTMLResponse)
async def no_code_question(page: PageDep, answers: Annotated[Answers, asking("no-code")]) -> HTMLResponse:
    return no_code_page(page, answers.now.contacts, action="/sign-up/no-code", back="/sign-up/codes")


@router.post("/no-code", response_model=None)
async def send_again(
    page: PageDep, answers: Annotated[Answers, asking("no-code")], form: FormDep, ip: IpDep
) -> Response:
    subscriber_id, token = answers.registration
    done = await no_code_acted(page, subscriber_id, token, answers.now.contacts, form, ip)
    if done is None:
        return no_code_page(page, answers.now.contacts, action="/sign-up/no-code", back="/sign-up/codes")
    answers.now.contacts = done
    return answers.kept(redirect("/sign-up/codes?sent=1"))


@router.get("/categories", response_class=HTMLResponse)
async def categories(page: PageDep, answers: Annotated[Answers, asking("categories")]) -> HTMLResponse:
    flow = _flow("categories", "/sign-up/codes")
    return questions.categories_page(page, flow, chosen=answers.now.categories)


@router.post("/categories", response_model=None)
async def choose_categories(answers: Annotated[Answers, asking("categories")], form: FormDep) -> Response:
    answers.now.categories = questions.chosen_categories(form)
    return answers.next()


@router.get("/language", response_class=HTMLResponse)
async def language(page: PageDep, answers: Annotated[Answers, asking("language")]) -> HTMLResponse:
    return questions.language_page(
        page, _flow("language", "/sign-up/categories"), chosen=answers.now.language
    )


@router.post("/language", response_model=None)
async def choose_language(
    page: PageDep, answers: Annotated[Answers, asking("language")], form: FormDep
) -> Response:
    chosen = questions.chosen_language(page, form)
    if chosen is None:
        return questions.language_page(page, _flow("language", "/sign-up/categories"), chosen=None)
    answers.now.language = chosen
    return answers.next()


@router.get("/quiet-hours", response_class=HTMLResponse)
async def quiet_hours(page: PageDep, answers: Annotated[Answers, asking("quiet-hours")]) -> HTMLResponse:
    return questions.quiet_page(page, _flow("quiet-hours", "/sign-up/language"), quiet=answers.now.quiet)


@router.post("/quiet-hours", response_model=None)
async def choose_quiet_hours(
    page: PageDep, answers: Annotated[Answers, asking("quiet-hours")], form: FormDep
) -> Response:
    quiet = questions.chosen_quiet(page, form)
    if page.errors:
        return questions.quiet_page(page, _flow("quiet-hours", "/sign-up/language"), quiet=quiet)
    answers.now.quiet = quiet
    return answers.next()


def _check_page(page: Page, answers: Answers) -> HTMLResponse:
    return page.render(
        "check.html",
        h1=page.lang.gettext("Check your answers"),
        answers=answers.now,
        statement=subscription_statement(page.lang, answers.now),
        status_code=422 if page.errors else 200,
    )


@router.get("/check", response_class=HTMLResponse)
async def check(page: PageDep, answers: Annotated[Answers, asking("check")]) -> HTMLResponse:
    return _check_page(page, answers)


@router.post("/check", response_model=None)
async def agree(
    page: PageDep, answers: Annotated[Answers, asking("check")], form: FormDep, ip: IpDep
) -> Response:
    subscriber_id, token = answers.registration
    body = {
        "categories": answers.now.categories,
        "language": answers.now.language,
        "quiet_hours": answers.now.quiet_hours(),
        "consent": {"page": "/sign-up/check", "statement": subscription_statement(page.lang, answers.now)},
    }
    try:
        await page.public_web.registry.update(subscriber_id, token, body, ip=ip)
    except ApiRefused as refused:
        questions.registry_refusal(page, refused)
        return _check_page(page, answers)
    answers.now.agreed = True
    return answers.kept(redirect("/sign-up/done"))


@router.get("/done", response_class=HTMLResponse)
async def done(page: PageDep, answers: Annotated[Answers, asking("done")]) -> HTMLResponse:
    """What the citizen will receive and how to stop it; the answers leave the browser now."""
    response = page.render("done.html", h1=page.lang.gettext("You are subscribed"), answers=answers.now)
    forget(response, SIGN_UP_COOKIE)
    return response
