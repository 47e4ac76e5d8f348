"""The utilities' and agencies' alerts (JSON events and CAP) with their chains of messages, and the
approvers' queue of those that wait."""

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse

from hlasatel_console.entrypoints.web import Editor, PageDep

router = APIRouter()
SHOWN = {"waiting": {"waiting": True}, "active": {"state": "active"}, "ended": {"state": "ended"}, "all": {}}


@router.get("/alerts", response_class=HTMLResponse)
async def alerts_page(
    page: PageDep, staff: Editor, show: Annotated[str, Query(max_length=20)] = "waiting"
) -> HTMLResponse:
    chosen = show if show in SHOWN else "waiting"
    found = await page.console.composer.alerts(staff.token, **SHOWN[chosen])  # type: ignore[arg-type]
    return page.render(
        "alerts.html",
        h1=page.lang.gettext("Alerts"),
        alerts=found,
        show=chosen,
    )
