"""Ticket building blocks: state machine, recognition words, categories, routing, texts, numbers."""
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from bot import texts
from bot.db import get_engine, session_scope
from bot.models import Base, Person, Ticket
from bot.roster import load_sample
from bot.tickets import categories, routing, service, states
from bot.tickets.words import parse_command, parse_rating
from handlers.complaint import looks_like_complaint

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def session(tmp_path):
    url = f"sqlite:///{tmp_path}/units.sqlite3"
    Base.metadata.create_all(get_engine(url))
    with session_scope(url) as s:
        load_sample(s)
        yield s


def test_every_state_has_a_type_and_every_transition_lands_on_a_state():
    assert set(states.STATE_TYPES.values()) == {"open", "resolved", "closed"}
    for (source, _), target in states.TRANSITIONS.items():
        assert source in states.STATE_TYPES and target in states.STATE_TYPES


@pytest.mark.parametrize("status, action, expected", [
    ("open", "acknowledge", "acknowledged"), ("acknowledged", "resolve", "resolved"),
    ("resolved", "rate", "closed"), ("resolved", "reopen", "reopened"), ("open", "return", "returned"),
    ("returned", "assign", "open"), ("acknowledged", "wait", "waiting"), ("waiting", "resume", "acknowledged"),
])
def test_allowed_transitions(status, action, expected):
    assert states.next_state(status, action) == expected


@pytest.mark.parametrize("status, action", [
    ("closed", "resolve"), ("resolved", "acknowledge"), ("returned", "acknowledge"), ("closed", "return"),
    ("open", "rate"),
])
def test_illegal_transitions_are_refused(status, action):
    with pytest.raises(states.IllegalTransition):
        states.next_state(status, action)


@pytest.mark.parametrize("text, category", [
    ("楼下路灯坏了三天了", "streetlight"), ("路燈壞咗", "streetlight"), ("隔壁天天半夜装修好吵", "noise"),
    ("好嘈", "noise"), ("河边有人倒垃圾", "river"), ("垃圾冇人收好臭", "environment"),
    ("邻居吵架", "neighbour"), ("楼道有人给电动车充电", "fire_hazard"), ("停水两天了", "utilities"),
    ("老板拖欠工资", "labour"), ("门口成日有人乱停车", "traffic"), ("马路有个大坑", "road"),
])
def test_categories_from_residents_phrasing(text, category):
    assert categories.classify(text).id == category


@pytest.mark.parametrize("text, emergency", [
    ("厨房着火了", "fire"), ("闻到好大煤气味", "gas"), ("阿婆跌倒流血", "injury"), ("水浸入屋有人被困", "flood"),
    ("楼下路灯坏了", None), ("火车站有人摆摊", None),
])
def test_emergencies(text, emergency):
    found = categories.detect_emergency(text)
    assert (found.id if found else None) == emergency


@pytest.mark.parametrize("text, complaint", [
    ("楼下路灯坏了三天了", True), ("我要投诉", True), ("冇人理", True), ("反映个问题", True),
    ("路燈壞咗", True), ("物业费怎么交", False), ("开居住证明要带什么", False), ("你好", False),
])
def test_complaint_recognition(text, complaint):
    assert looks_like_complaint(text) is complaint


@pytest.mark.parametrize("text, expected", [
    ("接单 #12", ("acknowledge", 12, "")), ("接单#12", ("acknowledge", 12, "")),
    ("办结 #12 已修好", ("resolve", 12, "已修好")), ("办结 已修好", ("resolve", None, "已修好")),
    ("辦結 #3 換咗燈泡", ("resolve", 3, "换咗灯泡")), ("退单 #3 不归我管", ("return", 3, "不归我管")),
    ("我的工单", ("mine", None, "")), ("查询 #5", ("query", 5, "")),
])
def test_commands(text, expected):
    cmd = parse_command(text)
    assert (cmd.action, cmd.number, cmd.note) == expected


