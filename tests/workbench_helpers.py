"""Helpers for the workbench tests: tickets filed through the ticket service, and signing in
through the stand-in's OAuth page exactly as a browser follows WeCom's redirects."""
from __future__ import annotations

from datetime import datetime
from urllib.parse import parse_qs, urlsplit

import requests
from sqlalchemy import select

from bot.db import session_scope
from bot.models import Patch
from bot.tickets import categories, routing, service


def file_ticket(db_url: str, reporter: str, patch_code: str, text: str, now: datetime | None = None,
                photos: list[tuple[str, str]] | None = None) -> int:
    """File a ticket on ``patch_code`` as the complaint handler does; return its number."""
    with session_scope(db_url) as s:
        patch = s.scalar(select(Patch).where(Patch.code == patch_code))
        category = categories.classify(text) or categories.categories()[0]
        ticket, _ = service.create_ticket(s, reporter=reporter, category=category, description=text,
                                          route=routing.Route(patch, patch.village, patch.town, "registered"),
                                          photos=photos, now=now)
        return ticket.number


def sign_in(client, userid: str):
    """Sign ``userid`` in on the Flask test client; return the callback's response."""
    start = client.get("/workbench/login/oauth")
    assert start.status_code == 302
    authorize = start.headers["Location"].split("#")[0]
    form = parse_qs(urlsplit(authorize).query)
    picked = requests.post(authorize.split("?")[0], data={**{k: v[0] for k, v in form.items()}, "userid": userid},
                           allow_redirects=False, timeout=5)
    assert picked.status_code == 302
    back = urlsplit(picked.headers["Location"])
    return client.get(back.path + "?" + back.query)
