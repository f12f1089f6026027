"""The map: the person's patches (centre and radius) and open tickets, as SVG; works offline."""
from __future__ import annotations

from flask import current_app, request, url_for

from bot import stats
from bot.models import Ticket
from bot.timeutil import utcnow
from bot.workbench import bp, rights, svg
from bot.workbench.auth import current_person, db, page, require, wt
from bot.workbench.tickets import OPEN_STATES, Filters, ticket_query

MAP_MAX = 2000   # dots on one map
JITTER_M = 60    # tickets without a location sit around their patch's centre


@bp.get("/map")
@require("map")
def map_page():
    """Open tickets and patches on a map (the list's filters apply; open tickets only)."""
    s, person, now = db(), current_person(), utcnow()
    f = Filters.from_args(request.args)
    if not f.status:
        f.status = "active"
    q = ticket_query(person, f, now).where(Ticket.status.in_(OPEN_STATES)).limit(MAP_MAX)
    patches = rights.patches_for(s, person)
    centres = {p.code: p for p in patches if p.lat is not None and p.lng is not None}
    points, unplaced = [], 0
    for tk in s.scalars(q):
        lat, lng = tk.lat, tk.long
        if lat is None or lng is None:
            centre = centres.get(tk.patch_code or "")
            if centre is None:
                unplaced += 1
                continue
            spread = (tk.number % 7 - 3) * JITTER_M / 111_320
            lat, lng = centre.lat + spread, centre.lng + ((tk.number // 7) % 7 - 3) * JITTER_M / 103_000
        points.append({"lat": lat, "lng": lng, "overdue": stats.is_overdue(tk, now),
                       "href": url_for("workbench.ticket_detail", number=tk.number),
                       "label": f"#{tk.number} {tk.service_name}"})
    shapes = [{"code": p.code, "name": p.name, "lat": p.lat, "lng": p.lng, "radius_m": p.radius_m}
              for p in centres.values()]
    drawing = svg.map_svg(shapes, points, current_app.config["QINGCHE"].QINGCHE_TILE_URL, unit=wt("metres"))
    return page("map.html", drawing=drawing, count=len(points), unplaced=unplaced, filters=f,
                overdue=sum(p["overdue"] for p in points), patches=patches,
                list_url=url_for("workbench.ticket_list", **f.args()))


