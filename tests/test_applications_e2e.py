"""Applying for a retained certificate in chat, end to end through /wecom/callback: the resident
answers one question at a time, the grid worker verifies, the cadre approves and gets the filled
.docx as a WeCom file message, the resident is told where to collect it.

The ID-card numbers here are sample numbers made for the tests (valid GB 11643 check digits).
"""
import io

from docx import Document
from sqlalchemy import select

from bot.db import session_scope
from bot.models import Application, Outbox
from bot.timeutil import to_local, utcnow

SAMPLE_ID = "440783198805120024"       # sample: 开平 area code, born 1988-05-12, valid check digit
SAMPLE_ID_MASKED = "440783********0024"
REGISTER_1 = f"楼冈〔{to_local(utcnow()).year}〕第0001号"   # the first register number of the year


def _apply_r1(chat, wecom, wecom_api, user="chenayi", start="我要开居住证明"):
    """陈阿姨 applies for 居（租）住情况证明 with photos, up to the review."""
    intro, ask_name = chat(user, start)
    assert "居（租）住情况证明" in intro and "取消" in intro
    assert "姓名" in ask_name
    [ask] = chat(user, "陈美玲")
    assert "身份证号" in ask
    [ask] = chat(user, SAMPLE_ID)
    assert "地址" in ask
    [ask] = chat(user, "楼冈路幸福花园2栋301")
    assert "哪天起" in ask
    [ask] = chat(user, "2023年9月")
    assert "居住方式" in ask and "1. 居住" in ask
    [ask] = chat(user, "2")
    assert "用途" in ask
    [ask] = chat(user, "孩子上楼冈小学")
    assert "身份证（正反面）" in ask
    wecom.image(user, media_id="photo-id-front")
    wecom.image(user, media_id="photo-id-back")
    wecom.run()
    assert "共2张" in wecom_api.texts_to(user)[-1]
    [ask] = chat(user, "好了")
    assert "房产证或租赁合同" in ask
    wecom.image(user, media_id="photo-lease")
    wecom.run()
    [ask] = chat(user, "好了")
    assert "户口簿" in ask and "没有" in ask
    [review] = chat(user, "没有")
    return review


def _application(config, number=1):
    with session_scope(config.DATABASE_URL) as s:
        app = s.scalar(select(Application).where(Application.number == number))
        s.expunge(app)
        return app


