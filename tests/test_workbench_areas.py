"""The workbench's areas through the Flask test client: teaching missed questions, certificate
applications (通过 / 退回补充 / 不予出具) and the visit ledger; rights, CSRF and exports.

Sign-in goes through the stand-in's OAuth page as in tests/test_workbench.py; residents ask and
apply through /wecom/callback (the ``chat`` fixture), and pushes are read from the stand-in.
"""
from __future__ import annotations

import dataclasses
import io
import re

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from bot.db import session_scope
from bot.models import CatalogueMiss, TaughtPhrase
from tests.workbench_helpers import sign_in

QUESTION = "阿妹要张纸交去报名舞蹈班"  # a need in words neither the keywords nor the examples know


@pytest.fixture
def config(config, standin_server, tmp_path):
    """The suite's settings plus the stand-in as the sign-in host."""
    return dataclasses.replace(config, WECOM_OAUTH_BASE=standin_server.oauth_base,
                               WECOM_SSO_BASE=standin_server.oauth_base, QINGCHE_MEDIA_DIR=str(tmp_path / "media"))


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def _text(resp) -> str:
    return resp.get_data(as_text=True)


def _sheet(resp) -> list[tuple]:
    assert resp.status_code == 200 and resp.mimetype.endswith("spreadsheetml.sheet")
    return list(load_workbook(io.BytesIO(resp.data)).active.iter_rows(values_only=True))


# --- missed questions: 教一教 ------------------------------------------------------------------

def _missed(chat, config, who="chenayi", text=QUESTION) -> int:
    chat(who, text)
    chat(who, "2")
    with session_scope(config.DATABASE_URL) as s:
        return s.scalar(select(CatalogueMiss.id).where(CatalogueMiss.text == text))


def test_cadre_teaches_a_missed_question_and_the_village_is_answered(client, chat, config, wecom_api):
    number = _missed(chat, config)
    sign_in(client, "fang.lougang")
    html = _text(client.get("/workbench/misses"))
    assert f"#{number}" in html and f"/workbench/misses/{number}/teach" in html
    resp = client.post(f"/workbench/misses/{number}/teach", data={"csrf_token": _csrf(html), "entry": "居住证明"})
    assert resp.status_code == 302
    page = _text(client.get("/workbench/misses"))
    assert "学会了" in page and "居（租）住情况证明" in page and "已学会：R1" in page
    with session_scope(config.DATABASE_URL) as s:
        row = s.scalar(select(TaughtPhrase))
        assert (row.item_id, row.jurisdiction, row.taught_by, row.active) == ("R1", "楼冈社区居委会", "fang.lougang", True)
    assert chat("chenayi", QUESTION)[0].startswith("【居（租）住情况证明】")
    assert not chat("lisuk", QUESTION)[0].startswith("【")          # another community was not taught
    rows = _sheet(client.get("/workbench/misses/export"))
    assert rows[0][-1] == "已学会" and rows[1][0] == number and rows[1][-1].startswith("R1")
    # 撤销: forgotten again
    client.post(f"/workbench/misses/{number}/retire", data={"csrf_token": _csrf(page)})
    assert "已撤销" in _text(client.get("/workbench/misses"))
    assert not chat("chenayi", QUESTION)[0].startswith("【")