@pytest.mark.parametrize("text", ["查一下低保", "完成了吗", "你好"])
def test_not_commands(text):
    assert parse_command(text) is None


@pytest.mark.parametrize("text, expected", [
    ("5", (5, None)), ("满意", (5, None)), ("基本滿意", (3, None)), ("不满意 #3", (1, 3)),
    ("唔滿意，仲係黑", (1, None)), ("评分 4", (4, None)), ("10", None), ("满意度调查是什么", None),
])
def test_ratings(text, expected):
    assert parse_rating(text) == expected


def test_category_file_is_validated():
    with pytest.raises(categories.CategoryFileError, match="urgency"):
        categories.parse({"categories": [{"id": "other", "name": "其他", "department": "村委", "handler": "村委",
                                          "urgency": "soon", "response_hours": 1, "expected_hours": 1}]})
    with pytest.raises(categories.CategoryFileError, match="other"):
        categories.parse({"categories": []})
    assert categories.get("no-such-id").id == "other"


def test_every_ticket_text_key_used_in_code_exists():
    used = set()
    for path in [*ROOT.joinpath("bot", "tickets").glob("*.py"), ROOT / "handlers" / "complaint.py",
                 ROOT / "handlers" / "tickets.py"]:
        source = path.read_text(encoding="utf-8")
        used |= {f"tickets.{k}" for k in re.findall(r"""\bt\(\s*["']([a-z_]+)["']""", source)}
        used |= set(re.findall(r"""["'](tickets\.[a-z_]+)["']""", source))
    missing = sorted(k for k in used if not texts.has(k))
    assert missing == []


def test_routing_by_keywords_location_registered_and_village(session):
    assert routing.route(session, text="幸福花园2栋门口").patch.code == "LG-01"
    assert routing.route(session, lat=22.3665, lng=112.7071).patch.code == "DH-02"
    far = routing.route(session, lat=23.1, lng=113.3)                  # Guangzhou: no patch
    assert far.patch is None and far.how == "none"
    assert routing.route(session, text="不知道哪里", registered="NP-01").how == "registered"
    village = routing.route(session, text="南屏村那边")
    assert village.patch.code == "NP-01"                                # a patch keyword
    town = routing.route(session, text="大沙镇某处")
    assert (town.patch, town.town, town.how) == (None, "大沙镇", "village")


def test_grid_worker_and_cadres(session):
    assert routing.grid_worker_for(session, "LG-01").userid == "liang.wg"
    assert [c.userid for c in routing.cadres_for(session, "楼冈社区居委会", "长沙街道")] == ["fang.lougang"]
    assert [c.userid for c in routing.cadres_for(session, None, "长沙街道")] == ["guan.changsha"]


def _file(session, **kw):
    r = routing.route(session, registered="LG-01")
    return service.create_ticket(session, reporter="chenayi", category=categories.get("streetlight"),
                                 description="路灯坏了", route=r, **kw)


def test_service_numbers_permissions_and_history(session):
    first, notices = _file(session)
    second, _ = _file(session)
    assert (first.number, second.number) == (1, 2)
    assert {n.to_user for n in notices} == {"liang.wg"}
    again, _ = _file(session, inbound_id=77)
    same, nothing = _file(session, inbound_id=77)
    assert same.id == again.id and nothing == []
    zhou = session.scalar(select(Person).where(Person.userid == "zhou.wg"))
    with pytest.raises(service.NotAllowed):
        service.resolve(session, first, zhou, "好了")
    assert first.status == "open"
    town_cadre = session.scalar(select(Person).where(Person.userid == "guan.changsha"))
    notices = service.acknowledge(session, first, town_cadre)
    assert first.status == "acknowledged" and [n.to_user for n in notices] == ["chenayi"]
    with pytest.raises(service.Refused):
        service.acknowledge(session, first, town_cadre)
    service.resolve(session, first, town_cadre, "已修")
    service.rate(session, first, "chenayi", 4)
    assert (first.status, first.rating, first.closed_at is not None) == ("closed", 4, True)
    assert [e.action for e in first.events] == ["create", "assign", "acknowledge", "resolve", "rate", "rate"]
    assert session.scalar(select(Ticket).where(Ticket.number == 2)).status == "open"


