"""The workbench in a real browser (Playwright driving Debian's chromium) against the real app on a
real HTTP server, with the WeCom stand-in serving the sign-in pages and the API.

Set QINGCHE_SCREENSHOTS=docs/screenshots to refresh the README's screenshots.
"""
from __future__ import annotations

import dataclasses
import io
import os
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook
from werkzeug.serving import make_server

from bot.timeutil import utcnow
from tests.workbench_helpers import file_ticket

sync_api = pytest.importorskip("playwright.sync_api")
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SHOTS = os.environ.get("QINGCHE_SCREENSHOTS", "")

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="chromium is not installed (.ci/run installs it)")


@pytest.fixture
def config(config, standin_server, tmp_path):
    return dataclasses.replace(config, WECOM_OAUTH_BASE=standin_server.oauth_base,
                               WECOM_SSO_BASE=standin_server.oauth_base, QINGCHE_MEDIA_DIR=str(tmp_path / "media"))


@pytest.fixture
def live_url(app):
    """The app on a real HTTP server on 127.0.0.1."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def browser():
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(accept_downloads=True, locale="zh-CN", viewport={"width": 1100, "height": 900})
    p = context.new_page()
    p.set_default_timeout(15_000)
    yield p
    context.close()


@pytest.fixture
def tickets(app, config):
    old = utcnow() - timedelta(days=20)
    return {"overdue": file_ticket(config.DATABASE_URL, "chenayi", "LG-01", "楼下路灯坏了三天了", now=old,
                                   photos=[("MEDIA-BROWSER-LAMP", "")]),
            "fresh": file_ticket(config.DATABASE_URL, "chenayi", "LG-01", "楼道垃圾没人清理"),
            "lg2": file_ticket(config.DATABASE_URL, "chenayi", "LG-02", "碧桂园门口路灯不亮")}


def _shot(page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


def _sign_in(page, live_url: str, name: str, kind: str = "在企业微信内打开") -> None:
    """Open the workbench, take the WeCom sign-in, pick ``name`` on the stand-in's page."""
    page.goto(live_url + "/workbench/")
    page.get_by_role("link", name=kind).click()
    page.get_by_role("button", name=name).click()


def test_village_cadre_filters_opens_nudges_and_exports(page, live_url, tickets, wecom, wecom_api, tmp_path):
    _sign_in(page, live_url, "方主任")
    page.wait_for_url("**/workbench/tickets**")
    assert "欢迎，方主任" in page.content()
    rows = page.locator("#tickets tbody tr")
    assert rows.count() == 3
    _shot(page, "tickets")

    page.locator("#overdue").check()
    page.locator("#apply").click()
    page.wait_for_url("**overdue=1**")
    assert page.locator("#tickets tbody tr").count() == 1
    page.get_by_role("link", name=f"#{tickets['overdue']}").click()
    page.wait_for_url(f"**/workbench/tickets/{tickets['overdue']}")
    assert page.locator("h1").inner_text().startswith(f"#{tickets['overdue']} 路灯")
    assert page.locator("img").first.evaluate("img => img.complete && img.naturalWidth > 0")   # the stored photo

    page.locator("#nudge input[name=note]").fill("今天内处理")
    page.locator("#nudge button").click()
    page.wait_for_selector(".flash")
    assert "已催办" in page.locator(".flash").inner_text()
    assert "催办" in page.locator("#history").inner_text()
    _shot(page, "ticket")
    wecom.run()
    assert any("催办" in t and "今天内处理" in t for t in wecom_api.texts_to("liang.wg"))

    page.goto(live_url + "/workbench/tickets?overdue=1")
    with page.expect_download() as info:
        page.locator("#export").click()
    saved = tmp_path / "export.xlsx"
    info.value.save_as(saved)
    sheet = load_workbook(io.BytesIO(saved.read_bytes())).active
    assert [r[0] for r in sheet.iter_rows(min_row=2, values_only=True)] == [tickets["overdue"]]

    for path, name in (("/workbench/map", "map"), ("/workbench/stats", "stats")):
        page.goto(live_url + path)
        assert page.locator("svg").count() >= 1
        _shot(page, name)


