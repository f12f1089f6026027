"""The workbench through the Flask test client: sign-in, rights, CSRF, filters, actions, exports.

Sign-in goes through the stand-in's OAuth page and ``auth/getuserinfo`` over HTTP, as WeCom's do.
"""
from __future__ import annotations

import dataclasses
import io
import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from openpyxl import load_workbook
from sqlalchemy import select

from bot.db import session_scope
from bot.models import Outbox, Ticket, TicketEvent
from bot.timeutil import utcnow
from tests.workbench_helpers import file_ticket, sign_in


@pytest.fixture
def config(config, standin_server, tmp_path):
    """The suite's settings plus the stand-in as the sign-in host and a private photo store."""
    return dataclasses.replace(config, WECOM_OAUTH_BASE=standin_server.oauth_base,
                               WECOM_SSO_BASE=standin_server.oauth_base, QINGCHE_MEDIA_DIR=str(tmp_path / "media"))


@pytest.fixture
def tickets(app, config):
    """An overdue LG-01 ticket, a fresh LG-01 ticket, an LG-02 ticket and a DH-01 ticket."""
    old = utcnow() - timedelta(days=20)
    return {"lg1_overdue": file_ticket(config.DATABASE_URL, "chenayi", "LG-01", "楼下路灯坏了三天了", now=old,
                                       photos=[("MEDIA-LG1", "")]),
            "lg1_new": file_ticket(config.DATABASE_URL, "chenayi", "LG-01", "楼道垃圾没人清理"),
            "lg2": file_ticket(config.DATABASE_URL, "chenayi", "LG-02", "碧桂园门口路灯不亮", photos=[("MEDIA-LG2", "")]),
            "dh1": file_ticket(config.DATABASE_URL, "lisuk", "DH-01", "东河市场门口井盖坏了")}


def _numbers(html: str) -> set[int]:
    return {int(n) for n in re.findall(r'href="/workbench/tickets/(\d+)"', html)}


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_cadre_signs_in_with_a_secure_session(client, wecom_api):
    resp = sign_in(client, "fang.lougang")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/workbench/tickets")
    cookie = resp.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/workbench" in cookie
    assert "Secure" not in cookie            # plain http to this machine (tests and the demo) only
    page = client.get("/workbench/tickets")
    assert page.status_code == 200 and "方主任" in page.get_data(as_text=True)


def test_session_cookie_is_secure_off_this_machine(app, wecom_api):
    client = app.test_client()
    start = client.get("/workbench/login/oauth", base_url="http://qingche.example.org")
    assert "Secure" in start.headers["Set-Cookie"]


def test_oauth_redirect_carries_what_wecom_needs(client, config):
    start = client.get("/workbench/login/oauth")
    url = start.headers["Location"]
    assert url.startswith(config.WECOM_OAUTH_BASE + "connect/oauth2/authorize?") and url.endswith("#wechat_redirect")
    q = parse_qs(urlsplit(url.split("#")[0]).query)
    assert q["appid"] == [config.WECOM_CORP_ID] and q["scope"] == ["snsapi_base"] and q["agentid"] == ["1000002"]
    assert q["redirect_uri"] == ["http://localhost/workbench/auth/callback"] and len(q["state"][0]) >= 24
    qr = client.get("/workbench/login/qr").headers["Location"]
    assert qr.startswith(config.WECOM_SSO_BASE + "wwlogin/sso/login?") and "login_type=CorpApp" in qr


def test_older_wecom_answers_UserId(client, wecom_api):
    wecom_api.oauth_legacy = True
    assert sign_in(client, "fang.lougang").headers["Location"].endswith("/workbench/tickets")


