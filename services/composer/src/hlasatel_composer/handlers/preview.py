"""What a target reaches, before anything is sent: counted within the key's scope, audited, and for a
target narrowed by language, role or identity never a count below 5."""

import hashlib
import json
import time
from typing import Any
from uuid import uuid4

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hlasatel_composer.adapters import access, reports
from hlasatel_composer.adapters.recipients import Audience, selected_points, store_points
from hlasatel_composer.domain.access import (
    Principal,
    Role,
    check_area,
    check_category,
    needs_second_pair_of_eyes,
    require,
)
from hlasatel_composer.domain.messages import Severity
from hlasatel_composer.domain.privacy import narrowed, shown
from hlasatel_composer.domain.ratelimit import RateLimiter
from hlasatel_composer.domain.register import Resolved
from hlasatel_composer.domain.requests import sms_lengths
from hlasatel_composer.domain.targeting import Target
from hlasatel_composer.schemas import PreviewRead, PreviewRequest, SmsLengthRead, UnknownNameRead
from hlasatel_contracts import Channel


async def preview(
    *,
    sessions: async_sessionmaker[AsyncSession],
    principal: Principal,
    request: PreviewRequest,
    unsubscribe_base_url: str | None,
    four_eyes_threshold: int,
    limiter: RateLimiter | None = None,
    per_minute: int = 30,
) -> PreviewRead:
    """What a target reaches, before anything is sent: counted within the key's scope, audited, and for a
    target narrowed by language, role or identity never a count below 5."""
    require(principal, Role.EDITOR)
    if request.category is not None:
        check_category(principal, request.category)
    if limiter is not None:
        limiter.take(
            key_id=f"preview:{principal.key_id}", name=principal.name, per_minute=per_minute,
            now=time.monotonic(),
        )  # fmt: skip
    channels = request.content.channels() if request.content else set(Channel)
    async with sessions() as session:
        resolved = await selected_points(session, request.target)
        check_area(principal, resolved)
        reach = await reports.measure_reach(
            session, audience=await _audience(session, request, resolved), channels=channels
        )
        # the points stored for counting are a preview's only. The audit row is written in a transaction of
        # its own: on SQLite a transaction that has read while others wrote cannot begin to write
        await session.rollback()
    async with sessions() as session, session.begin():
        await access.audit(
            session,
            actor=principal,
            action="target.previewed",
            target_size=reach.subscribers,
            detail={
                "target": _audited_target(request.target),
                "category": request.category,
                "address_points": len(resolved.codes),
            },
        )
    narrow = narrowed(request.target.filters)
    return PreviewRead(
        address_points=len(resolved.codes),
        address_points_with_subscribers=shown(reach.households, narrow=narrow),
        subscribers=shown(reach.subscribers, narrow=narrow),
        deliveries={
            channel.value: shown(count, narrow=narrow) for channel, count in sorted(reach.deliveries.items())
        },
        streets=resolved.register.streets(resolved.codes),
        sms=_sms(request, unsubscribe_base_url),
        unknown=[
            UnknownNameRead(name=name.name, kind=name.kind, suggestions=list(name.suggestions))
            for name in resolved.register.unknown(request.target)
        ],
        four_eyes=needs_second_pair_of_eyes(
            subscribers=reach.subscribers,
            whole_city=request.target.is_whole_city(),
            threshold=four_eyes_threshold,
        ),
    )


async def _audience(session: AsyncSession, request: PreviewRequest, resolved: Resolved) -> Audience:
    """The audience of the previewed target, its points stored for counting: those it covers, or, where it
    covers most of the city, those it leaves out (the count then walks the whole index once, as for the
    whole city, instead of looking up each of ten thousand points)."""
    resolution = uuid4()
    most = len(resolved.codes) > len(resolved.register) // 2
    await store_points(
        session, resolved.register.left_out(resolved.codes) if most else resolved.codes, into=resolution
    )
    return Audience(
        resolution_id=resolution,
        all_but=most,
        filters=request.target.filters,
        category=request.category,
        severity=request.severity,
    )


def _sms(request: PreviewRequest, unsubscribe_base_url: str | None) -> dict[str, SmsLengthRead]:
    """Each language's SMS as it will be sent: characters, encoding, segments."""
    if request.content is None:
        return {}
    lengths = sms_lengths(
        request.content,
        severity=request.severity or Severity.INFO,
        gsm7=request.sms_transliterate,
        base_url=unsubscribe_base_url,
    )
    return {
        language.value: SmsLengthRead(
            characters=length.characters,
            encoding=length.encoding.value,
            segments=length.segments,
            per_segment=length.per_segment,
            non_gsm=list(length.non_gsm),
        )
        for language, length in lengths.items()
    }


def _audited_target(target: Target) -> dict[str, Any]:
    """The target as the audit log keeps it: whole, unless it is too large to keep (a long polygon)."""
    whole = target.model_dump(mode="json", exclude_defaults=True)
    text = json.dumps(whole, sort_keys=True)
    if len(text) <= 10_000:
        return whole
    return {
        "sha256": hashlib.sha256(text.encode()).hexdigest(),
        "address_points": len(target.address_points),
        "streets": len(target.streets),
        "districts": len(target.districts),
        "polygons": len(target.polygons),
        "circles": len(target.circles),
    }
