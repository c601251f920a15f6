"""Charts for people who would rather look than read: server-rendered SVG bars, no script, no library."""
from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from gateway import reports
from gateway.config_web import WebUser
from gateway.web.deps import Deps, staff


@dataclass(frozen=True)
class Bar:
    label: str
    values: tuple[int, ...]  # one per series


def scale(bars: list[Bar], height: int = 120) -> dict:
    """Geometry for a grouped bar chart: each value's height in pixels against the tallest one."""
    top = max((v for bar in bars for v in bar.values), default=0) or 1
    return {"bars": bars, "top": top, "height": height,
            "px": [[round(v * height / top) for v in bar.values] for bar in bars]}


@staff
async def charts_page(request: Request, d: Deps, user: WebUser) -> Response:
    now = d.clock.now()
    async with d.db.sessions() as session:
        trend = await reports.per_day(session, now)
        days = [Bar(f"{day:%d %b}", (opened, resolved)) for day, opened, resolved in trend]
        ages = [Bar(label, (count,)) for label, count in await reports.backlog(session, now)]
        sla = await reports.compliance(session, now, [level.number for level in d.settings.levels])
    return d.render(request, "charts.html.j2", {"days": scale(days), "ages": scale(ages), "sla": sla,
                                                "window": reports.DAYS})
