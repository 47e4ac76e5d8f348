"""When a message's report is still changing: while it is approved or going out, and after the composer
has handed out every delivery ('done' means the fan-out is over, not that the providers have answered)
for as long as a delivery waits for its provider or for the end of someone's quiet hours. Pure."""

from typing import Any

Json = dict[str, Any]
GOING_OUT = ("approved", "sending")
# a delivery in these states may still change; an SMS accepted by the gateway waits for its receipt
# (e-mail and push have no receipt: accepted is their last word)
WAITING = {"queued": None, "accepted": ("sms",)}


def still_arriving(message: Json) -> bool:
    if message.get("state") in GOING_OUT:
        return True
    if message.get("state") != "done":
        return False
    if _some(message.get("waiting_for_quiet_hours")):
        return True
    for channel, states in (message.get("deliveries") or {}).items():
        for state, channels in WAITING.items():
            if (channels is None or channel in channels) and _some((states or {}).get(state)):
                return True
    return False


def _some(count: int | str | None) -> bool:
    """A count the composer may give as 'fewer than 5' (a string) is some."""
    return bool(count) if isinstance(count, int) else count is not None
