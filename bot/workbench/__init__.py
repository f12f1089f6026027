"""The cadre's workbench: web pages inside WeCom (工作台) to see, act on and export tickets.

A Flask blueprint of its own at ``/workbench``: sign-in through WeCom (``auth.py``), one rule for
rights (``rights.py``), one module per area (``tickets.py``, ``sanlv.py``, ``mapview.py``,
``misses.py``, ``roster.py``), xlsx exports (``export.py``), charts and the map drawn as SVG on
the server (``svg.py``); photos are served from their durable copies (``bot/evidence.py``). Pages are
server-rendered Chinese HTML; static files are vendored here — nothing is fetched from a CDN.

To add an area (certificate applications, the visit ledger): write ``bot/workbench/<area>.py``
with its views on ``bp``, add it to ``rights.AREAS`` and ``NAV`` and import it in ``_VIEWS``.
"""
from __future__ import annotations

import importlib
from datetime import timedelta

from flask import Blueprint, Flask

bp = Blueprint("workbench", __name__, url_prefix="/workbench", template_folder="templates",
               static_folder="static", static_url_path="/static")

# The navigation: (area in rights.AREAS, endpoint, label key in knowledge/texts/workbench.yaml)
NAV: list[tuple[str, str, str]] = [
    ("tickets", "workbench.ticket_list", "nav_tickets"),
    ("map", "workbench.map_page", "nav_map"),
    ("stats", "workbench.stats_page", "nav_stats"),
    ("misses", "workbench.misses_page", "nav_misses"),
    ("roster", "workbench.roster_page", "nav_roster"),
]
_VIEWS = ("auth", "tickets", "mapview", "sanlv", "misses", "roster")


def register_workbench(app: Flask) -> None:
    """Mount the workbench on ``app``: signed session cookies, CSRF checks, the views."""
    from bot.workbench import auth

    config = app.config["QINGCHE"]
    app.secret_key = config.secret_key()
    app.session_interface = auth.LoopbackAwareSessions()
    app.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
                      SESSION_COOKIE_NAME="qingche_wb", SESSION_COOKIE_PATH="/workbench",
                      PERMANENT_SESSION_LIFETIME=timedelta(hours=config.QINGCHE_SESSION_HOURS))
    for name in _VIEWS:
        importlib.import_module(f"bot.workbench.{name}")
    app.register_blueprint(bp)
