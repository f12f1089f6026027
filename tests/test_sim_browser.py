"""The demo's /sim page in a real browser: Playwright driving Debian's chromium against the embedded demo.

It renders what WeCom renders (markdown, template cards redrawn in place, files, images), and it is
usable: a search box, a header saying who you are, 发位置 with a choice of place, a phone-width layout.
Set QINGCHE_SCREENSHOT=1 to refresh docs/screenshots/sim.png from the walk-through.
"""
from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import requests
from werkzeug.serving import make_server

from bot import runtime
from bot.db import dispose_all
from bot.timeutil import to_local, utcnow
from tests.intake_driver import answer_for

try:
    from playwright.sync_api import expect, sync_playwright
except ImportError:  # pragma: no cover - the test extras install it
    sync_playwright = None

CHROMIUM = os.environ.get("QINGCHE_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]
SCREENSHOT = Path(__file__).resolve().parent.parent / "docs" / "screenshots" / "sim.png"
WAIT_MS = 20_000
WORKBOOK = b"PK\x03\x04 a sample workbook"

pytestmark = [
    pytest.mark.skipif(sync_playwright is None, reason="playwright is not installed: pip install -e '.[test]'"),
    pytest.mark.skipif(not os.path.exists(CHROMIUM),
                       reason=f"no chromium at {CHROMIUM}: apt-get install chromium (.ci/run installs it)"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def demo(tmp_path, monkeypatch):
    """The embedded demo (bot.demo.build) on a free port; yields (base url, app)."""
    for name in ("WECOM_CORP_ID", "WECOM_SECRET", "WECOM_TOKEN", "WECOM_AES_KEY", "WECOM_AGENT_ID", "REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("QINGCHE_DIGEST_TIME", "08:00")
    from bot.demo import build

    port = _free_port()
    app = build(port, f"sqlite:///{tmp_path}/demo.sqlite3", sweep_interval=0)
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}", app
    server.shutdown()
    server.server_close()
    runtime.reset()
    dispose_all()


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, demo):
    context = browser.new_context(viewport={"width": 1280, "height": 860}, locale="zh-CN", timezone_id="Asia/Shanghai")
    pg = context.new_page()
    pg.set_default_timeout(WAIT_MS)
    pg.goto(demo[0] + "/sim")
    yield pg
    context.close()


# --- driving the page --------------------------------------------------------------------------------

def pick(page, query: str, userid: str) -> None:
    """Find someone through the search box and play them."""
    if not page.locator("#search").is_visible():
        page.click("#toggle")
    page.fill("#search", query)
    page.click(f'.person[data-userid="{userid}"]')
    expect(page.locator("#who")).to_contain_text(query)


def bot_rows(page):
    return page.locator("#log .row.bot")


def say(page, text: str) -> str:
    """Type and send ``text``; wait for the bot's next message and return its text."""
    before = bot_rows(page).count()
    page.fill("#text", text)
    page.press("#text", "Enter")
    page.wait_for_function("n => document.querySelectorAll('#log .row.bot').length > n", arg=before)
    time.sleep(0.3)   # a reply of two messages arrives together
    return bot_rows(page).last.locator(".bubble").inner_text()


def file_complaint(page, text: str) -> list[str]:
    """Send ``text`` and answer whatever the intake asks (place 1, no photo, 确认) until the ticket is filed."""
    replies = [say(page, text)]
    for _ in range(6):
        answer = answer_for(replies[-1], place="1", photo="没有")
        if answer is None:
            break
        replies.append(say(page, answer))
    return replies


def sends(page) -> list:
    """Every request the page makes to /sim/send, as it makes them."""
    seen = []
    page.on("request", lambda r: seen.append(r) if r.url.endswith("/sim/send") else None)
    return seen


def card_buttons(row) -> list[str]:
    return row.locator(".c-btn").all_inner_texts()


# --- the walk-through --------------------------------------------------------------------------------

def test_complaint_to_ticket_card_redrawn_in_place(page, demo, tmp_path):
    expect(page.locator("#list h3")).to_have_count(6)
    headings = page.locator("#list h3").all_inner_texts()
    assert [h.split(" · ")[0] for h in headings] == ["微信居民（微信客服）", "居民", "网格员", "楼长", "干部", "部门联络员"]

    pick(page, "陈阿姨", "chenayi")
    assert page.locator(".person").count() == 1           # the search left only her
    who = page.locator("#who").inner_text()
    assert "陈阿姨" in who and "居民" in who and "楼冈社区第一网格" in who
    replies = file_complaint(page, "楼下路灯坏了三天了")
    assert "#1" in replies[-1], replies
    assert page.locator("#log .row.me .bubble").first.inner_text() == "楼下路灯坏了三天了"
    at_end = "e => e.scrollTop + e.clientHeight >= e.scrollHeight - 2"
    assert page.locator("#log").evaluate(at_end)

    pick(page, "梁晓敏", "liang.wg")
    assert "网格员" in page.locator("#who").inner_text()
    card = page.locator('#log .row[data-msgtype="template_card"]')
    expect(card).to_have_count(1)
    card_id = card.get_attribute("data-id")
    assert "#1" in card.locator(".c-title").inner_text()
    assert card.locator(".c-sub").inner_text()            # sub_title_text: the description
    assert card.locator(".c-kv").count() >= 2              # the horizontal content list
    assert card_buttons(card) == ["接单", "办结"]
    handle = card.element_handle()

    card.locator(".c-btn", has_text="接单").click()
    expect(card.locator(".c-btn")).to_have_text(["办结"])
    expect(card).to_have_count(1)                          # redrawn, not appended
    assert card.get_attribute("data-id") == card_id and handle.evaluate("e => e.isConnected")
    assert "已接单" in card.inner_text()

    before = bot_rows(page).count()
    card.locator(".c-btn", has_text="办结").click()
    page.wait_for_function("n => document.querySelectorAll('#log .row.bot').length > n", arg=before)  # asks for a note
    say(page, "已更换灯泡")
    done = card.locator(".c-btn")
    expect(done).to_have_text(["已办结"])                   # the button replaced by its replace_name, greyed out
    assert done.is_disabled()
    expect(card).to_have_count(1)
    assert page.locator("#log").evaluate(at_end)
    page.fill("#search", "")                               # the whole roster again, for the picture
    shot = SCREENSHOT if os.environ.get("QINGCHE_SCREENSHOT") else tmp_path / "sim.png"
    shot.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shot))


