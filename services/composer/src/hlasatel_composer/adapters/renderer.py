"""Templates an admin wrote are rendered in a worker process with a time limit.

Jinja2's sandbox keeps a template away from Python's internals, not from loops: two nested loops over
`range(100000)` would hold the composer's event loop for hours. So a template of the city's own runs in a
separate process, which is killed when a render takes longer than the limit; the shipped templates, which
are ours, render in place. A template refused at render falls back to the shipped one, so that an alert
still goes out.
"""

import asyncio
import concurrent.futures
import logging
import multiprocessing
import resource
from collections.abc import Mapping
from concurrent.futures.process import BrokenProcessPool

from hlasatel_composer.domain.messages import Content
from hlasatel_composer.domain.template_defaults import DEFAULTS
from hlasatel_composer.domain.templates import (
    AlertKind,
    Facts,
    Rendered,
    TemplateInvalid,
    TemplateText,
    content_of,
    render,
)
from hlasatel_contracts import Language

log = logging.getLogger(__name__)

# what a render may leave in its worker: more memory than this is an error there, not in the composer
WORKER_MEMORY_BYTES = 512 * 1024 * 1024
# longer text than this is no message: the channels' limits are far below it
MAX_RENDERED_CHARACTERS = 200_000


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (WORKER_MEMORY_BYTES, WORKER_MEMORY_BYTES))


def _render_bounded(template: TemplateText, facts: Facts) -> Rendered:
    """In the worker: the render, refused when it is too long to be a message."""
    try:
        rendered = render(template, facts)
    except MemoryError:
        raise TemplateInvalid("renders to more than the memory a template may use") from None
    for name in ("sms", "subject", "text"):
        if len(getattr(rendered, name)) > MAX_RENDERED_CHARACTERS:
            raise TemplateInvalid(f"{name}: renders to more than {MAX_RENDERED_CHARACTERS} characters")
    return rendered


def _ready() -> bool:
    return True


def _shipped(template: TemplateText) -> bool:
    return any(template in kinds.values() for kinds in DEFAULTS.values())


class TemplateRenderer:
    """Renders in one worker process, started when first needed and again after it was killed."""

    def __init__(self, *, timeout_s: float = 1.0) -> None:
        self.timeout_s = timeout_s
        self._pool: concurrent.futures.ProcessPoolExecutor | None = None
        # one render at a time: a render waiting behind another must not have its time counted
        self._lock = asyncio.Lock()

    async def _worker(self) -> concurrent.futures.ProcessPoolExecutor:
        """The worker, started (and waited for, so that its start is not counted as a render's time)."""
        if self._pool is None:
            pool = concurrent.futures.ProcessPoolExecutor(
                max_workers=1, mp_context=multiprocessing.get_context("spawn"), initializer=_limit_memory
            )
            await asyncio.wrap_future(pool.submit(_ready))
            self._pool = pool
        return self._pool

    def _kill(self) -> None:
        pool, self._pool = self._pool, None
        if pool is None:
            return
        for process in list(getattr(pool, "_processes", {}).values()):
            process.kill()
        pool.shutdown(wait=False, cancel_futures=True)

    async def render(self, template: TemplateText, facts: Facts) -> Rendered:
        """One template, rendered: a failure or a render over the time limit is TemplateInvalid."""
        if _shipped(template):
            return render(template, facts)
        async with self._lock:
            try:
                future = (await self._worker()).submit(_render_bounded, template, facts)
                return await asyncio.wait_for(asyncio.wrap_future(future), timeout=self.timeout_s)
            except TimeoutError:
                self._kill()
                raise TemplateInvalid(f"takes longer than {self.timeout_s:g} s to render: refused") from None
            except (BrokenProcessPool, RuntimeError):
                # the worker died (too much memory, killed from outside): the next render starts another
                self._kill()
                raise TemplateInvalid("stopped its renderer (too much memory?): refused") from None

    async def render_content(
        self,
        templates: Mapping[Language, TemplateText],
        facts: Mapping[Language, Facts],
        *,
        kind: AlertKind,
    ) -> Content:
        """An alert's message in every language there are facts for; a city template that fails or
        takes too long gives way to the shipped one for its language."""
        rendered: dict[Language, Rendered] = {}
        for language in facts:
            try:
                rendered[language] = await self.render(templates[language], facts[language])
            except TemplateInvalid as exc:
                log.warning("the %s %s template failed (%s): the shipped one is used", language, kind, exc)
                rendered[language] = render(DEFAULTS[language][kind], facts[language])
        return content_of(rendered)

    def close(self) -> None:
        self._kill()
