"""The cadre's workbench: web pages inside WeCom (工作台) to see, act on and export tickets.

A Flask blueprint of its own at ``/workbench``: sign-in through WeCom (``auth.py``), one rule for
rights (``rights.py``), one module per area (``tickets.py``, ``sanlv.py``, ``mapview.py``,
``misses.py``, ``roster.py``, ``applications.py``, ``visits.py``), xlsx exports (``export.py``), charts and the map drawn as SVG on
the server (``svg.py``); photos are served from their durable copies (``bot/evidence.py``). Pages are
server-rendered Chinese HTML; static files are vendored here — nothing is fetched from a CDN.

To add an area (certificate applications, the visit ledger): write ``bot/workbench/<area>.py``
with its views on ``bp`` (each behind ``auth.require("<area>")``), and add one ``Area`` line below.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from datetime import timedelta

from flask import Blueprint, Flask

bp = Blueprint("workbench", __name__, url_prefix="/workbench", template_folder="templates",
               static_folder="static", static_url_path="/static")

STAFF = ("cadre", "grid_worker")


@dataclass(frozen=True)
class Area:
    """One part of the workbench: its module, its page in the navigation, and who may open it."""

    name: str
    module: str                 # bot.workbench.<module> holds its views
    endpoint: str | None        # the navigation's link (None: no link, e.g. sign-in)
    label: str                  # the link's text key in knowledge/texts/workbench.yaml
    roles: tuple[str, ...]


AREAS: list[Area] = [
    Area("auth", "auth", None, "", ()),
    Area("tickets", "tickets", "workbench.ticket_list", "nav_tickets", STAFF),
    Area("map", "mapview", "workbench.map_page", "nav_map", STAFF),
    Area("stats", "sanlv", "workbench.stats_page", "nav_stats", ("cadre",)),
    Area("misses", "misses", "workbench.misses_page", "nav_misses", ("cadre",)),
    Area("roster", "roster", "workbench.roster_page", "nav_roster", STAFF),
    Area("applications", "applications", "workbench.applications_page", "nav_applications", ("cadre",)),
    Area("visits", "visits", "workbench.visits_page", "nav_visits", STAFF),
]


def register_workbench(app: Flask) -> None:
    """Mount the workbench on ``app``: signed session cookies, CSRF checks, the views."""
    from bot.workbench import auth

    config = app.config["QINGCHE"]
    app.secret_key = config.secret_key()
    app.session_interface = auth.LoopbackAwareSessions()
    app.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
                      SESSION_COOKIE_NAME="qingche_wb", SESSION_COOKIE_PATH="/workbench",
                      PERMANENT_SESSION_LIFETIME=timedelta(hours=config.QINGCHE_SESSION_HOURS))
    for area in AREAS:
        importlib.import_module(f"bot.workbench.{area.module}")
    app.register_blueprint(bp)
