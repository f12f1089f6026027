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

QUESTION = "我要开张纸话我真系住喺楼冈嗰度"


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