def test_masked_phone():
    assert service.mask_phone("13800001001") == "138****1001"
    assert service.mask_phone(None) == texts.t("tickets.phone_unknown")


@pytest.mark.parametrize("text, danger", [
    ("电线杆倒咗压住架车 而家仲有火花", True),       # a ready phrase
    ("大树倾斜随时会倒落路人度", True),              # no phrase: a dangerous thing, harm, and now
    ("东河路中间条旧裂缝 都裂咗好多年", False),        # old, not now
    ("楼道里电动车充电，好怕起火", False),            # a worry, not a fire
    ("路灯坏了三天了", False),
])
def test_danger_is_words_of_immediate_danger_or_a_thing_harm_and_now(text, danger):
    from bot.tickets.words import is_dangerous

    assert is_dangerous(text) is danger


@pytest.mark.parametrize("text", ["小区门口成日乱停车，可以管一管吗", "后山条路啲沙井盖唔平，可唔可以派个人嚟睇下",
                                  "有只狗成日追人咬人"])
def test_asking_someone_to_come_and_act_or_harm_done_is_the_shape_of_a_report(text):
    """A category word in a question ("…吗") is asked about, unless the resident asks someone to act; harm
    done (咬人, 骚扰) is a report in any words."""
    from handlers.complaint import looks_like_complaint, unsure_kind

    assert looks_like_complaint(text) and not unsure_kind(text)


SHORT_EVERYDAY = ["楼上装修好嘈", "隔壁装修很吵", "楼下好臭", "垃圾好多天冇人收", "隔篱屋漏水落我屋", "成条街停电", "楼梯灯坏咗",
                  "狗吠到夜晚", "楼下有人卖菜好嘈", "门口好多单车", "楼上滴水", "后巷好多老鼠", "路灯唔着", "停水成日",
                  "广场舞好大声", "有人乱停车", "水压好低", "街口堆满泥头", "餐厅油烟好大", "工厂排污水落河", "老板拖欠人工",
                  "物业费乱收", "电梯成日坏", "沙井塞咗", "路面有个坑", "有人霸占楼梯口", "楼道堆满杂物", "士多卖过期嘢",
                  "隔篱起屋起到过界", "河边有人倒垃圾", "电动车乱停人行道", "对面装修电钻声", "楼上养鸽好臭", "小区门口积水",
                  "夜晚烧烤档好多烟", "路边树枝太长挡住路灯", "厕所冇水冲", "单车停满门口", "楼下麻将声好嘈", "网吧好吵"]
SHORT_DANGER = ["楼下着火了", "厨房起火", "闻到好浓煤气味", "电线掉落地仲有火花", "有人晕倒喺街", "电梯困住人", "有人拿刀斩人",
                "小朋友跌咗落河", "屋顶就快塌", "井盖冇咗有人跌落去", "水浸入屋仲涨紧", "楼道电动车冒烟", "老人家几日冇见人应门",
                "大树倒咗压住架车", "堤围出水好急"]


def test_short_everyday_reports_are_not_emergencies_and_short_dangers_are():
    """A guard, not a benchmark: short reports have few features, and a reading near the model's floor
    once raised 16 of these 40 everyday reports to emergencies (pushed to cadres as 【紧急】)."""
    from bot.tickets.words import is_dangerous

    raised = [t for t in SHORT_EVERYDAY if is_dangerous(t)]
    assert len(raised) <= 4, raised
    assert [t for t in SHORT_DANGER if not is_dangerous(t)] == []