def test_resident_applies_grid_worker_verifies_cadre_approves_and_gets_the_docx(chat, wecom, wecom_api, config):
    review = _apply_r1(chat, wecom, wecom_api)
    assert "请核对【居（租）住情况证明】（楼冈社区居委会）" in review
    assert SAMPLE_ID_MASKED in review and SAMPLE_ID not in review
    assert "4. 从哪天起住在这里：2023年9月" in review and "租住" in review
    assert "身份证（正反面）：照片2张" in review and "户口簿或居住证：无" in review
    assert not wecom_api.texts_to("liang.wg")   # nothing filed before 确认

    [filed] = chat("chenayi", "确认")
    assert "#A1" in filed and "网格员梁晓敏" in filed and "3 个工作日" in filed

    # the patch's grid worker is asked first: masked ID, the roster check
    [push, card] = wecom_api.texts_to("liang.wg")
    assert push.startswith("【证明核实 #A1】居（租）住情况证明")
    assert SAMPLE_ID_MASKED in push and SAMPLE_ID not in push
    assert "核实 #A1 属实" in push
    assert "与所填不一致" in push   # the roster says 陈阿姨
    assert "app:confirm:1" in card
    assert not wecom_api.texts_to("fang.lougang")   # cadres hear after the verification

    # another patch's grid worker may not verify
    [refused] = chat("zhou.wg", "核实 #A1 属实")
    assert "不是交给您核实的" in refused
    [ok] = chat("liang.wg", "核实 #A1 属实")
    assert "已核实 #A1" in ok
    assert "网格员已核实" in wecom_api.texts_to("chenayi")[-1]

    # the village's cadres get the application as a card, with the photos; masked in the push
    to_cadre = wecom_api.messages_to("fang.lougang")
    kinds = [m["msgtype"] for m in to_cadre]
    assert kinds == ["text", "image", "image", "image", "template_card"]
    assert "网格员核实：属实" in to_cadre[0]["text"]["content"]
    assert SAMPLE_ID not in str(to_cadre)
    assert [b["key"] for b in to_cadre[-1]["template_card"]["button_list"]] == [
        "app:approve:1", "app:return:1", "app:refuse:1"]
    assert not wecom_api.messages_to("lu.donghe")   # another community's cadre hears nothing

    # the village's cadre's detail view shows the full number; the wrong cadre is refused
    [detail] = chat("fang.lougang", "查询 #A1")
    assert SAMPLE_ID in detail and "待审核" in detail
    [wrong] = chat("lu.donghe", "通过 #A1")
    assert "只有申请人所在村（社区）的干部" in wrong
    [nosy] = chat("lu.donghe", "查询 #A1")
    assert SAMPLE_ID not in nosy

    # 通过: the certificate is filled in from the Word template and sent as a file message
    before = len(wecom_api.messages_to("fang.lougang"))
    chat("fang.lougang", "通过 #A1")
    got = wecom_api.messages_to("fang.lougang")[before:]
    assert [m["msgtype"] for m in got] == ["text", "text", "file"]
    assert REGISTER_1 in got[1]["text"]["content"]
    media_id = got[2]["file"]["media_id"]
    upload = [u for u in wecom_api.uploads if u["media_id"] == media_id][0]
    assert upload["type"] == "file" and upload["filename"].endswith(".docx")
    doc = Document(io.BytesIO(wecom_api.media[media_id]))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "居（租）住情况证明" in text
    assert f"兹证明 陈美玲（身份证号 {SAMPLE_ID}）自 2023年9月起租住在 楼冈路幸福花园2栋301" in text
    assert REGISTER_1 in text and "楼冈社区居民委员会（盖章）" in text
    assert "用途：孩子上楼冈小学" in text
    assert "{{" not in text

    told = wecom_api.texts_to("chenayi")[-1]
    assert "#A1" in told and "已通过" in told and "楼冈社区居委会党群服务中心" in told and "身份证原件" in told

    [done] = chat("fang.lougang", "已领取 #A1")
    assert "办结" in done
    assert "已领取" in wecom_api.texts_to("chenayi")[-1]
    [mine] = chat("chenayi", "我的申请")
    assert "#A1 居（租）住情况证明：已领取" in mine
    app = _application(config)
    assert (app.status, app.register_number, app.verify_result) == ("collected", REGISTER_1, "confirmed")
    assert app.closed_at is not None


def test_offer_after_the_answer_and_a_returned_round(chat, wecom, wecom_api, config):
    answer = chat("chenayi", "开居住证明要带什么")[0]
    assert "回复“申请”" in answer
    review = _apply_r1(chat, wecom, wecom_api, start="申请")
    assert "请核对" in review
    chat("chenayi", "确认")
    chat("liang.wg", "核实 #A1 不符 登记地址是2栋302")
    push = wecom_api.texts_to("fang.lougang")[0]
    assert "网格员核实：不符（登记地址是2栋302）" in push

    # 退回补充 from the card: the reason is asked next, the card says so
    wecom.event("fang.lougang", "template_card_event", EventKey="app:return:1", TaskId="app-1-2",
                CardType="button_interaction", ResponseCode="rc-return")
    wecom.run()
    assert "缺少什么" in wecom_api.texts_to("fang.lougang")[-1]
    [done] = chat("fang.lougang", "缺少租赁合同的最后一页")
    assert "已退回 #A1" in done
    assert wecom_api.card_updates[-1]["button"]["replace_name"] == "已退回补充"
    told = wecom_api.texts_to("chenayi")[-1]
    assert "需要补充：缺少租赁合同的最后一页" in told and "补充 #A1" in told
    [status] = chat("chenayi", "查询 A1")
    assert "待补充" in status

    [start] = chat("chenayi", "补充 #A1")
    assert "缺少租赁合同的最后一页" in start
    wecom.image("chenayi", media_id="photo-lease-last")
    wecom.run()
    [done] = chat("chenayi", "提交")
    assert "已补充 #A1" in done
    supplemented = wecom_api.messages_to("fang.lougang")[-3:]
    assert [m["msgtype"] for m in supplemented] == ["text", "image", "template_card"]   # only the new photo
    push = supplemented[0]["text"]["content"]
    assert push.startswith("【证明申请 #A1 已补充】") and "补充材料1张" in push
    assert "缺少：缺少租赁合同的最后一页；申请人补充：见照片" in push
    chat("fang.lougang", "通过 #A1")
    assert "已通过" in wecom_api.texts_to("chenayi")[-1]
    assert _application(config).status == "approved"


