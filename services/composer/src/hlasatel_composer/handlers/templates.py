"""The alert templates: read by editors, changed and reset by admins, each checked before it is kept."""

from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hlasatel_composer.adapters import access
from hlasatel_composer.adapters import alerts as store
from hlasatel_composer.adapters.renderer import TemplateRenderer
from hlasatel_composer.domain.access import Principal, Role, require
from hlasatel_composer.domain.template_defaults import title
from hlasatel_composer.domain.templates import AlertKind, Facts, Hazard, TemplateText, period
from hlasatel_composer.schemas import TemplateRead
from hlasatel_contracts import Language


def example_facts(language: Language) -> Facts:
    """A water outage on Masarykova with a wind warning: what a template is tried on before it is kept."""
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=1)
    end = start + timedelta(hours=6)
    return Facts(
        title=title(language, "water"),
        period=period(start, end, language),
        places="Masarykova 1-25, Husova",
        sender="Severočeská vodárenská",
        reason="oprava vodovodního řadu",
        contact="840 111 111",
        warnings=(
            Hazard(
                event="Silný vítr",
                severity="Moderate",
                period=period(start, end, language),
                description="Nárazy větru 15 až 20 m/s.",
                instruction="Dbejte zvýšené opatrnosti venku.",
                web="https://www.chmi.cz",
            ),
        ),
    )


async def _read(
    renderer: TemplateRenderer, language: Language, kind: AlertKind, text: TemplateText, customised: bool
) -> TemplateRead:
    """The template with its example: rendered in the renderer's worker, within its time limit."""
    return TemplateRead(
        language=language,
        kind=kind,
        customised=customised,
        example=(await renderer.render(text, example_facts(language))).content(),
        **text.model_dump(),
    )


async def list_templates(
    *, sessions: async_sessionmaker[AsyncSession], renderer: TemplateRenderer, principal: Principal
) -> list[TemplateRead]:
    """Every language and kind, as it would render now, and whether an admin changed it (editor)."""
    require(principal, Role.EDITOR)
    async with sessions() as session:
        chosen = await store.templates(session)
        changed = await store.customised(session)
    return [
        await _read(renderer, language, kind, chosen[language][kind], (language.value, kind.value) in changed)
        for language in Language
        for kind in AlertKind
    ]


async def put_template(
    *,
    sessions: async_sessionmaker[AsyncSession],
    renderer: TemplateRenderer,
    principal: Principal,
    language: Language,
    kind: AlertKind,
    text: TemplateText,
) -> TemplateRead:
    """Keep an admin's template once it renders an example alert without error (admin)."""
    require(principal, Role.ADMIN)
    read = await _read(renderer, language, kind, text, customised=True)
    async with sessions() as session, session.begin():
        await store.save_template(session, language=language, kind=kind, text=text, by=principal.name)
        await _audit(session, principal, "template.updated", language, kind)
    return read


async def reset_template(
    *,
    sessions: async_sessionmaker[AsyncSession],
    renderer: TemplateRenderer,
    principal: Principal,
    language: Language,
    kind: AlertKind,
) -> TemplateRead:
    """Back to the template Hlasatel ships (admin)."""
    require(principal, Role.ADMIN)
    async with sessions() as session, session.begin():
        await store.reset_template(session, language=language, kind=kind)
        await _audit(session, principal, "template.reset", language, kind)
        default = (await store.templates(session))[language][kind]
    return await _read(renderer, language, kind, default, customised=False)


async def _audit(
    session: AsyncSession, principal: Principal, action: str, language: Language, kind: AlertKind
) -> None:
    await access.audit(
        session, actor=principal, action=action, detail={"language": language.value, "kind": kind.value}
    )
