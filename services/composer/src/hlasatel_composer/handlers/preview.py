"""What a target reaches, before anything is sent: counted within the key's scope, audited, and for a
target narrowed by language, role or identity never a count below 5."""

import asyncio
import hashlib
import json
import time
from typing import Any
from uuid import uuid4

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hlasatel_composer.adapters import access, reports
from hlasatel_composer.adapters.orm import IndexedPoint
from hlasatel_composer.adapters.recipients import Audience, resolve_target
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
from hlasatel_composer.domain.requests import sms_lengths
from hlasatel_composer.domain.targeting import Target
from hlasatel_composer.schemas import PreviewRead, PreviewRequest, SmsLengthRead
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
        resolution = uuid4()
        points = await resolve_target(session, target=request.target, into=resolution)
        if principal.scope.area is not None:
            await asyncio.to_thread(check_area, principal, points)
        reach = await reports.measure_reach(
            session,
            audience=Audience(
                resolution_id=resolution,
                filters=request.target.filters,
                category=request.category,
                severity=request.severity,
            ),
            channels=channels,
        )
        unknown = await _unknown_names(session, request.target)
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
                "address_points": reach.address_points,
            },
        )
    narrow = narrowed(request.target.filters)
    sms = (
        sms_lengths(
            request.content,
            severity=request.severity or Severity.INFO,
            gsm7=request.sms_transliterate,
            base_url=unsubscribe_base_url,
        )
        if request.content
        else {}
    )
    return PreviewRead(
        address_points=shown(reach.address_points, narrow=narrow),
        subscribers=shown(reach.subscribers, narrow=narrow),
        deliveries={
            channel.value: shown(count, narrow=narrow) for channel, count in sorted(reach.deliveries.items())
        },
        # of a narrowed target, every street it covers, whether or not someone there would be told
        streets=_streets(points) if narrow else reach.streets,
        sms={
            language.value: SmsLengthRead(
                characters=length.characters,
                encoding=length.encoding.value,
                segments=length.segments,
                per_segment=length.per_segment,
                non_gsm=list(length.non_gsm),
            )
            for language, length in sms.items()
        },
        unknown=unknown,
        four_eyes=needs_second_pair_of_eyes(
            subscribers=reach.subscribers,
            whole_city=request.target.is_whole_city(),
            threshold=four_eyes_threshold,
        ),
    )


def _streets(points: list[Any]) -> list[str]:
    return sorted({f"{p.street} ({p.district})" for p in points if p.street is not None})


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


async def _unknown_names(session: AsyncSession, target: Target) -> list[str]:
    """Districts and streets of the target that no indexed address has: most often a typo."""
    districts = {d.casefold() for d in await session.scalars(select(IndexedPoint.district).distinct())}
    streets = {
        s.casefold() for s in await session.scalars(select(IndexedPoint.street).distinct()) if s is not None
    }
    selections = [target, *([target.exclude] if target.exclude else [])]
    unknown = [d for s in selections for d in s.districts if d.casefold() not in districts]
    unknown += [st.name for s in selections for st in s.streets if st.name.casefold() not in streets]
    unknown += [
        st.district
        for s in selections
        for st in s.streets
        if st.district and st.district.casefold() not in districts
    ]
    return unknown
