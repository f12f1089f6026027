"""Charts and the map as SVG drawn on the server from data: no chart library, no CDN, no tiles
unless ``QINGCHE_TILE_URL`` names a tile server (then they are drawn beneath, Web Mercator)."""
from __future__ import annotations

import math
from html import escape

from markupsafe import Markup

TILE = 256
COLORS = ("#1f77b4", "#2ca02c", "#d62728", "#9467bd", "#8c564b")


def _svg(width: int, height: int, body: str, label: str) -> Markup:
    return Markup(f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
                  f'aria-label="{escape(label)}" class="chart">{body}</svg>')


def line_chart(labels: list[str], series: dict[str, list[float | None]], title: str) -> Markup:
    """Rates (0..1) over periods, one line per series; gaps where a rate is None."""
    w, h, left, top, bottom = 640, 260, 44, 24, 40
    plot_w, plot_h = w - left - 120, h - top - bottom
    step = plot_w / max(len(labels) - 1, 1)
    parts = [f'<text x="{left}" y="16" class="title">{escape(title)}</text>']
    for pct in (0, 25, 50, 75, 100):
        y = top + plot_h * (1 - pct / 100)
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" class="grid"/>'
                     f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" class="axis">{pct}%</text>')
    for i, label in enumerate(labels):
        parts.append(f'<text x="{left + i * step:.1f}" y="{h - bottom + 18}" text-anchor="middle" '
                     f'class="axis">{escape(label)}</text>')
    for n, (name, values) in enumerate(series.items()):
        color = COLORS[n % len(COLORS)]
        points = [(left + i * step, top + plot_h * (1 - v)) for i, v in enumerate(values) if v is not None]
        if len(points) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
            parts.append(f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="2"/>')
        for (x, y), v in zip(points, [v for v in values if v is not None], strict=True):
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{color}"><title>{escape(name)} '
                         f'{v * 100:.1f}%</title></circle>')
        parts.append(f'<rect x="{w - 110}" y="{top + n * 20}" width="12" height="12" fill="{color}"/>'
                     f'<text x="{w - 92}" y="{top + n * 20 + 11}" class="axis">{escape(name)}</text>')
    return _svg(w, h, "".join(parts), title)


def bar_chart(rows: list[tuple[str, list[float | None]]], names: list[str], title: str) -> Markup:
    """Grouped horizontal bars: for each row (a patch, a grid worker) one bar per rate (0..1)."""
    bar, gap, left, w = 10, 12, 150, 640
    group = bar * len(names) + gap
    h = 40 + group * max(len(rows), 1) + 24
    plot_w = w - left - 60
    parts = [f'<text x="4" y="16" class="title">{escape(title)}</text>']
    for n, name in enumerate(names):
        parts.append(f'<rect x="{left + n * 90}" y="24" width="10" height="10" fill="{COLORS[n % len(COLORS)]}"/>'
                     f'<text x="{left + n * 90 + 14}" y="33" class="axis">{escape(name)}</text>')
    for r, (label, values) in enumerate(rows):
        y0 = 44 + r * group
        parts.append(f'<text x="{left - 6}" y="{y0 + group / 2:.1f}" text-anchor="end" class="axis">'
                     f'{escape(label[:14])}</text>')
        for n, v in enumerate(values):
            y = y0 + n * bar
            width = plot_w * (v or 0)
            parts.append(f'<rect x="{left}" y="{y}" width="{width:.1f}" height="{bar - 1}" '
                         f'fill="{COLORS[n % len(COLORS)]}"><title>{escape(label)} {escape(names[n])} '
                         f'{"—" if v is None else f"{v * 100:.1f}%"}</title></rect>'
                         f'<text x="{left + width + 4:.1f}" y="{y + bar - 2}" class="small">'
                         f'{"—" if v is None else f"{v * 100:.0f}%"}</text>')
    return _svg(w, h, "".join(parts), title)


# --- the map ----------------------------------------------------------------------------------

