"""A cadre's 查询 #n shows who did what by name and role, never userids, media ids or links."""
import re

import pytest

from tests.cadre_helpers import file_streetlight
from tests.kf_helpers import WeChatResident


def history(detail: str) -> list[str]:
    """The 最近记录 lines without their times."""
    lines = detail.split("最近记录：\n", 1)[1].splitlines()
    return [re.sub(r"^\d+月\d+日 \d\d:\d\d ", "", line) for line in lines]


def test_history_names_people_and_roles(chat, wecom, wecom_api):
    chat("chenayi", "楼下路灯坏了三天了")
    chat("chenayi", "1")
    wecom.image("chenayi", media_id="MEDIA-LAMP", pic_url="http://pic.example/lamp.jpg")
    wecom.run()
    chat("chenayi", "确认")
    chat("liang.wg", "接单 #1")
    chat("liang.wg", "办结 #1 已更换灯泡")
    wecom.image("liang.wg", media_id="MEDIA-FIXED", pic_url="http://pic.example/fixed.jpg")
    wecom.run()
    chat("chenayi", "满意")
    [detail] = chat("fang.lougang", "查询 #1")
    assert history(detail) == [
        "陈阿姨（居民） 提交",
        "系统 派单 梁晓敏",
        "梁晓敏（网格员） 接单",
        "梁晓敏（网格员） 办结 已更换灯泡",
        "梁晓敏（网格员） 办结凭证 照片",
        "陈阿姨（居民） 评价 5分",
    ]
    for raw in ("system", "liang.wg", "chenayi", "MEDIA", "http"):
        assert raw not in detail


def test_a_cadre_dispatch_shows_both_names(chat):
    file_streetlight(chat)
    chat("fang.lougang", "派单 #1 zhou.wg")
    chat("fang.lougang", "催办 #1")
    [detail] = chat("guan.changsha", "查询 #1")
    assert history(detail)[-2:] == ["方主任（楼冈社区居委会） 派单 周志强", "方主任（楼冈社区居委会） 催办"]
    assert "zhou.wg" not in detail and "fang.lougang" not in detail


@pytest.fixture
def resident(wecom, wecom_api):
    return WeChatResident(wecom, wecom_api, "wmDemo001")


def test_a_wechat_resident_without_a_name_is_a_wechat_resident(resident, chat):
    resident.enter()
    resident.write("我住在大沙墟社区")
    resident.write("路灯坏了三天了")
    resident.write("1")
    resident.write("没有")
    resident.write("确认")
    chat("mei.wg", "办结 #1 已更换灯泡")
    resident.write("非常不满意")
    [detail] = chat("xu.dasha", "查询 #1")
    lines = history(detail)
    assert lines[:3] == ["微信居民 提交", "系统 派单 梅少芬", "梅少芬（网格员） 办结 已更换灯泡"]
    assert "微信居民 评价 1分" in lines
    assert "wmDemo001" not in detail and "system" not in detail
