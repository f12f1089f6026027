"""Complaints become tickets for the grid worker; grid workers close them by replying.

End to end through /wecom/callback, a real Redis, a real rq worker and the WeCom API stand-in.
"""
import pytest
from sqlalchemy import select

from bot.db import session_scope
from bot.models import Ticket, TicketMedia
from bot.standin import callbacks
from tests.conftest import CORP_ID


def _tickets(config):
    with session_scope(config.DATABASE_URL) as s:
        return s.scalars(select(Ticket).order_by(Ticket.id)).all()


def _events(config, number):
    with session_scope(config.DATABASE_URL) as s:
        ticket = s.scalar(select(Ticket).where(Ticket.number == number))
        return [(e.actor, e.action, e.from_status, e.to_status) for e in ticket.events]


def _file_streetlight(chat, user="chenayi"):
    """A resident files "楼下路灯坏了三天了" at her registered patch, without a photo."""
    [ask_where] = chat(user, "楼下路灯坏了三天了")
    assert "问题在哪里" in ask_where and "楼冈社区第一网格" in ask_where
    [summary] = chat(user, "1")     # the photo is an offer in the summary, not a step
    assert "路灯" in summary and "确认" in summary and "照片" in summary
    [filed] = chat(user, "确认")
    assert "#1" in filed and "梁晓敏" in filed and "24小时" in filed
    return filed


def test_resident_files_worker_acknowledges_resolves_resident_rates(chat, wecom_api, config):
    _file_streetlight(chat)
    push = wecom_api.texts_to("liang.wg")
    assert push[0].startswith("【新工单 #1】路灯")
    assert "138****1001" in push[0] and "陈阿姨" in push[0]
    assert "接单 #1" in push[0] and "办结 #1" in push[0] and "退单 #1" in push[0]
    card = [m for m in wecom_api.messages_to("liang.wg") if m["msgtype"] == "template_card"]
    assert [b["key"] for b in card[0]["template_card"]["button_list"]] == ["ticket:acknowledge:1",
                                                                          "ticket:resolve:1"]
    assert wecom_api.texts_to("zhou.wg") == []   # another patch's worker hears nothing

    [ack] = chat("liang.wg", "接单 #1")
    assert "已接单 #1" in ack
    assert "已由梁晓敏接单" in wecom_api.texts_to("chenayi")[-1]

    [done] = chat("liang.wg", "办结 #1 已更换灯泡")
    assert "已办结 #1" in done
    told = wecom_api.texts_to("chenayi")[-1]
    assert "已办结" in told and "已更换灯泡" in told and "满意" in told

    [thanks] = chat("chenayi", "满意")
    assert "5分" in thanks
    [ticket] = _tickets(config)
    assert (ticket.status, ticket.rating, ticket.status_notes) == ("closed", 5, "已更换灯泡")
    assert [e[1] for e in _events(config, 1)] == ["create", "assign", "acknowledge", "resolve", "rate", "rate"]
    assert "群众评价：5分" in wecom_api.texts_to("liang.wg")[-1]


def test_another_grid_worker_cannot_close_it_and_the_ticket_stays(chat, wecom_api, config):
    _file_streetlight(chat)
    told = len(wecom_api.texts_to("chenayi"))
    [refused] = chat("zhou.wg", "办结 #1 已处理")
    assert "不能修改" in refused
    [refused] = chat("lu.donghe", "接单 #1")          # a cadre of another community
    assert "不能修改" in refused
    [refused] = chat("lisuk", "办结 #1 好了")          # a resident
    assert "不能修改" in refused
    [ticket] = _tickets(config)
    assert (ticket.status, ticket.assignee_userid) == ("open", "liang.wg")
    assert [e[1] for e in _events(config, 1)] == ["create", "assign"]
    assert len(wecom_api.texts_to("chenayi")) == told      # the resident heard of no change
    [ok] = chat("fang.lougang", "办结 #1 已通知路灯所维修")   # the community's cadre may
    assert "已办结 #1" in ok


