"""Signing in (WeCom OAuth inside WeCom, WeCom QR login on a desktop), the session, CSRF.

Inside WeCom the page goes to ``oauth2/authorize`` (scope ``snsapi_base``); on a desktop browser to
the QR login. Either comes back to ``/workbench/auth/callback`` with a single-use ``code`` and the
``state`` nonce we put in the session; ``auth/getuserinfo`` (through the one WeCom client) turns the
code into a userid, and the roster decides what that person may see (``rights.may_use``).

The session is Flask's signed cookie: HttpOnly, SameSite=Lax, Secure except over plain http to
127.0.0.1 (the demo and the tests), with a lifetime. Every POST carries the session's CSRF token.
"""
from __future__ import annotations

import functools
import hmac
import logging
import secrets
from urllib.parse import urlencode

from flask import abort, current_app, flash, g, redirect, render_template, request, session, url_for
from flask.sessions import SecureCookieSessionInterface
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot import runtime, texts
from bot.db import get_engine
from bot.errors import WeComError
from bot.models import Person
from bot.workbench import AREAS, bp, rights

log = logging.getLogger(__name__)
LOOPBACK = ("127.0.0.1", "localhost", "::1", "[::1]")


class LoopbackAwareSessions(SecureCookieSessionInterface):
    """Secure cookies, except over plain http to this machine (the demo and the browser tests)."""

    def get_cookie_secure(self, app) -> bool:
        host = (request.host or "").rsplit(":", 1)[0] if request else ""
        return request.is_secure or host not in LOOPBACK


def wt(key: str, **fields) -> str:
    """A workbench text (flash messages, errors, labels)."""
    return texts.t(f"workbench.{key}", **fields)


def db():
    """This request's database session (closed at the end of the request)."""
    if "wb_db" not in g:
        g.wb_db = Session(get_engine(current_app.config["QINGCHE"].DATABASE_URL), expire_on_commit=False)
    return g.wb_db


@bp.teardown_request
def _close_db(_exc):
    s = g.pop("wb_db", None)
    if s is not None:
        s.close()


def current_person() -> Person | None:
    """The signed-in person, re-read from the roster on every request (a removed person is out)."""
    if "wb_person" in g:
        return g.wb_person
    userid = session.get("uid")
    person = db().scalar(select(Person).where(Person.userid == userid)) if userid else None
    g.wb_person = person if rights.may_use(person) else None
    return g.wb_person


def csrf_token() -> str:
    """The session's CSRF token (made on first use)."""
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return session["csrf"]


def log_action(action: str, ticket: int | None = None, outcome: str = "ok") -> None:
    """One line per action: who (userid), what, which ticket — no personal data."""
    person = g.get("wb_person")
    log.info("workbench actor=%s action=%s ticket=%s outcome=%s", person.userid if person else "-",
             action, ticket if ticket is not None else "-", outcome)


def page(template: str, http_status: int = 200, **context):
    """Render a workbench page with the navigation the signed-in person may use."""
    person = current_person()
    nav = [(a.endpoint, wt(a.label), request.endpoint == a.endpoint) for a in AREAS
           if a.endpoint and person is not None and rights.may(db(), person, a.name)]
    return render_template(f"workbench/{template}", person=person, nav=nav, wt=wt,
                           role_name=role_name, **context), http_status


def role_name(role: str | None) -> str:
    key = f"workbench.role_{role}"
    return texts.t(key) if role and texts.has(key) else (role or "")


def refuse(status: int, message: str):
    """An error page (403, 404, 400) saying ``message`` (a workbench text, ``wt(...)``)."""
    log_action(request.endpoint or "-", outcome=f"refused:{status}")
    return page("error.html", http_status=status, message=message, code=status)


def require(area: str):
    """Decorator: the view needs a signed-in person who may open ``area``."""
    def wrap(view):
        @functools.wraps(view)
        def inner(*args, **kwargs):
            person = current_person()
            if person is None:
                if request.method == "GET":
                    return redirect(url_for("workbench.index"))
                abort(401)
            if not rights.may(db(), person, area):
                return refuse(403, wt("forbidden"))
            return view(*args, **kwargs)
        return inner
    return wrap


@bp.app_template_global()
def wb_csrf() -> str:
    return csrf_token()


@bp.before_request
def _check_csrf():
    """Every POST must carry the session's token (form field or X-CSRF-Token header)."""
    if request.method != "POST":
        return None
    sent = request.form.get("csrf_token") or request.headers.get("X-CSRF-Token") or ""
    expected = session.get("csrf") or ""
    if not expected or not hmac.compare_digest(sent, expected):
        log.warning("workbench csrf refused endpoint=%s", request.endpoint)
        return page("error.html", http_status=400, message=wt("csrf_failed"), code=400)
    return None