def test_code_is_single_use_and_state_is_checked(client, wecom_api):
    start = client.get("/workbench/login/oauth").headers["Location"].split("#")[0]
    form = {k: v[0] for k, v in parse_qs(urlsplit(start).query).items()}
    back = requests.post(start.split("?")[0], data={**form, "userid": "fang.lougang"}, allow_redirects=False,
                         timeout=5).headers["Location"]
    q = parse_qs(urlsplit(back).query)
    # a forged state is refused before the code is even tried
    forged = client.get("/workbench/auth/callback", query_string={"code": q["code"][0], "state": "forged"})
    assert forged.status_code == 400
    # the code itself works once, and only once
    client.get("/workbench/login/oauth")
    with client.session_transaction() as sess:
        sess["oauth_state"] = q["state"][0]
    assert client.get("/workbench/auth/callback", query_string={k: v[0] for k, v in q.items()}).status_code == 302
    with client.session_transaction() as sess:
        sess["oauth_state"] = q["state"][0]
    again = client.get("/workbench/auth/callback", query_string={k: v[0] for k, v in q.items()})
    assert again.status_code == 400 and "授权码无效" in again.get_data(as_text=True)


def test_codes_expire_after_five_minutes(client, wecom_api):
    start = client.get("/workbench/login/oauth").headers["Location"].split("#")[0]
    form = {k: v[0] for k, v in parse_qs(urlsplit(start).query).items()}
    back = requests.post(start.split("?")[0], data={**form, "userid": "fang.lougang"}, allow_redirects=False,
                         timeout=5).headers["Location"]
    wecom_api.clock_offset = 301
    resp = client.get(urlsplit(back).path + "?" + urlsplit(back).query)
    assert resp.status_code == 400


@pytest.mark.parametrize("userid", ["chenayi", "ou.lz", "cg.liaison", "nobody.on.roster"])
def test_residents_and_others_get_nothing(client, wecom_api, tickets, userid):
    resp = sign_in(client, userid)
    assert resp.status_code == 403 and "只对干部和网格员开放" in resp.get_data(as_text=True)
    assert client.get("/workbench/tickets").status_code == 302        # back to the sign-in page
    assert client.get(f"/workbench/tickets/{tickets['lg1_new']}").status_code == 302


@pytest.mark.parametrize("userid, sees", [
    ("fang.lougang", {"lg1_overdue", "lg1_new", "lg2"}),            # 楼冈社区 cadre: the village
    ("guan.changsha", {"lg1_overdue", "lg1_new", "lg2"}),           # 长沙街道 cadre: the town
    ("lu.donghe", {"dh1"}),                                          # 东河社区 cadre
    ("zhou.wg", {"lg2"}),                                            # LG-02 grid worker: own patch
    ("liang.wg", {"lg1_overdue", "lg1_new"}),                        # LG-01 grid worker
])
def test_each_person_sees_their_part_of_the_roster(client, wecom_api, tickets, userid, sees):
    sign_in(client, userid)
    html = client.get("/workbench/tickets").get_data(as_text=True)
    assert _numbers(html) == {tickets[k] for k in sees}
    for key, number in tickets.items():
        assert client.get(f"/workbench/tickets/{number}").status_code == (200 if key in sees else 403)


def test_an_unplaced_ticket_is_in_every_cadres_list_until_dispatched(client, wecom_api, tickets, config):
    from bot.tickets import categories, routing, service

    with session_scope(config.DATABASE_URL) as s:
        unplaced, _ = service.create_ticket(s, reporter="passer.by", category=categories.get("streetlight"),
                                            description="幸福楼门口路灯坏了", route=routing.Route())
        number = unplaced.number
    sign_in(client, "lu.donghe")
    assert number in _numbers(client.get("/workbench/tickets").get_data(as_text=True))
    assert client.get(f"/workbench/tickets/{number}").status_code == 200
    sign_in(client, "liang.wg")                                      # a grid worker: only their patch
    assert number not in _numbers(client.get("/workbench/tickets").get_data(as_text=True))