def test_a_bad_id_number_is_asked_again_and_the_draft_kept(chat):
    chat("lisuk", "申请居住证明")
    chat("lisuk", "李志强")
    [why, again] = chat("lisuk", "440783198805120025")
    assert "校验位" in why and "身份证号" in again
    [why, again] = chat("lisuk", "440783198813320024")
    assert "出生日期" in why
    [why, _] = chat("lisuk", "44078319880512")
    assert "18位" in why
    [ask] = chat("lisuk", SAMPLE_ID)
    assert "地址" in ask
    chat("lisuk", "东河路东河花园5栋")
    [why, again] = chat("lisuk", "2099年1月1日")
    assert "今天或以前" in why and "哪天起" in again
    [ask] = chat("lisuk", "2020-01-01")
    assert "居住方式" in ask


def test_cancel_mid_way_files_nothing(chat, config, wecom_api):
    chat("chenayi", "我要开居住证明")
    chat("chenayi", "陈美玲")
    [bye] = chat("chenayi", "取消")
    assert "取消" in bye or "结束" in bye
    with session_scope(config.DATABASE_URL) as s:
        assert s.scalars(select(Application)).all() == []
    assert not wecom_api.texts_to("liang.wg") and not wecom_api.texts_to("fang.lougang")
    [mine] = chat("chenayi", "我的申请")
    assert "还没有" in mine


def test_a_cancelled_certificate_and_political_review_are_not_applied_for(chat, config):
    [answer] = chat("chenayi", "我要开无犯罪记录证明")
    assert "不再开具" in answer and "申请编号" not in answer
    [answer] = chat("chenayi", "我要开政审证明")
    assert "不能在这里申请" in answer and "公函" in answer
    with session_scope(config.DATABASE_URL) as s:
        assert s.scalars(select(Application)).all() == []


def test_the_file_message_is_uploaded_at_delivery_and_expired_media_is_refused(chat, wecom, wecom_api, config):
    """The outbox row holds the document's reference, not a media_id: an upload happens at send time."""
    _apply_r1(chat, wecom, wecom_api)
    chat("chenayi", "确认")
    chat("liang.wg", "核实 #A1 属实")
    chat("fang.lougang", "通过 #A1")
    with session_scope(config.DATABASE_URL) as s:
        row = s.scalar(select(Outbox).where(Outbox.msgtype == "file"))
        assert row.body == {"application": 1} and row.status == "sent"
    # WeCom (and the stand-in) refuse a media_id never issued, or issued more than 3 days ago
    from bot import runtime
    from bot.errors import WeComError

    rt = runtime.get()
    for media_id in ("media999999", next(iter(wecom_api.media_issued))):
        wecom_api.media_issued[media_id] = wecom_api.media_issued.get(media_id, 0) - 4 * 86400
        try:
            rt.wecom.call("message/send", {"touser": "fang.lougang", "msgtype": "file", "agentid": 1000002,
                                           "file": {"media_id": media_id}})
        except WeComError as exc:
            assert exc.errcode == 40007
        else:
            raise AssertionError("an expired media_id was accepted")


def test_apply_with_no_certificate_named_asks_which(chat):
    [which] = chat("huangsang", "我要开证明")
    assert "1. 居（租）住情况证明" in which and "5. 社区活动" in which and "公函" in which
    intro, ask = chat("huangsang", "5")
    assert "社区活动" in intro and "学生姓名" in ask


