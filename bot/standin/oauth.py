"""The stand-in's sign-in pages: WeCom's ``oauth2/authorize`` (inside WeCom) and the desktop QR
login (``wwlogin/sso/login``), plus ``auth/getuserinfo`` on the API host.

WeCom signs the member in itself and redirects to ``redirect_uri?code=...&state=...``; the code
is single-use and expires in 5 minutes. Here a tiny page lets the demo (and the browser tests)
pick a sample person instead. ``auth/getuserinfo`` answers errcode 40029 for a bad, used or
expired code, as WeCom does.
"""
from __future__ import annotations

import csv
import html
import secrets
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from flask import Blueprint, Response, jsonify, redirect, request

CODE_LIFETIME = 300   # seconds
SAMPLE_PEOPLE = Path(__file__).resolve().parents[2] / "knowledge" / "sample" / "people.csv"


def install_oauth(state) -> None:
    """Give the stand-in's state the sign-in codes and the ``auth/getuserinfo`` route."""
    if getattr(state, "oauth_codes", None) is not None:
        return
    state.oauth_codes = {}          # code -> (userid, issued at)
    state.oauth_legacy = False      # answer ``UserId`` (older WeCom) instead of ``userid``

    def reset_oauth():
        state.oauth_codes.clear()
        state.oauth_legacy = False

    state.reset_oauth = reset_oauth

    def getuserinfo(st, payload, secret):
        code = request.args.get("code", "")
        with st.lock:
            entry = st.oauth_codes.pop(code, None)     # single use
        if entry is None or st.now() - entry[1] > CODE_LIFETIME:
            return jsonify({"errcode": 40029, "errmsg": "invalid code"})
        key = "UserId" if st.oauth_legacy else "userid"
        return jsonify({"errcode": 0, "errmsg": "ok", key: entry[0], "user_ticket": ""})

    state.extra_routes["auth/getuserinfo"] = getuserinfo


def issue_code(state, userid: str) -> str:
    """A fresh single-use code for ``userid`` (what WeCom puts on the redirect)."""
    code = secrets.token_urlsafe(24)
    with state.lock:
        state.oauth_codes[code] = (userid, state.now())
    return code


def _sample_people() -> list[dict]:
    with SAMPLE_PEOPLE.open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def make_oauth_blueprint(state, name: str = "wecom_standin_oauth") -> Blueprint:
    """``connect/oauth2/authorize`` and ``wwlogin/sso/login``, relative to the sign-in host."""
    install_oauth(state)
    bp = Blueprint(name, __name__)

    def _page(corp_param: str):
        args = request.values
        if args.get(corp_param) != state.corp_id:
            return Response("appid 错误", status=400, mimetype="text/plain")
        redirect_uri = args.get("redirect_uri", "")
        if urlsplit(redirect_uri).scheme not in ("http", "https"):
            return Response("redirect_uri 错误", status=400, mimetype="text/plain")
        userid = args.get("userid", "")
        if request.method == "POST" and userid:
            sep = "&" if "?" in redirect_uri else "?"
            query = urlencode({"code": issue_code(state, userid), "state": args.get("state", "")})
            return redirect(f"{redirect_uri}{sep}{query}")
        hidden = "".join(f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
                         for k, v in args.items() if k != "userid")
        buttons = "".join(
            f'<li><button name="userid" value="{html.escape(p["userid"])}">{html.escape(p["name"])}'
            f'<small>（{html.escape(p["role"])} {html.escape(p.get("patch") or p.get("jurisdiction") or "")}）'
            f'</small></button></li>' for p in _sample_people())
        body = (f'<!doctype html><html lang="zh-CN"><meta charset="utf-8"><title>企业微信登录（本地模拟）</title>'
                f'<style>body{{font-family:sans-serif;max-width:32em;margin:2em auto}}li{{list-style:none;margin:.3em}}'
                f'button{{width:100%;padding:.5em;text-align:left}}</style>'
                f'<h1>企业微信登录（本地模拟）</h1><p>选择以谁的身份登录：</p>'
                f'<form method="post">{hidden}<ul>{buttons}</ul></form></html>')
        return Response(body, mimetype="text/html")

    @bp.route("/connect/oauth2/authorize", methods=["GET", "POST"])
    def authorize():
        return _page("appid")

    @bp.route("/wwlogin/sso/login", methods=["GET", "POST"])
    def sso_login():
        return _page("appid")

    return bp
