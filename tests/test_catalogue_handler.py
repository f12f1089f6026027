"""The certificate handler through the real registry, on a real (SQLite) database session."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.config import Config
from bot.context import Context
from bot.db import dispose_all, get_engine, session_scope
from bot.models import Base, CatalogueMiss, Person
from handlers import route
from handlers.base import Message
from handlers.certificate import CertificateQuestion, render
from knowledge.catalogue import load_catalogue


@pytest.fixture
def chat(tmp_path):
    """chat(text, user=..., role=...) -> (handler name, replies), each message in its own transaction."""
    url = f"sqlite:///{tmp_path}/catalogue.sqlite3"
    Base.metadata.create_all(get_engine(url))
    config = Config.from_env(env={}, require_wecom=False, DATABASE_URL=url)
    with session_scope(url) as s:
        s.add(Person(userid="cadre1", name="李主任", role="cadre", village="塘口镇强亚村"))
        s.add(Person(userid="res1", name="张三", role="resident", village="长沙东社区", channel="kf"))
    counter = iter(range(1, 10_000))

    def _chat(text: str, user: str = "u1") -> tuple[str, list[str]]:
        with session_scope(url) as s:
            ctx = Context(s, config, "app", user)
            msg = Message(inbound_id=next(counter), channel="app", user_id=user, msg_type="text", text=text)
            name = route(msg, ctx)
            return name, [row.body["content"] for row in ctx.queued]

    _chat.url = url
    yield _chat
    dispose_all()


def misses(url: str) -> list[tuple[str, str, bool]]:
    with session_scope(url) as s:
        return [(m.text, m.outcome, m.forwarded) for m in s.scalars(select(CatalogueMiss).order_by(CatalogueMiss.id))]


def test_confident_answer_for_a_retained_certificate(chat):
    name, replies = chat("开居住证明要带什么")
    assert name == "certificate"
    assert len(replies) == 1
    assert replies[0].startswith("【居（租）住情况证明】村（居）委会可以开。")
    assert "· 身份证" in replies[0]
    assert "去哪里办：您所在村（社区）的党群服务中心" in replies[0]
    assert "多久办好：" in replies[0]


def test_answer_names_the_residents_village(chat):
    _, replies = chat("居住证明点样开", user="res1")
    assert "去哪里办：长沙东社区党群服务中心" in replies[0]


def test_cancelled_certificate_says_who_issues_it(chat):
    _, replies = chat("我阿爸过身咗，死亡證明去邊度開")
    assert replies[0].startswith("【死亡证明】村（居）委会已不再开具此证明。")
    assert "社区卫生服务中心或乡镇卫生院" in replies[0]
    assert "依据：民发〔2020〕20号" in replies[0]


def test_cadre_pushing_back_on_a_cancelled_certificate(chat):
    _, replies = chat("上级让我们村委开收入证明", user="cadre1")
    assert "属于《取消和禁入事项》" in replies[0]
    assert "婉拒参考：" in replies[0]


def test_barred_duty(chat):
    _, replies = chat("街道让社区帮企业协税护税", user="cadre1")
    assert replies[0].startswith("【招商引资、协税护税等经济指标任务】属于《取消和禁入事项》")
    assert "婉拒参考：“您好" in replies[0]


def test_close_call_then_a_number(chat):
    _, replies = chat("居住证和居住证明有什么区别")
    assert replies[0].startswith("您问的是哪一项？请回复数字：\n1. ")
    first = replies[0].splitlines()[1].removeprefix("1. ")
    name, replies = chat("1")
    assert name == "conversation"
    assert replies[0].startswith(f"【{first}】")


def test_close_call_bad_number_then_zero(chat):
    chat("居住证和居住证明有什么区别")
    assert chat("7")[1] == ["请回复 1 到 2 之间的数字；都不是请回复 0，或换个说法再问我。"]
    assert chat("0")[1][0].startswith("好的。您可以换个说法再问我")
    assert misses(chat.url) == [("居住证和居住证明有什么区别", "rejected", False)]


def test_none_of_the_choices_offers_a_person(chat):
    """A menu of guesses is never a dead end: 0, then 1, and the question goes to the committee."""
    _, replies = chat("种粮补贴要带什么材料")
    assert replies[0].startswith("您问的是哪一项？请回复数字：")
    _, replies = chat("0")
    assert "回复 1 把您的问题转给村（居）委会" in replies[0]
    _, replies = chat("1")
    assert any(r.startswith("好的，已把您的问题转给村（居）委会（编号") for r in replies)
    assert misses(chat.url) == [("种粮补贴要带什么材料", "rejected", True)]


def test_close_call_then_a_new_question_is_routed_afresh(chat):
    chat("居住证和居住证明有什么区别")
    name, replies = chat("无犯罪记录证明去哪开")
    assert name == "conversation"
    assert replies[0].startswith("【无犯罪记录证明】")
    _, replies = chat("1")                 # the choice conversation is over: 1 picks nothing now
    assert not any(r.startswith(("【居住证", "【居（租）住")) for r in replies)


def test_no_match_logs_and_offers_to_forward(chat):
    name, replies = chat("驾照换证怎么申请")
    assert name == "certificate"
    assert "回复 1 转给村（居）委会" in replies[0]
    assert misses(chat.url) == [("驾照换证怎么申请", "none", False)]
    _, replies = chat("好")
    # passed on as a consultation ticket the committee must close: the resident gets its number
    assert any(r.startswith("好的，已把您的问题转给村（居）委会（编号") for r in replies)
    assert misses(chat.url) == [("驾照换证怎么申请", "none", True)]


def test_no_match_declined(chat):
    chat("驾照换证怎么申请")
    assert chat("不用")[1] == ["好的，不转了。还有什么可以帮您？"]
    assert misses(chat.url)[0][2] is False


@pytest.mark.parametrize("text", ["楼下路灯坏了", "隔壁装修太吵了", "有人乱倒垃圾"])
def test_complaints_pass_through(chat, text):
    name, _ = chat(text)
    assert name != "certificate"


def test_check_declines_non_text():
    msg = Message(inbound_id=1, channel="app", user_id="u", msg_type="image")
    assert CertificateQuestion().check(msg, ctx=None) is False


class _Ctx:
    """Just enough context to render without a database."""

    person = None
    role = "resident"

    @staticmethod
    def t(key, **fields):
        from bot import texts

        return texts.t(key, **fields)


@pytest.mark.parametrize("item", list(load_catalogue()), ids=lambda item: item.id)
def test_every_answer_renders_as_one_wecom_message(item):
    text = render(item, _Ctx())
    assert text.startswith(f"【{item.name}】")
    assert "{" not in text and "None" not in text
    assert len(text.encode("utf-8")) <= 2048


def test_misses_command_lists_unanswered_questions(chat, monkeypatch):
    from click.testing import CliRunner

    from bot.cli_knowledge import knowledge

    chat("驾照换证怎么申请", user="a")
    chat("驾照换证怎么申请？", user="b")
    chat("1", user="b")
    chat("车船税在哪里交", user="c")
    monkeypatch.setenv("DATABASE_URL", chat.url)
    result = CliRunner().invoke(knowledge, ["misses"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("Unanswered questions, last 30 days")
    # "#n" first: the number a cadre teaches with (教 #n 事项)
    assert lines[1].split()[1:3] == ["2", "1"] and lines[1].startswith("#") and lines[1].endswith("驾照换证怎么申请")
    assert lines[2].split()[1:3] == ["1", "0"] and lines[2].endswith("车船税在哪里交")