def test_illegal_transition_is_refused(chat, config):
    _file_streetlight(chat)
    chat("liang.wg", "办结 #1 已修好")
    [refused] = chat("liang.wg", "接单 #1")
    assert "已办结，待评价" in refused and "不能接单" in refused
    assert _tickets(config)[0].status == "resolved"


def test_repeated_callbacks_make_one_ticket(wecom, wecom_api, chat, config):
    chat("chenayi", "楼下路灯坏了三天了")
    chat("chenayi", "1")
    chat("chenayi", "没有")
    xml = callbacks.text_xml(CORP_ID, "chenayi", "确认", msg_id=990001)
    for _ in range(3):
        assert wecom.post_xml(xml).status_code == 200
    wecom.run()
    assert wecom.post_xml(xml).status_code == 200
    wecom.run()
    assert len(_tickets(config)) == 1
    assert sum(t.startswith("【新工单 #1】") for t in wecom_api.texts_to("liang.wg")) == 1
    assert sum("已提交" in t for t in wecom_api.texts_to("chenayi")) == 1


def test_card_buttons_acknowledge_and_ask_for_the_resolution(wecom, wecom_api, chat, config):
    _file_streetlight(chat)
    wecom.event("liang.wg", "template_card_event", EventKey="ticket:acknowledge:1", TaskId="ticket-1-1")
    wecom.run()
    assert "已接单 #1" in wecom_api.texts_to("liang.wg")[-1]
    wecom.event("liang.wg", "template_card_event", EventKey="ticket:resolve:1", TaskId="ticket-1-1")
    wecom.run()
    assert "处理说明" in wecom_api.texts_to("liang.wg")[-1]
    [done] = chat("liang.wg", "路灯所已换灯泡")
    assert "已办结 #1" in done
    assert _tickets(config)[0].status_notes == "路灯所已换灯泡"


def test_plain_resolve_closes_the_only_ticket_and_asks_when_several(chat, wecom_api, config):
    _file_streetlight(chat)
    [done] = chat("liang.wg", "办结 已换灯泡")
    assert "已办结 #1" in done
    chat("chenayi", "满意")
    chat("chenayi", "幸福花园2栋门口垃圾冇人收好臭")
    chat("chenayi", "冇")
    chat("chenayi", "确认")
    chat("ou.lz", "楼冈市场门口有人占道摆摊")
    chat("ou.lz", "没有")
    chat("ou.lz", "确认")
    [which] = chat("liang.wg", "办结 已处理")
    assert "#2" in which and "#3" in which
    [done] = chat("liang.wg", "#3")
    assert "已办结 #3" in done
    statuses = {t.number: t.status for t in _tickets(config)}
    assert statuses == {1: "closed", 2: "open", 3: "resolved"}


def test_photo_reaches_the_worker_and_evidence_is_attached(wecom, wecom_api, chat, config):
    chat("chenayi", "楼下路灯坏了三天了")
    chat("chenayi", "1")
    wecom.image("chenayi", media_id="MEDIA-LAMP", pic_url="http://pic.example/lamp.jpg")
    wecom.run()
    assert "请核对" in wecom_api.texts_to("chenayi")[-1]
    chat("chenayi", "确认")
    images = [m for m in wecom_api.messages_to("liang.wg") if m["msgtype"] == "image"]
    assert images[0]["image"] == {"media_id": "MEDIA-LAMP"}
    chat("liang.wg", "办结 #1 已换灯泡")
    wecom.image("liang.wg", media_id="MEDIA-FIXED")
    wecom.run()
    assert "凭证" in wecom_api.texts_to("liang.wg")[-1]
    with session_scope(config.DATABASE_URL) as s:
        kinds = [(m.kind, m.media_id) for m in s.scalars(select(TicketMedia).order_by(TicketMedia.id))]
    assert kinds == [("photo", "MEDIA-LAMP"), ("evidence", "MEDIA-FIXED")]


def test_unsatisfied_rating_reopens_to_the_cadre(chat, wecom_api, config):
    _file_streetlight(chat)
    chat("liang.wg", "办结 #1 已报修")
    [sorry] = chat("chenayi", "唔滿意，仲係黑")
    assert "重新打开" in sorry
    ticket = _tickets(config)[0]
    assert (ticket.status, ticket.rating) == ("reopened", 1)
    assert "群众不满意 #1" in wecom_api.texts_to("fang.lougang")[-1]
    [ack] = chat("liang.wg", "接单 #1")
    assert "已接单 #1" in ack