def test_grid_worker_cannot_open_another_patch(page, live_url, tickets, wecom_api, config):
    _sign_in(page, live_url, "周", kind="企业微信扫码登录")       # zhou.wg, LG-02, by the desktop QR login
    page.wait_for_url("**/workbench/tickets**")
    assert page.locator("#tickets tbody tr").count() == 1
    resp = page.goto(f"{live_url}/workbench/tickets/{tickets['overdue']}")
    assert resp.status == 403 and "不在您的管辖范围内" in page.content()
    _shot(page, "forbidden")
    from sqlalchemy import select

    from bot.db import session_scope
    from bot.models import TicketMedia

    with session_scope(config.DATABASE_URL) as s:
        photo = s.scalar(select(TicketMedia.id))
    assert page.goto(f"{live_url}/workbench/photos/{photo}").status == 403


def test_forged_post_without_csrf_token_is_refused(page, live_url, tickets, wecom_api):
    _sign_in(page, live_url, "方主任")
    page.wait_for_url("**/workbench/tickets**")
    resp = page.request.post(f"{live_url}/workbench/tickets/{tickets['fresh']}/nudge", form={"note": "forged"})
    assert resp.status == 400
    page.goto(f"{live_url}/workbench/tickets/{tickets['fresh']}")
    assert "forged" not in page.locator("#history").inner_text()


def test_village_cadre_approves_an_application(page, live_url, config, wecom, wecom_api):
    from tests.test_workbench_areas import SAMPLE_ID, file_application

    number = file_application(config.DATABASE_URL, "chenayi", "LG-01")
    _sign_in(page, live_url, "方主任")
    page.wait_for_url("**/workbench/tickets**")
    page.get_by_role("link", name="证明申请").click()
    page.get_by_role("link", name=f"#A{number}").click()
    page.wait_for_url(f"**/workbench/applications/{number}")
    assert SAMPLE_ID in page.locator("#fields").inner_text()
    page.locator("#approve button").click()
    page.wait_for_selector(".flash")
    assert f"已通过 #A{number}" in page.locator(".flash").inner_text()
    assert page.locator("#status").inner_text() == "已通过，待领取" and page.locator("#register").count() == 1
    _shot(page, "application")
    wecom.run()
    assert any(f"#A{number}" in t and "已通过" in t for t in wecom_api.texts_to("chenayi"))


def test_resident_gets_nothing(page, live_url, tickets, wecom_api):
    _sign_in(page, live_url, "陈阿姨")
    assert "只对干部和网格员开放" in page.content()
    assert page.goto(f"{live_url}/workbench/tickets/{tickets['fresh']}").url.endswith("/workbench/")


@pytest.mark.skipif(not SHOTS, reason="set QINGCHE_SCREENSHOTS=docs/screenshots to refresh the README's screenshots")
def test_screenshots_of_a_busier_area(page, live_url, app, config, wecom_api):
    """A few weeks of sample tickets in 楼冈社区, some handled and rated, for the README's pictures."""
    from bot.db import session_scope
    from bot.models import Person
    from bot.tickets import service

    texts = ["楼下路灯坏了三天了", "楼道垃圾没人清理", "碧桂园门口路灯不亮", "新昌路井盖松动", "幸福花园水管漏水",
             "楼冈市场噪音很大", "沿江路积水", "长沙公园树倒了"]
    rng = __import__("random").Random(5)
    numbers = []
    for i in range(40):
        at = utcnow() - timedelta(days=rng.randint(0, 150), hours=rng.randint(0, 23))
        numbers.append(file_ticket(config.DATABASE_URL, "chenayi", rng.choice(["LG-01", "LG-02"]), rng.choice(texts),
                                   now=at, photos=[(f"MEDIA-SHOT-{i}", "")] if i % 5 == 0 else None))
    with session_scope(config.DATABASE_URL) as s:
        for number in numbers[::2]:
            ticket = service.find(s, number)
            worker = s.query(Person).filter_by(userid=ticket.assignee_userid).one()
            at = ticket.requested_at + timedelta(hours=rng.randint(1, 30))
            service.acknowledge(s, ticket, worker, now=at)
            if rng.random() < .8:
                service.resolve(s, ticket, worker, "已处理", now=at + timedelta(hours=rng.randint(1, 60)))
                if rng.random() < .7:
                    service.rate(s, ticket, "chenayi", rng.choice([5, 5, 4, 3, 2]), now=at + timedelta(days=3))
    _sign_in(page, live_url, "方主任")
    page.wait_for_url("**/workbench/tickets**")
    _shot(page, "tickets")
    page.goto(f"{live_url}/workbench/tickets/{numbers[1]}")
    _shot(page, "ticket")
    for path, name in (("/workbench/map", "map"), ("/workbench/stats", "stats"), ("/workbench/roster", "roster")):
        page.goto(live_url + path)
        _shot(page, name)