def test_grid_worker_cannot_open_another_patchs_ticket_or_photo(client, wecom_api, tickets, config):
    sign_in(client, "zhou.wg")
    resp = client.get(f"/workbench/tickets/{tickets['lg1_overdue']}")
    assert resp.status_code == 403 and "不在您的管辖范围内" in resp.get_data(as_text=True)
    with session_scope(config.DATABASE_URL) as s:
        lg1 = s.scalar(select(Ticket).where(Ticket.number == tickets["lg1_overdue"]))
        lg2 = s.scalar(select(Ticket).where(Ticket.number == tickets["lg2"]))
        lg1_photo, lg2_photo = lg1.media[0].id, lg2.media[0].id
    assert client.get(f"/workbench/photos/{lg1_photo}").status_code == 403
    own = client.get(f"/workbench/photos/{lg2_photo}")
    assert own.status_code == 200 and own.data.startswith(b"\x89PNG")


def test_forged_post_without_csrf_token_is_refused(client, wecom_api, tickets, config):
    sign_in(client, "fang.lougang")
    number = tickets["lg1_new"]
    for data in ({"note": "快点"}, {"note": "快点", "csrf_token": "forged"}):
        resp = client.post(f"/workbench/tickets/{number}/nudge", data=data)
        assert resp.status_code == 400 and "页面已过期" in resp.get_data(as_text=True)
    with session_scope(config.DATABASE_URL) as s:
        assert s.scalar(select(TicketEvent).where(TicketEvent.action == "nudge")) is None


def test_cadre_nudges_and_the_push_goes_through_the_outbox(client, wecom, wecom_api, tickets, config):
    sign_in(client, "fang.lougang")
    number = tickets["lg1_new"]
    html = client.get(f"/workbench/tickets/{number}").get_data(as_text=True)
    resp = client.post(f"/workbench/tickets/{number}/nudge", data={"csrf_token": _csrf(html), "note": "今天内处理"})
    assert resp.status_code == 302
    page = client.get(f"/workbench/tickets/{number}").get_data(as_text=True)
    assert "已催办" in page and "梁晓敏" in page and "今天内处理" in page   # flash and history
    wecom.run()
    pushes = [t for t in wecom_api.texts_to("liang.wg") if "催办" in t]
    assert len(pushes) == 1 and f"#{number}" in pushes[0] and "今天内处理" in pushes[0]
    with session_scope(config.DATABASE_URL) as s:
        event = s.scalar(select(TicketEvent).where(TicketEvent.action == "nudge"))
        assert (event.actor, event.actor_role, event.note) == ("fang.lougang", "cadre", "今天内处理")


def test_cadre_dispatches_within_the_jurisdiction_only(client, wecom, wecom_api, tickets, config):
    sign_in(client, "fang.lougang")
    number = tickets["lg1_new"]
    token = _csrf(client.get(f"/workbench/tickets/{number}").get_data(as_text=True))
    client.post(f"/workbench/tickets/{number}/dispatch", data={"csrf_token": token, "worker": "wu.wg"})
    assert "吴丽华不是楼冈社区居委会的网格员" in client.get(f"/workbench/tickets/{number}").get_data(as_text=True)
    with session_scope(config.DATABASE_URL) as s:
        assert s.scalar(select(Ticket.assignee_userid).where(Ticket.number == number)) == "liang.wg"
    client.post(f"/workbench/tickets/{number}/dispatch", data={"csrf_token": token, "worker": "zhou.wg"})
    with session_scope(config.DATABASE_URL) as s:
        assert s.scalar(select(Ticket.assignee_userid).where(Ticket.number == number)) == "zhou.wg"
    wecom.run()
    assert any(t.startswith(f"【新工单 #{number}】") for t in wecom_api.texts_to("zhou.wg"))


def test_cadre_whistles_a_department(client, wecom, wecom_api, tickets, config):
    sign_in(client, "fang.lougang")
    number = tickets["lg1_overdue"]
    token = _csrf(client.get(f"/workbench/tickets/{number}").get_data(as_text=True))
    client.post(f"/workbench/tickets/{number}/whistle", data={"csrf_token": token, "department": "城管局",
                                                               "note": "路灯归城管"})
    assert "已吹哨" in client.get(f"/workbench/tickets/{number}").get_data(as_text=True)
    wecom.run()
    with session_scope(config.DATABASE_URL) as s:
        liaison = s.scalar(select(Outbox.to_user).where(Outbox.dedupe_key.like("whistle:%")))
    assert any("城管局" in t for t in wecom_api.texts_to(liaison))