def test_town_cadre_may_look_but_not_decide(chat, wecom, wecom_api):
    _apply_r1(chat, wecom, wecom_api)
    chat("chenayi", "确认")
    [detail] = chat("guan.changsha", "查询 #A1")
    assert "#A1" in detail and SAMPLE_ID_MASKED in detail and SAMPLE_ID not in detail
    [refused] = chat("guan.changsha", "通过 #A1")
    assert "只有申请人所在村（社区）的干部" in refused


def test_a_request_never_breaks_into_a_complaint_draft(chat):
    [ask_where] = chat("chenayi", "楼下路灯坏了三天了")
    assert "问题在哪里" in ask_where
    replies = chat("chenayi", "我要开居住证明")
    assert not any("姓名" in r for r in replies)
    # once the draft is done with, the same words start the application
    chat("chenayi", "取消")
    intro, ask = chat("chenayi", "我要开居住证明")
    assert "姓名" in ask


def test_card_buttons_for_the_grid_worker_and_the_cadre(chat, wecom, wecom_api, config):
    _apply_r1(chat, wecom, wecom_api)
    chat("chenayi", "确认")
    wecom.event("liang.wg", "template_card_event", EventKey="app:confirm:1", TaskId="app-1-1",
                CardType="button_interaction", ResponseCode="rc-confirm")
    wecom.run()
    assert "已核实 #A1" in wecom_api.texts_to("liang.wg")[-1]
    assert wecom_api.card_updates[-1]["button"]["replace_name"] == "已核实，待审核"
    # a cadre of another community clicking the same kind of button is refused, the card untouched
    wecom.event("lu.donghe", "template_card_event", EventKey="app:approve:1", TaskId="app-1-2",
                CardType="button_interaction", ResponseCode="rc-wrong")
    wecom.run()
    assert "只有申请人所在村（社区）的干部" in wecom_api.texts_to("lu.donghe")[-1]
    assert len(wecom_api.card_updates) == 1
    wecom.event("fang.lougang", "template_card_event", EventKey="app:approve:1", TaskId="app-1-2",
                CardType="button_interaction", ResponseCode="rc-approve")
    wecom.run()
    assert wecom_api.card_updates[-1]["button"]["replace_name"] == "已通过"
    assert wecom_api.messages_to("fang.lougang")[-1]["msgtype"] == "file"
    assert _application(config).status == "approved"


def test_refusal_with_a_reason_and_no_approval_before_the_verification(chat, wecom, wecom_api, config):
    _apply_r1(chat, wecom, wecom_api)
    chat("chenayi", "确认")
    [early] = chat("fang.lougang", "通过 #A1")
    assert "网格员核实中" in early and "不能通过" in early
    [ask] = chat("fang.lougang", "不予出具 #A1")
    assert "原因" in ask
    [done] = chat("fang.lougang", "经核实该户已于2024年搬离")
    assert "不予出具" in done
    told = wecom_api.texts_to("chenayi")[-1]
    assert "不予出具" in told and "该户已于2024年搬离" in told
    [status] = chat("chenayi", "查询 #A1")
    assert "不予出具" in status and "说明：经核实该户已于2024年搬离" in status
    [late] = chat("fang.lougang", "通过 #A1")
    assert "不能通过" in late
    app = _application(config)
    assert (app.status, app.register_number) == ("refused", None) and app.closed_at is not None


def test_a_broken_template_leaves_the_application_as_it_was(chat, wecom, wecom_api, config, monkeypatch, tmp_path):
    from bot.applications import documents

    broken = tmp_path / "R1.docx"
    broken.write_bytes(b"not a Word file")
    monkeypatch.setattr(documents, "template_path", lambda certificate_id: broken)
    _apply_r1(chat, wecom, wecom_api)
    chat("chenayi", "确认")
    chat("liang.wg", "核实 #A1 属实")
    [why] = chat("fang.lougang", "通过 #A1")
    assert "证明模板打不开" in why and "R1.docx" in why and "{{ 占位符 }}" in why
    app = _application(config)
    assert (app.status, app.register_number, app.document) == ("submitted", None, None)
    assert "已通过" not in wecom_api.texts_to("chenayi")[-1]
