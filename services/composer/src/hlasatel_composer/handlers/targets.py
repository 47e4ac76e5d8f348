"""A target on a map: the register's address points it covers and the districts' outlines, as GeoJSON."""

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hlasatel_composer.adapters.recipients import selected_points
from hlasatel_composer.adapters.register import outlines
from hlasatel_composer.domain.access import Principal, Role, check_area, require
from hlasatel_composer.domain.targeting import PointFacts, Target
from hlasatel_contracts.addresses import house_number, label, postcode


async def target_geojson(
    *, sessions: async_sessionmaker[AsyncSession], principal: Principal, target: Target | None
) -> dict[str, Any]:
    """Every district's outline and, given a target, the register's address points it covers (within the
    key's area): RFC 7946 features, each with `kind` 'district' or 'address_point'. Nothing about who has
    subscribed where: the register is public (ČÚZK's RÚIAN), its subscribers are not."""
    require(principal, Role.EDITOR)
    async with sessions() as session:
        districts = [
            {
                "type": "Feature",
                "id": f"district-{outline.district_code}",
                "geometry": outline.geometry,
                "properties": {
                    "kind": "district",
                    "district_code": outline.district_code,
                    "district": outline.district,
                    "address_points": outline.address_points,
                },
            }
            for outline in await outlines(session)
        ]
        points: list[PointFacts] = []
        if target is not None:
            resolved = await selected_points(session, target)
            check_area(principal, resolved)
            points = resolved.points()
    return {"type": "FeatureCollection", "features": districts + [_feature(point) for point in points]}


def _feature(point: PointFacts) -> dict[str, Any]:
    located = point.latitude is not None and point.longitude is not None
    return {
        "type": "Feature",
        "id": point.code,
        "geometry": {"type": "Point", "coordinates": [point.longitude, point.latitude]} if located else None,
        "properties": {
            "kind": "address_point",
            "address": label(point),
            "street": point.street,
            "number": house_number(point),
            "district": point.district,
            "postcode": postcode(point),
        },
    }