def test_grid_worker_may_not_nudge_or_dispatch(client, wecom_api, tickets):
    sign_in(client, "liang.wg")
    number = tickets["lg1_new"]
    html = client.get(f"/workbench/tickets/{number}").get_data(as_text=True)
    assert 'id="nudge"' not in html and 'id="dispatch"' not in html and 'id="whistle"' in html
    for action in ("nudge", "dispatch"):
        assert client.post(f"/workbench/tickets/{number}/{action}", data={"csrf_token": _csrf(html)}).status_code == 403
    assert client.get("/workbench/stats").status_code == 403 and client.get("/workbench/misses").status_code == 403


def test_filters_and_export_match(client, wecom_api, tickets):
    sign_in(client, "fang.lougang")
    assert _numbers(client.get("/workbench/tickets?overdue=1").get_data(as_text=True)) == {tickets["lg1_overdue"]}
    assert _numbers(client.get("/workbench/tickets?patch=LG-02").get_data(as_text=True)) == {tickets["lg2"]}
    assert _numbers(client.get("/workbench/tickets?period=7d").get_data(as_text=True)) == {
        tickets["lg1_new"], tickets["lg2"]}
    assert _numbers(client.get("/workbench/tickets?status=closed").get_data(as_text=True)) == set()
    assert _numbers(client.get("/workbench/tickets?patch=' OR 1=1 --").get_data(as_text=True)) == {
        tickets["lg1_overdue"], tickets["lg1_new"], tickets["lg2"]}      # a bad code is ignored
    resp = client.get("/workbench/tickets/export?overdue=1")
    assert resp.mimetype.endswith("spreadsheetml.sheet")
    rows = list(load_workbook(io.BytesIO(resp.data)).active.iter_rows(values_only=True))
    assert rows[0][0] == "编号" and [r[0] for r in rows[1:]] == [tickets["lg1_overdue"]]
    assert rows[1][9] == "是"


@pytest.mark.parametrize("path", ["/workbench/stats/export", "/workbench/roster/export", "/workbench/misses/export"])
def test_every_list_exports(client, wecom_api, tickets, path):
    sign_in(client, "fang.lougang")
    resp = client.get(path)
    assert resp.status_code == 200
    book = load_workbook(io.BytesIO(resp.data))
    assert book.active.max_row >= 1


def test_pages_show_no_personal_data_in_urls(client, wecom_api, tickets):
    sign_in(client, "fang.lougang")
    for path in ("/workbench/tickets", f"/workbench/tickets/{tickets['lg1_new']}", "/workbench/roster",
                 "/workbench/map", "/workbench/stats"):
        html = client.get(path).get_data(as_text=True)
        assert client.get(path).status_code == 200
        links = re.findall(r'(?:href|action|src)="([^"]+)"', html)
        assert not [u for u in links if re.search(r"chenayi|liang\.wg|1380000|%E9%99%88", u)], path
        assert "13800001001" not in html         # phone numbers are masked


def test_map_and_charts_are_inline_svg_with_no_outside_requests(client, wecom_api, tickets):
    sign_in(client, "fang.lougang")
    for path in ("/workbench/map", "/workbench/stats"):
        html = client.get(path).get_data(as_text=True)
        assert "<svg" in html and "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert f"/workbench/tickets/{tickets['lg1_new']}" in client.get("/workbench/map").get_data(as_text=True)


def test_tile_server_is_used_only_when_set(app, client, wecom_api, tickets):
    app.config["QINGCHE"].QINGCHE_TILE_URL = "http://tiles.local/{z}/{x}/{y}.png"
    try:
        sign_in(client, "fang.lougang")
        resp = client.get("/workbench/map")
        assert "http://tiles.local/" in resp.get_data(as_text=True)
        assert "img-src 'self' data: http://tiles.local" in resp.headers["Content-Security-Policy"]
    finally:
        app.config["QINGCHE"].QINGCHE_TILE_URL = ""