def test_return_goes_back_to_the_cadre_who_can_handle_it(chat, wecom_api, config):
    _file_streetlight(chat)
    [done] = chat("liang.wg", "退单 #1 这是沿江路的，不属于本网格")
    assert "已退单 #1" in done
    assert "退单 #1" in wecom_api.texts_to("fang.lougang")[-1]
    assert "重新安排" in wecom_api.texts_to("chenayi")[-1]
    ticket = _tickets(config)[0]
    assert (ticket.status, ticket.assignee_userid) == ("returned", None)
    [refused] = chat("liang.wg", "办结 #1 好了")
    assert "不能修改" in refused
    [ok] = chat("fang.lougang", "办结 #1 已转沿江路网格处理完毕")
    assert "已办结 #1" in ok


def test_resident_sees_only_their_own_tickets(chat, config):
    _file_streetlight(chat)
    [mine] = chat("chenayi", "我的工单")
    assert "#1" in mine and "路灯" in mine
    [detail] = chat("chenayi", "查询 #1")
    assert "待处理" in detail and "楼下路灯坏了三天了" in detail
    [refused] = chat("lisuk", "查询 #1")
    assert "不是您反映的" in refused
    [none] = chat("lisuk", "我的工单")
    assert "还没有反映过" in none
    [worker_list] = chat("liang.wg", "我的工单")
    assert "#1" in worker_list


def test_same_thing_on_the_same_patch_is_offered_to_follow(chat, wecom_api, config):
    _file_streetlight(chat)
    [offer] = chat("ou.lz", "幸福花园楼下路灯唔着")
    assert "同一件事" in offer and "#1" in offer and "请核对" in offer   # the offer is part of the one confirmation
    [followed] = chat("ou.lz", "1")
    assert "已关注工单 #1" in followed
    assert len(_tickets(config)) == 1
    chat("liang.wg", "接单 #1")
    assert "接单处理" in wecom_api.texts_to("ou.lz")[-1]


def test_traditional_and_cantonese_complaint_with_address_in_text(chat, wecom_api, config):
    [summary] = chat("lisuk", "東河市場門口啲路燈壞咗好耐冇人理")
    assert "请核对" in summary and "东河市场" in summary   # the address was in the text: no "where" question
    [filed] = chat("lisuk", "係")
    assert "吴丽华" in filed
    assert wecom_api.texts_to("wu.wg")[0].startswith("【新工单 #1】路灯")


def test_location_routes_to_the_patch_around_it(wecom, wecom_api, chat, config):
    chat("huangsang", "有人在河边倒垃圾")
    wecom.location("huangsang", 22.3665, 112.7071, "潭江边东河码头")
    wecom.run()
    chat("huangsang", "没有")
    chat("huangsang", "确认")
    ticket = _tickets(config)[0]
    assert (ticket.patch_code, ticket.service_code, ticket.routed_by) == ("DH-02", "river", "location")
    assert (ticket.lat, ticket.long) == (22.3665, 112.7071)
    assert ticket.agency_responsible == "水利局"
    assert wecom_api.texts_to("he.wg")[0].startswith("【新工单 #1】河道水利")


def test_explicit_word_asks_what_then_where(chat, config):
    [what] = chat("chenayi", "我要投诉")
    assert "什么问题" in what
    [where] = chat("chenayi", "隔壁天天半夜装修好吵")
    assert "问题在哪里" in where
    chat("chenayi", "1")
    [filed] = chat("chenayi", "确认")
    assert "#1（噪音扰民）" in filed
    assert _tickets(config)[0].agency_responsible == "派出所"


def test_cancel_at_any_step_files_nothing(chat, config):
    chat("chenayi", "楼下路灯坏了三天了")
    chat("chenayi", "1")
    [cancelled] = chat("chenayi", "取消")
    assert "已取消" in cancelled
    assert _tickets(config) == []