def _world(lat: float, lng: float, zoom: float) -> tuple[float, float]:
    """Web Mercator pixel coordinates at ``zoom``."""
    scale = TILE * 2 ** zoom
    s = math.sin(math.radians(max(min(lat, 85), -85)))
    return (lng + 180) / 360 * scale, (0.5 - math.log((1 + s) / (1 - s)) / (4 * math.pi)) * scale


def map_svg(patches: list[dict], points: list[dict], tile_url: str = "", width: int = 800,
            height: int = 560, unit: str = "m") -> Markup:
    """Patches (centre and radius in metres) as circles and tickets as dots linking to their pages.

    ``patches``: dicts with code, name, lat, lng, radius_m; ``points``: dicts with lat, lng, href,
    label, overdue. The view fits everything; with ``tile_url`` ({z}/{x}/{y}) tiles are drawn beneath.
    """
    coords = [(p["lat"], p["lng"], p.get("radius_m") or 0) for p in patches] + \
             [(p["lat"], p["lng"], 0) for p in points]
    if not coords:
        return _svg(width, 80, '<text x="10" y="40" class="axis">—</text>', "map")
    lat_c = sum(c[0] for c in coords) / len(coords)
    m_per_deg = 111_320
    lats = [c[0] + s * c[2] / m_per_deg for c in coords for s in (-1, 1)]
    lngs = [c[1] + s * c[2] / (m_per_deg * math.cos(math.radians(lat_c))) for c in coords for s in (-1, 1)]
    zoom = 18
    while zoom > 1:
        x0, y0 = _world(max(lats), min(lngs), zoom)
        x1, y1 = _world(min(lats), max(lngs), zoom)
        if x1 - x0 <= width * 0.85 and y1 - y0 <= height * 0.85:
            break
        zoom -= 1
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    ox, oy = cx - width / 2, cy - height / 2
    metres_per_px = 156_543.03 * math.cos(math.radians(lat_c)) / 2 ** zoom

    def xy(lat, lng):
        x, y = _world(lat, lng, zoom)
        return x - ox, y - oy

    parts = []
    if tile_url:
        n = 2 ** zoom
        for tx in range(int(ox // TILE), int((ox + width) // TILE) + 1):
            for ty in range(int(oy // TILE), int((oy + height) // TILE) + 1):
                if 0 <= ty < n:
                    href = escape(tile_url.format(z=zoom, x=tx % n, y=ty))
                    parts.append(f'<image href="{href}" x="{tx * TILE - ox:.1f}" y="{ty * TILE - oy:.1f}" '
                                 f'width="{TILE}" height="{TILE}"/>')
    else:
        parts.append(f'<rect width="{width}" height="{height}" class="land"/>')
    for p in patches:
        x, y = xy(p["lat"], p["lng"])
        r = max((p.get("radius_m") or 200) / metres_per_px, 6)
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r:.1f}" class="patch"><title>{escape(p["name"])}'
                     f'</title></circle><text x="{x:.1f}" y="{y - r - 4:.1f}" text-anchor="middle" '
                     f'class="patch-label">{escape(p["code"])} {escape(p["name"])}</text>')
    for p in points:
        x, y = xy(p["lat"], p["lng"])
        cls = "dot overdue" if p.get("overdue") else "dot"
        parts.append(f'<a href="{escape(p["href"])}"><circle cx="{x:.1f}" cy="{y:.1f}" r="6" class="{cls}">'
                     f'<title>{escape(p["label"])}</title></circle></a>')
    scale_m = 500 if metres_per_px * 100 > 500 else 100
    bar = scale_m / metres_per_px
    parts.append(f'<line x1="12" y1="{height - 14}" x2="{12 + bar:.1f}" y2="{height - 14}" class="scale"/>'
                 f'<text x="12" y="{height - 20}" class="small">{scale_m} {escape(unit)}</text>')
    return _svg(width, height, "".join(parts), "map")