def test_teaching_is_refused_without_token_outside_the_area_or_for_an_unknown_entry(client, chat, config, wecom_api):
    number = _missed(chat, config)
    sign_in(client, "fang.lougang")
    html = _text(client.get("/workbench/misses"))
    resp = client.post(f"/workbench/misses/{number}/teach", data={"entry": "居住证明"})
    assert resp.status_code == 400 and "页面已过期" in _text(resp)
    client.post(f"/workbench/misses/{number}/teach", data={"csrf_token": _csrf(html), "entry": "火星证明"})
    assert "没有找到“火星证明”" in _text(client.get("/workbench/misses"))
    client.post("/workbench/logout", data={"csrf_token": _csrf(html)})
    sign_in(client, "lu.donghe")                                     # 东河: not their resident's question
    other = _text(client.get("/workbench/misses"))
    assert f"#{number}" not in other
    resp = client.post(f"/workbench/misses/{number}/teach", data={"csrf_token": _csrf(other), "entry": "居住证明"})
    assert resp.status_code == 404
    client.post("/workbench/logout", data={"csrf_token": _csrf(other)})
    sign_in(client, "liang.wg")                                      # grid workers do not teach
    token = _csrf(_text(client.get("/workbench/tickets")))
    resp = client.post(f"/workbench/misses/{number}/teach", data={"csrf_token": token, "entry": "居住证明"})
    assert resp.status_code == 403
    with session_scope(config.DATABASE_URL) as s:
        assert s.scalar(select(TaughtPhrase)) is None


# --- certificate applications ------------------------------------------------------------------

SAMPLE_ID = "440783198805120024"       # sample number made for the tests (valid check digit)
SAMPLE_ID_MASKED = "440783********0024"
HARDSHIP = {"name": "陈美玲", "id_number": SAMPLE_ID, "school": "楼冈小学", "guardian": "陈阿姨",
            "situation": "父亲因病失业，母亲务农"}


def file_application(db_url: str, applicant: str, patch_code: str, certificate: str = "R3",
                     values: dict | None = None) -> int:
    """File an application as the chat's 确认 does (``service.submit``); return its number."""
    from bot.applications import service
    from bot.applications.fields import form_for
    from bot.models import Patch, Person

    with session_scope(db_url) as s:
        patch = s.scalar(select(Patch).where(Patch.code == patch_code))
        person = s.scalar(select(Person).where(Person.userid == applicant))
        app, _ = service.submit(s, form=form_for(certificate), applicant=applicant, channel="app", person=person,
                                values=dict(values or HARDSHIP), photos={"school_form": [("photo-form", "")]},
                                village=patch.village, town=patch.town, patch_code=patch.code)
        return app.number


@pytest.fixture
def applications(app, config):
    """Two 楼冈 applications (家庭经济困难学生证明, with the cadres) and one from 东河."""
    return {"lg_a": file_application(config.DATABASE_URL, "chenayi", "LG-01"),
            "lg_b": file_application(config.DATABASE_URL, "chenayi", "LG-02"),
            "dh": file_application(config.DATABASE_URL, "lisuk", "DH-01", values={**HARDSHIP, "name": "李淑"})}


def _app_numbers(html: str) -> set[int]:
    return {int(n) for n in re.findall(r'href="/workbench/applications/(\d+)"', html)}


def test_cadres_see_their_jurisdictions_applications_with_ids_masked(client, wecom_api, applications):
    sign_in(client, "fang.lougang")
    html = _text(client.get("/workbench/applications"))
    assert "证明申请" in html and _app_numbers(html) == {applications["lg_a"], applications["lg_b"]}
    assert SAMPLE_ID_MASKED in html and SAMPLE_ID not in html
    detail = _text(client.get(f"/workbench/applications/{applications['lg_a']}"))
    assert SAMPLE_ID in detail and 'id="approve"' in detail       # the village's own cadre sees it whole
    assert client.get(f"/workbench/applications/{applications['dh']}").status_code == 403
    filtered = _text(client.get("/workbench/applications", query_string={"status": "approved"}))
    assert _app_numbers(filtered) == set()
    assert _app_numbers(_text(client.get("/workbench/applications", query_string={
        "status": "submitted", "certificate": "R3", "period": "7d"}))) == {applications["lg_a"], applications["lg_b"]}
    rows = _sheet(client.get("/workbench/applications/export", query_string={"status": "submitted"}))
    assert rows[0][0] == "编号" and {r[0] for r in rows[1:]} == {f"A{applications['lg_a']}", f"A{applications['lg_b']}"}
    assert all(SAMPLE_ID not in str(c) for r in rows for c in r)


