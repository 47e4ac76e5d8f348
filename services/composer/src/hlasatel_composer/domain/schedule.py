"""When a delivery may go: quiet hours. Pure."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hlasatel_contracts import QuietHours


def quiet_until(quiet: QuietHours | None, now: datetime) -> datetime | None:
    """The end of the subscriber's quiet hours when `now` falls inside them, None otherwise.

    Quiet hours may run over midnight (22:00 to 07:00); they are read in the subscriber's time zone, so a
    change to or from summer time moves them with the clock on the wall.
    """
    if quiet is None or quiet.start == quiet.end:
        return None
    zone = ZoneInfo(quiet.timezone)
    local = now.astimezone(zone)
    clock = local.time().replace(tzinfo=None)
    if quiet.start < quiet.end:
        inside = quiet.start <= clock < quiet.end
    else:
        inside = clock >= quiet.start or clock < quiet.end
    if not inside:
        return None
    day = local.date() if clock < quiet.end else local.date() + timedelta(days=1)
    return datetime.combine(day, quiet.end, tzinfo=zone).astimezone(UTC)
