"""What every page of Hlasatel's web applications must be, checked on its HTML in their unit tests: valid,
one h1 that starts its title, a label for every field, a CSRF token in every form that posts (but those
the page names, whose link is their proof), scripts only with the page's nonce, no inline event handlers
or styles, nothing loaded from or posted to another origin (a link may lead there)."""

import re
from dataclasses import dataclass
from typing import Any
from xml.etree.ElementTree import Element

import html5lib
import httpx

NS = "{http://www.w3.org/1999/xhtml}"


@dataclass
class Checked:
    tree: Element
    title: str
    h1: str

    def text(self) -> str:
        return " ".join("".join(self.tree.itertext()).split())


def _all(tree: Element, tag: str) -> list[Element]:
    return list(tree.iter(NS + tag))


def _text(element: Element) -> str:
    return " ".join("".join(element.itertext()).split())


def check_page(answer: httpx.Response, *, without_csrf: tuple[str, ...] = ()) -> Checked:
    """The page's problems as an AssertionError naming them; the parsed page otherwise. Forms posting to
    a path that starts with one of `without_csrf` need no CSRF token."""
    assert answer.headers["content-type"].startswith("text/html"), answer.headers["content-type"]
    parser = html5lib.HTMLParser(strict=True, namespaceHTMLElements=True)
    tree = parser.parse(answer.text)
    problems: list[str] = []
    headings = _all(tree, "h1")
    titles = _all(tree, "title")
    if len(headings) != 1:
        problems.append(f"{len(headings)} h1 elements")
    h1 = _text(headings[0]) if headings else ""
    title = _text(titles[0]) if titles else ""
    if not title.startswith(h1) or not h1:
        problems.append(f"the title {title!r} does not start with the h1 {h1!r}")
    root = tree if tree.tag == NS + "html" else next(iter(_all(tree, "html")))
    if not root.get("lang"):
        problems.append("no lang on <html>")
    ids = [element.get("id") for element in tree.iter() if element.get("id")]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        problems.append(f"ids used twice: {duplicates}")
    labelled = {label.get("for") for label in _all(tree, "label")}
    for tag in ("input", "select", "textarea"):
        for field in _all(tree, tag):
            if field.get("type") in ("hidden", "submit", "button"):
                continue
            if field.get("id") not in labelled and not field.get("aria-label"):
                problems.append(f"<{tag} name={field.get('name')!r}> has no label")
    for form in _all(tree, "form"):
        if (form.get("method") or "get").lower() == "post" and not (form.get("action") or "").startswith(
            without_csrf or ("\0",)
        ):
            tokens = [i for i in _all(form, "input") if i.get("name") == "csrf_token" and i.get("value")]
            if not tokens:
                problems.append(f"the form posting to {form.get('action')!r} has no CSRF token")
    policy = answer.headers.get("content-security-policy", "")
    nonce = re.search(r"'nonce-([^']+)'", policy)
    if nonce is None:
        problems.append("no Content-Security-Policy with a nonce")
    for script in _all(tree, "script"):
        if nonce is None or script.get("nonce") != nonce[1]:
            problems.append(f"a script without the page's nonce: {script.get('src')}")
        if not script.get("src"):
            problems.append("an inline script")
    for element in tree.iter():
        for attribute, value in element.attrib.items():
            if attribute.lower().startswith("on"):
                problems.append(f"an inline event handler {attribute} on <{element.tag.removeprefix(NS)}>")
            if attribute.lower() == "style":
                problems.append(f"an inline style on <{element.tag.removeprefix(NS)}>")
            # a link may lead to another site; what the page loads or posts to may not
            is_link = element.tag == NS + "a" and attribute == "href"
            if attribute in ("src", "href", "action") and not is_link and re.match(r"^(https?:)?//", value):
                problems.append(f"a resource from elsewhere: {attribute}={value}")
    assert not problems, "\n".join(problems)
    return Checked(tree=tree, title=title, h1=h1)


class Browser:
    """A client that keeps cookies as a browser does and reads the CSRF token from the page it was given;
    before its first form it opens `form_page`, which has one."""

    def __init__(self, client: httpx.AsyncClient, *, form_page: str) -> None:
        self.client = client
        self.form_page = form_page
        self.csrf = ""

    async def get(self, path: str, **kwargs: Any) -> httpx.Response:
        answer = await self.client.get(path, **kwargs)
        found = re.search(r'name="csrf_token" value="([0-9a-f]+)"', answer.text)
        if found:
            self.csrf = found[1]
        return answer

    async def post(
        self, path: str, data: dict[str, Any] | list[tuple[str, str]] | None = None, *, csrf: bool = True
    ) -> httpx.Response:
        """The form as a browser posts it: with the page's CSRF token unless `csrf` is False, a list for a
        field given several times."""
        if csrf and not self.csrf:
            await self.get(self.form_page)
        pairs = list(data.items()) if isinstance(data, dict) else list(data or [])
        fields: dict[str, list[str]] = {"csrf_token": [self.csrf]} if csrf else {}
        for name, value in pairs:
            fields.setdefault(name, []).extend(value if isinstance(value, list) else [value])
        return await self.client.post(path, data=fields)

    async def follow(self, path: str, data: dict[str, Any] | None = None) -> httpx.Response:
        """Post the form, then open the page it sends the reader to, as a browser does."""
        answer = await self.post(path, data)
        if answer.status_code == 303:
            return await self.get(answer.headers["location"])
        return answer