def test_a_town_cadre_sees_but_does_not_decide(client, wecom_api, applications):
    sign_in(client, "guan.changsha")
    html = _text(client.get("/workbench/applications"))
    assert applications["lg_a"] in _app_numbers(html)
    detail = client.get(f"/workbench/applications/{applications['lg_a']}")
    assert detail.status_code == 200 and SAMPLE_ID not in _text(detail) and 'id="approve"' not in _text(detail)
    resp = client.post(f"/workbench/applications/{applications['lg_a']}/approve", data={"csrf_token": _csrf(html)})
    assert resp.status_code == 403


def test_cadre_approves_and_the_resident_is_told_through_the_outbox(client, wecom, wecom_api, applications, config):
    from bot.models import Application

    number = applications["lg_a"]
    sign_in(client, "fang.lougang")
    html = _text(client.get(f"/workbench/applications/{number}"))
    resp = client.post(f"/workbench/applications/{number}/approve", data={"csrf_token": _csrf(html)})
    assert resp.status_code == 302
    page = _text(client.get(f"/workbench/applications/{number}"))
    assert f"已通过 #A{number}" in page and "已通过，待领取" in page and 'id="document"' in page
    with session_scope(config.DATABASE_URL) as s:
        app = s.scalar(select(Application).where(Application.number == number))
        assert (app.status, app.decided_by) == ("approved", "fang.lougang") and app.register_number
        register = app.register_number
    doc = client.get(f"/workbench/applications/{number}/document")
    assert doc.status_code == 200 and doc.data[:2] == b"PK"
    wecom.run()
    told = [t for t in wecom_api.texts_to("chenayi") if f"#A{number}" in t]
    assert len(told) == 1 and "已通过" in told[0] and register in told[0]
    assert any(m.get("msgtype") == "file" for m in wecom_api.messages_to("fang.lougang"))
    # twice is refused by the state table, with the chat's words
    client.post(f"/workbench/applications/{number}/approve", data={"csrf_token": _csrf(page)})
    assert 'id="approve"' not in _text(client.get(f"/workbench/applications/{number}"))


@pytest.mark.parametrize("action, note, status, told", [
    ("return", "缺少学校盖章的申请表", "returned", "需要补充：缺少学校盖章的申请表"),
    ("refuse", "不是本社区居民", "refused", "不予出具，原因：不是本社区居民"),
])
def test_cadre_returns_or_refuses_with_the_reason(client, wecom, wecom_api, applications, action, note, status, told):
    number = applications["lg_b"]
    sign_in(client, "fang.lougang")
    html = _text(client.get(f"/workbench/applications/{number}"))
    client.post(f"/workbench/applications/{number}/{action}", data={"csrf_token": _csrf(html), "note": ""})
    assert "请写明" in _text(client.get(f"/workbench/applications/{number}"))      # the reason is required
    client.post(f"/workbench/applications/{number}/{action}", data={"csrf_token": _csrf(html), "note": note})
    page = _text(client.get(f"/workbench/applications/{number}"))
    assert note in page
    wecom.run()
    assert any(told in t for t in wecom_api.texts_to("chenayi"))
    filtered = _text(client.get("/workbench/applications", query_string={"status": status}))
    assert _app_numbers(filtered) == {number}


def test_applications_refuse_other_villages_forged_posts_and_grid_workers(client, wecom_api, applications, config):
    from bot.models import Application

    number = applications["lg_a"]
    sign_in(client, "lu.donghe")                                     # another community's cadre
    html = _text(client.get("/workbench/applications"))
    assert _app_numbers(html) == {applications["dh"]}
    assert client.get(f"/workbench/applications/{number}").status_code == 403
    assert client.post(f"/workbench/applications/{number}/approve", data={"csrf_token": _csrf(html)}).status_code == 403
    client.post("/workbench/logout", data={"csrf_token": _csrf(html)})
    sign_in(client, "fang.lougang")
    for data in ({}, {"csrf_token": "forged"}):                      # a forged POST
        resp = client.post(f"/workbench/applications/{number}/approve", data=data)
        assert resp.status_code == 400 and "页面已过期" in _text(resp)
    token = _csrf(_text(client.get("/workbench/applications")))
    client.post("/workbench/logout", data={"csrf_token": token})
    sign_in(client, "liang.wg")                                      # a grid worker
    token = _csrf(_text(client.get("/workbench/tickets")))
    assert "证明申请" not in _text(client.get("/workbench/tickets"))
    assert client.get("/workbench/applications").status_code == 403
    assert client.post(f"/workbench/applications/{number}/approve", data={"csrf_token": token}).status_code == 403
    with session_scope(config.DATABASE_URL) as s:
        assert s.scalar(select(Application).where(Application.number == number)).status == "submitted"