def test_the_cadres_digest_is_rendered_markdown(page, demo):
    base, app = demo
    from bot import digest

    pick(page, "方主任", "fang.lougang")
    assert "楼冈社区居委会" in page.locator("#who").inner_text()
    china_today = to_local(utcnow()).date()
    today_noon = datetime.combine(china_today, datetime.min.time()) + timedelta(hours=4)   # 12:00 China, in UTC
    assert digest.send_due(today_noon) >= 1
    md = page.locator('#log .row[data-msgtype="markdown"] .bubble')
    expect(md).to_have_count(1)
    assert "工单日报" in md.locator(".md-h2").inner_text()
    assert md.locator("b").count() >= 3
    assert md.locator(".md-warning").count() == 1
    text = md.inner_text()
    assert "##" not in text and "**" not in text and "<font" not in text and "font" not in text


def test_markdown_is_rendered_safely(page, demo):
    """Only WeCom's forms become markup; anything else a message holds stays text (no script runs)."""
    base, app = demo
    content = ("# 标题\n**粗体** 与 `代码`\n> 引用一\n> 引用二\n<font color=\"info\">绿色</font>"
               "<font color=\"comment\">灰色</font>\n[链接](https://example.org/a?b=1&c=2)\n"
               "[坏链接](javascript:window.pwned=1)\n<script>window.pwned=1</script>"
               "<img src=x onerror=\"window.pwned=1\">\n<font color=\"red\">红</font>")
    _deliver(base, "fang.lougang", "markdown", {"content": content})
    pick(page, "方主任", "fang.lougang")
    md = page.locator('#log .row[data-msgtype="markdown"] .bubble')
    expect(md).to_have_count(1)
    assert md.locator(".md-h1").inner_text() == "标题"
    assert md.locator("b").inner_text() == "粗体" and md.locator("code").inner_text() == "代码"
    assert md.locator("blockquote").inner_text() == "引用一\n引用二"
    assert md.locator(".md-info").inner_text() == "绿色" and md.locator(".md-comment").inner_text() == "灰色"
    [link] = md.locator("a").all()
    assert link.get_attribute("href") == "https://example.org/a?b=1&c=2" and link.inner_text() == "链接"
    assert md.locator("script, img, font").count() == 0
    text = md.inner_text()
    assert "<script>" in text and "<img" in text and '<font color="red">红</font>' in text
    assert "[坏链接](javascript:window.pwned=1)" in text
    assert page.evaluate("() => window.pwned") is None


def test_files_and_images_from_the_bot(page, demo):
    base, app = demo
    from bot.standin.api import PNG_1PX

    _deliver(base, "fang.lougang", "file", {"media_id": _upload(base, "file", "三率报表 2024-05.xlsx", WORKBOOK)})
    _deliver(base, "fang.lougang", "image", {"media_id": _upload(base, "image", "photo.png", PNG_1PX)})
    _deliver(base, "fang.lougang", "image", {"media_id": "not-in-the-stand-in"})
    pick(page, "方主任", "fang.lougang")

    link = page.locator('#log .row[data-msgtype="file"] a.file')
    expect(link).to_contain_text("三率报表 2024-05.xlsx")
    assert link.get_attribute("download") == "三率报表 2024-05.xlsx"
    with page.expect_download() as got:
        link.click()
    assert got.value.suggested_filename == "三率报表 2024-05.xlsx"
    assert Path(got.value.path()).read_bytes() == WORKBOOK

    images = page.locator('#log .row[data-msgtype="image"]')
    expect(images).to_have_count(2)
    img = images.first.locator("img")
    page.wait_for_function("e => e.complete && e.naturalWidth > 0", arg=img.element_handle())
    assert images.last.locator(".placeholder").inner_text().endswith("图片")
    assert requests.get(f"{base}/sim/media/nothing-here", timeout=5).status_code == 404