@bp.after_request
def _headers(resp):
    config = current_app.config["QINGCHE"]
    tiles = ""
    if config.QINGCHE_TILE_URL:
        from urllib.parse import urlsplit

        parts = urlsplit(config.QINGCHE_TILE_URL)
        tiles = f" {parts.scheme}://{parts.netloc}"
    resp.headers.setdefault("Content-Security-Policy",
                            f"default-src 'self'; img-src 'self' data:{tiles}; style-src 'self' 'unsafe-inline'; "
                            "script-src 'self' 'unsafe-inline'; frame-ancestors 'self'; form-action 'self'")
    resp.headers.setdefault("X-Content-Type-Options", "nosniff")
    resp.headers.setdefault("Referrer-Policy", "same-origin")
    resp.headers.setdefault("Cache-Control", "no-store")
    return resp


# --- sign-in ----------------------------------------------------------------------------------

def _redirect_uri() -> str:
    config = current_app.config["QINGCHE"]
    base = config.QINGCHE_PUBLIC_URL or request.host_url.rstrip("/")
    return base + url_for("workbench.callback")


def authorize_url(kind: str, state: str) -> str:
    """Where to send the browser: WeCom OAuth (inside WeCom) or the QR login (desktop)."""
    config = current_app.config["QINGCHE"]
    if kind == "qr":
        query = urlencode({"login_type": "CorpApp", "appid": config.WECOM_CORP_ID, "agentid": config.WECOM_AGENT_ID,
                           "redirect_uri": _redirect_uri(), "state": state})
        return f"{config.WECOM_SSO_BASE}wwlogin/sso/login?{query}"
    query = urlencode({"appid": config.WECOM_CORP_ID, "redirect_uri": _redirect_uri(), "response_type": "code",
                       "scope": "snsapi_base", "state": state, "agentid": config.WECOM_AGENT_ID})
    return f"{config.WECOM_OAUTH_BASE}connect/oauth2/authorize?{query}#wechat_redirect"


@bp.get("/")
def index():
    """Signed in: the ticket list. Inside WeCom: straight to OAuth. Else the sign-in page."""
    if current_person() is not None:
        return redirect(url_for("workbench.ticket_list"))
    if "wxwork" in (request.user_agent.string or "").lower():
        return redirect(url_for("workbench.login", kind="oauth"))
    return page("login.html")


@bp.get("/login/<kind>")
def login(kind: str):
    """Start a sign-in with a fresh anti-forgery nonce in ``state``."""
    if kind not in ("oauth", "qr"):
        abort(404)
    nonce = secrets.token_urlsafe(24)
    session["oauth_state"] = nonce
    return redirect(authorize_url(kind, nonce))


@bp.get("/auth/callback")
def callback():
    """WeCom sends the browser back here with ``code`` and our ``state``."""
    expected = session.pop("oauth_state", None)
    state, code = request.args.get("state", ""), request.args.get("code", "")
    if not expected or not hmac.compare_digest(state, expected) or not code:
        log.warning("workbench sign-in refused: bad state")
        return page("error.html", http_status=400, message=wt("signin_bad_state"), code=400)
    try:
        data = runtime.get().wecom.call("auth/getuserinfo", params={"code": code})
    except WeComError as exc:
        log.warning("workbench sign-in refused: getuserinfo errcode %s", exc.errcode)
        return page("error.html", http_status=400, message=wt("signin_failed"), code=400)
    userid = str(data.get("userid") or data.get("UserId") or "")
    person = db().scalar(select(Person).where(Person.userid == userid)) if userid else None
    if not rights.may_use(person):
        session.clear()
        log.info("workbench sign-in refused: no rights actor=%s", userid or "-")
        return page("error.html", http_status=403, message=wt("no_access"), code=403)
    session.clear()
    session.permanent = True
    session["uid"] = person.userid
    session["csrf"] = secrets.token_urlsafe(32)
    g.wb_person = person
    log_action("sign_in")
    flash(wt("signed_in", name=person.name or person.userid))
    return redirect(url_for("workbench.ticket_list"))


@bp.post("/logout")
def logout():
    current_person()
    log_action("sign_out")
    session.clear()
    return redirect(url_for("workbench.index"))


def paginate(query, page_size: int):
    """One page of ``query`` for the ``page`` argument: (rows, total, page number, pages)."""
    try:
        page_no = max(1, min(int(request.args.get("page", "1")), 100_000))
    except ValueError:
        page_no = 1
    session = db()
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    rows = list(session.scalars(query.limit(page_size).offset((page_no - 1) * page_size)))
    return rows, total, page_no, max(1, -(-total // page_size))