# --- the visit ledger --------------------------------------------------------------------------

@pytest.fixture
def visits(chat):
    """Visits logged in chat: 陈阿姨 (党员家庭) and 冯生 (重点人员) on LG-01, 李姑娘 (特殊家庭) on LG-02."""
    assert "已记录" in chat("liang.wg", "走访 陈阿姨 身体还好")[0]
    assert "已记录" in chat("liang.wg", "走访 冯生 情绪稳定，按时服药")[0]
    assert "已记录" in chat("zhou.wg", "走访 李姑娘 轮椅坏了")[0]


def test_the_village_cadre_sees_coverage_and_every_visit(client, wecom_api, visits):
    sign_in(client, "fang.lougang")
    html = _text(client.get("/workbench/visits"))
    assert "走访" in _text(client.get("/workbench/tickets"))                 # in the navigation
    coverage = html.split('id="coverage"')[1].split("</table>")[0]
    assert "LG-01" in coverage and "梁晓敏" in coverage and "40.0%" in coverage
    assert "LG-02" in coverage and "周志强" in coverage and "DH-01" not in coverage
    listed = html.split('id="visits"')[1]
    assert "冯生" in listed and "重点人员" in listed and "情绪稳定" in listed and "李姑娘" in listed
    book = load_workbook(io.BytesIO(client.get("/workbench/visits/export").data))
    assert book.sheetnames == ["走访率", "走访记录"]
    cover = list(book["走访率"].iter_rows(values_only=True))
    assert cover[0][0] == "网格编号" and ("LG-01", 5, 2) == (cover[1][0], cover[1][4], cover[1][5])
    assert {r[3].split("（")[0] for r in list(book["走访记录"].iter_rows(values_only=True))[1:]} == {"陈阿姨", "冯生", "李姑娘"}


def test_sensitive_households_are_hidden_from_the_town_and_other_patches(client, wecom_api, visits):
    sign_in(client, "guan.changsha")                                   # the town's cadre: counts, not who
    html = _text(client.get("/workbench/visits"))
    listed = html.split('id="visits"')[1]
    assert "陈阿姨" in listed and "冯生" not in listed and "李姑娘" not in listed and "情绪稳定" not in listed
    assert "重点人员" not in listed and "特殊家庭" not in listed and listed.count("特殊关注户") == 2
    rows = list(load_workbook(io.BytesIO(client.get("/workbench/visits/export").data))["走访记录"]
                .iter_rows(values_only=True))
    assert not any("冯生" in str(c) or "李姑娘" in str(c) or "重点人员" in str(c) for r in rows for c in r)
    client.post("/workbench/logout", data={"csrf_token": _csrf(html)})
    sign_in(client, "liang.wg")                                        # LG-01's grid worker: own patch only
    listed = _text(client.get("/workbench/visits")).split('id="visits"')[1]
    assert "冯生" in listed and "重点人员" in listed and "李姑娘" not in listed and "特殊关注户" not in listed
    token = _csrf(_text(client.get("/workbench/tickets")))
    client.post("/workbench/logout", data={"csrf_token": token})
    sign_in(client, "lu.donghe")                                       # another community's cadre
    html = _text(client.get("/workbench/visits"))
    assert "LG-01" not in html and "冯生" not in html and "陈阿姨" not in html and "DH-01" in html