def test_logout_needs_the_token_and_ends_the_session(client, wecom_api):
    sign_in(client, "fang.lougang")
    html = client.get("/workbench/tickets").get_data(as_text=True)
    assert client.post("/workbench/logout").status_code == 400
    client.post("/workbench/logout", data={"csrf_token": _csrf(html)})
    assert client.get("/workbench/tickets").status_code == 302


def test_charts_count_what_bot_stats_counts(client, wecom_api, tickets, config):
    from bot import stats
    from bot.models import Ticket as T

    sign_in(client, "fang.lougang")
    html = client.get("/workbench/stats?period=month").get_data(as_text=True).replace("\n", "")
    with session_scope(config.DATABASE_URL) as s:
        start = stats.day_bounds(stats.local_today(utcnow()).replace(day=1))[0]
        lg1 = [tk for tk in s.scalars(select(T).where(T.patch_code == "LG-01", T.requested_at >= start))]
        c = stats.tally(lg1, utcnow())
    row = re.search(r"<td>按网格</td><td>楼冈社区第一网格</td><td>(\d+)</td><td>(\d+)</td><td>(\d+)</td><td>(\d+)</td>"
                    r"<td>([^<]+)</td><td>([^<]+)</td>", html)
    assert row.groups() == (str(c.filed), str(c.resolved), str(c.open), str(c.overdue),
                            stats.fmt_rate(c.response_rate), stats.fmt_rate(c.resolve_rate))


def test_a_town_cadre_of_another_town_sees_none_of_it(client, wecom_api, tickets):
    sign_in(client, "situ.sanbu")               # 三埠街道: 东河社区 is theirs, 楼冈社区 is not
    assert _numbers(client.get("/workbench/tickets").get_data(as_text=True)) == {tickets["dh1"]}
    assert client.get(f"/workbench/tickets/{tickets['lg1_new']}").status_code == 403
    token = _csrf(client.get("/workbench/tickets").get_data(as_text=True))
    assert client.post(f"/workbench/tickets/{tickets['lg1_new']}/nudge", data={"csrf_token": token}).status_code == 403


def test_a_photo_wecom_no_longer_has_is_reported_not_served(client, wecom_api, config):
    wecom_api.register_media("MEDIA-GONE", b"x", at=wecom_api.now() - 4 * 86400)
    number = file_ticket(config.DATABASE_URL, "chenayi", "LG-01", "楼下路灯坏了", photos=[("MEDIA-GONE", "")])
    sign_in(client, "fang.lougang")
    with session_scope(config.DATABASE_URL) as s:
        media = s.scalar(select(Ticket).where(Ticket.number == number)).media[0].id
    resp = client.get(f"/workbench/photos/{media}")
    assert resp.status_code == 404 and "还没有保存下来" in resp.get_data(as_text=True)
    assert "已过期未保存" in client.get(f"/workbench/tickets/{number}").get_data(as_text=True)


def test_inside_wecom_the_page_signs_in_at_once(client, wecom_api):
    resp = client.get("/workbench/", headers={"User-Agent": "Mozilla/5.0 (Linux; Android 13) wxwork/4.1.20 MicroMessenger/7.0.1"})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/workbench/login/oauth")
    desktop = client.get("/workbench/", headers={"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/120"})
    assert desktop.status_code == 200 and "企业微信扫码登录" in desktop.get_data(as_text=True)


def test_the_web_process_needs_a_secret_key_with_the_real_wecom(config):
    from bot import create_app, runtime
    from bot.errors import ConfigError

    real = dataclasses.replace(config, WECOM_API_BASE="https://qyapi.weixin.qq.com/cgi-bin/", QINGCHE_SECRET_KEY="")
    with pytest.raises(ConfigError, match="QINGCHE_SECRET_KEY"):
        create_app(real)
    runtime.reset()
    with pytest.raises(ConfigError, match="at least 32"):
        dataclasses.replace(config, QINGCHE_SECRET_KEY="short").validate()