def test_emergency_tells_resident_to_call_pushes_the_cadre_and_still_becomes_a_ticket(chat, wecom_api, config):
    answer = "\n".join(chat("chenayi", "幸福花园3楼厨房着火了！"))
    assert "119" in answer and "紧急情况立单" in answer and "#1" in answer
    push = wecom_api.texts_to("fang.lougang")
    assert push and "紧急" in push[0] and "13800001001" in push[0]
    [ticket] = _tickets(config)          # someone must close it
    assert (ticket.urgency, ticket.patch_code, ticket.assignee_userid) == ("emergency", "LG-01", "liang.wg")


def test_an_emergency_no_grid_worker_covers_names_only_the_cadres_it_told(chat, wecom_api, config):
    chat("newbie9", "工厂漏气，好多人头晕倒地了")
    [filed] = chat("newbie9", "水口镇那边的工业区")          # no patch of the roster: no grid worker
    assert "紧急情况立单" in filed and "已同时通知社区（村）干部马上跟进" in filed
    assert "干部和社区（村）干部" not in filed
    [ticket] = _tickets(config)
    assert (ticket.urgency, ticket.assignee_userid) == ("emergency", None)


def test_abandoned_draft_expires_politely(chat, wecom, wecom_api, config):
    from datetime import timedelta

    from sqlalchemy import update

    from bot.models import ConversationState
    from bot.timeutil import utcnow
    from tests.conftest import sweep_now

    chat("chenayi", "楼下路灯坏了三天了")
    with session_scope(config.DATABASE_URL) as s:
        s.execute(update(ConversationState).values(expires_at=utcnow() - timedelta(seconds=1)))
    sweep_now()
    wecom.run()
    assert "还没有提交" in wecom_api.texts_to("chenayi")[-1]
    assert _tickets(config) == []


def test_after_unsatisfied_the_next_words_go_to_the_reopened_ticket(chat, wecom_api, config):
    _file_streetlight(chat)
    chat("liang.wg", "办结 #1 已报修")
    chat("chenayi", "不满意")
    [added] = chat("chenayi", "灯还是不亮，只是换了个灯罩")
    assert "已补充到工单 #1" in added
    assert len(_tickets(config)) == 1                          # not a new report
    assert "【群众补充 #1】灯还是不亮，只是换了个灯罩" in wecom_api.texts_to("liang.wg")
    assert ("chenayi", "resident_note") in [(e[0], e[1]) for e in _events(config, 1)]


def test_a_question_that_asks_someone_to_act_is_filed_without_asking_report_or_question(chat, config):
    """"…可以管一管吗": a category word and a question mark, but the resident asks someone to come."""
    [where] = chat("newbie7", "小区门口成日乱停车，可以管一管吗")
    assert "在哪里" in where and "还是咨询" not in where
    chat("newbie7", "东河市场门口")
    [filed] = chat("newbie7", "确认")
    assert "#1（交通停车）" in filed
    assert _tickets(config)[0].village == "东河社区居委会"


@pytest.mark.parametrize("words", [["确认", "好的"], ["谢谢", "ok"], ["唔该晒你", "收到👍"], ["谢谢[抱拳]", "[强]"]])
def test_thanks_and_ok_after_a_filed_report_are_answered_and_never_forwarded(chat, config, words):
    """"确认" once more, "谢谢", "收到": a short reply; before, "确认" got "not understood" and the "好的"
    that followed forwarded "确认" to the committee as a question."""
    _file_streetlight(chat)
    for word in words:
        [reply] = chat("chenayi", word)
        assert "没听懂" not in reply and "转给" not in reply and "我的工单" in reply
    assert [tk.number for tk in _tickets(config)] == [1]        # the report, and nothing forwarded


@pytest.mark.parametrize("ask", ["查下进度", "有冇进展", "搞成点"])
def test_a_resident_with_a_report_asking_about_progress_gets_its_status(chat, ask):
    _file_streetlight(chat)
    [status] = chat("chenayi", ask)
    assert "#1 路灯：" in status and "没听懂" not in status


def test_progress_asked_by_someone_with_no_report_is_not_answered_with_tickets(chat):
    assert "#1" not in chat("newbie6", "查下进度")[-1]