def test_what_people_type_is_text_and_id_numbers_are_masked(page, demo):
    base, app = demo
    pick(page, "陈阿姨", "chenayi")
    say(page, "<img src=x onerror=\"window.pwned=1\"> 我的身份证号 44078319800101123X")
    mine = page.locator("#log .row.me .bubble").last
    assert mine.inner_text() == "<img src=x onerror=\"window.pwned=1\"> 我的身份证号 440783********123X"
    assert page.evaluate("() => window.pwned") is None
    assert "19800101" not in requests.get(f"{base}/sim/messages", params={"userid": "chenayi"}, timeout=5).text
    assert not any("19800101" in m["text"] for m in app.extensions["qingche.sim"].entries)


def test_an_empty_send_sends_nothing(page):
    pick(page, "陈阿姨", "chenayi")
    seen = sends(page)
    page.press("#text", "Enter")
    page.fill("#text", "   ")
    page.click("#send")
    page.wait_for_timeout(600)
    assert seen == []
    assert page.locator("#log .row").count() == 0


def test_location_picks_a_patch_or_a_typed_place(page, demo):
    base, _ = demo
    patches = requests.get(f"{base}/sim/patches", timeout=5).json()
    lg02 = next(p for p in patches if p["code"] == "LG-02")
    pick(page, "陈阿姨", "chenayi")
    page.click("#loc")
    assert page.locator("#locpick option:checked").inner_text().endswith("（LG-01）")   # her own patch first
    page.select_option("#locpick", label=f"{lg02['name']}（LG-02）")
    with page.expect_request(lambda r: r.url.endswith("/sim/send")) as req:
        page.click("#locsend")
    body = req.value.post_data_json
    assert (body["type"], body["lat"], body["lng"], body["label"]) == ("location", lg02["lat"], lg02["lng"], lg02["name"])
    expect(page.locator("#log .row.me .bubble").last).to_have_text(f"[位置] {lg02['name']}")
    assert page.locator("#locpanel").is_hidden()

    page.click("#loc")
    page.select_option("#locpick", "other")
    page.fill("#loclabel", "长沙公园东门")
    page.fill("#loclat", "22.3901")
    page.fill("#loclng", "112.6999")
    with page.expect_request(lambda r: r.url.endswith("/sim/send")) as req:
        page.click("#locsend")
    body = req.value.post_data_json
    assert (body["lat"], body["lng"], body["label"]) == ("22.3901", "112.6999", "长沙公园东门")
    expect(page.locator("#log .row.me .bubble").last).to_have_text("[位置] 长沙公园东门")


def test_phone_width_keeps_the_input_on_screen(browser, demo):
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN", timezone_id="Asia/Shanghai", has_touch=True)
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    page.goto(demo[0] + "/sim")
    try:
        expect(page.locator("#toggle")).to_be_visible()
        assert page.locator("#search").is_visible()            # nobody chosen yet: the list is open
        pick(page, "陈阿姨", "chenayi")
        page.wait_for_function("() => getComputedStyle(document.getElementById('people')).transform !== 'none'"
                               " && document.getElementById('people').getBoundingClientRect().right <= 0")
        for text in ("你好", "开居住证明要带什么"):
            say(page, text)
        box = page.locator("#text").bounding_box()
        assert box["y"] >= 0 and box["y"] + box["height"] <= 844 and box["x"] >= 0 and box["x"] + box["width"] <= 390
        middle = [box["x"] + box["width"] / 2, box["y"] + box["height"] / 2]
        assert page.evaluate("([x, y]) => document.elementFromPoint(x, y).id", middle) == "text"
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
        send = page.locator("#send").bounding_box()
        assert send["x"] + send["width"] <= 390
        page.click("#toggle")
        expect(page.locator("#search")).to_be_in_viewport()
    finally:
        context.close()


def _token(base: str) -> str:
    return requests.get(f"{base}/standin/cgi-bin/gettoken", params={"corpid": "ww0000000000demo",
                                                                   "corpsecret": "demo-secret"}, timeout=5).json()["access_token"]


def _deliver(base: str, userid: str, msgtype: str, body: dict) -> None:
    """Send an app message through the stand-in's message/send, as the bot does (for forms no chat flow sends yet)."""
    resp = requests.post(f"{base}/standin/cgi-bin/message/send", params={"access_token": _token(base)},
                         json={"touser": userid, "agentid": 1000002, "msgtype": msgtype, msgtype: body}, timeout=5)
    assert resp.json()["errcode"] == 0, resp.text


def _upload(base: str, kind: str, filename: str, data: bytes) -> str:
    """Upload a medium through the stand-in's media/upload; its media_id."""
    resp = requests.post(f"{base}/standin/cgi-bin/media/upload", params={"access_token": _token(base), "type": kind},
                         files={"media": (filename, data)}, timeout=5)
    return resp.json()["media_id"]
