"""A clicked ticket card shows where the ticket stands (message/update_template_card, once per click).

End to end through /wecom/callback, a real rq worker and the WeCom API stand-in.
"""
import pytest

from tests.test_tickets_e2e import _file_streetlight


def _click(wecom, user, action, code, number=1):
    return wecom.event(user, "template_card_event", EventKey=f"ticket:{action}:{number}", TaskId=f"ticket-{number}-1",
                       CardType="button_interaction", ResponseCode=code)


def test_accepting_on_the_card_leaves_only_resolve_and_resolving_greys_it_out(wecom, wecom_api, chat, config):
    _file_streetlight(chat)
    _click(wecom, "liang.wg", "acknowledge", "rc-accept")
    wecom.run()
    assert "已接单 #1" in wecom_api.texts_to("liang.wg")[-1]
    [update] = wecom_api.card_updates
    assert update["userids"] == ["liang.wg"] and update["response_code"] == "rc-accept"
    card = update["template_card"]
    assert card["task_id"] == "ticket-1-1" and card["card_type"] == "button_interaction"
    assert [b["key"] for b in card["button_list"]] == ["ticket:resolve:1"]
    assert {"keyname": "状态", "value": "已接单，办完点“办结”"} in card["horizontal_content_list"]

    _click(wecom, "liang.wg", "resolve", "rc-resolve")
    wecom.run()
    assert "处理说明" in wecom_api.texts_to("liang.wg")[-1]
    assert len(wecom_api.card_updates) == 1            # not until the ticket is resolved
    [done] = chat("liang.wg", "路灯所已换灯泡")
    assert "已办结 #1" in done
    sent = {k: v for k, v in wecom_api.card_updates[-1].items() if k != "_at"}
    assert sent == {"userids": ["liang.wg"], "agentid": 1000002, "response_code": "rc-resolve",
                    "button": {"replace_name": "已办结"}}


@pytest.mark.parametrize("who, command, action, shown", [
    ("liang.wg", "办结 #1 已换灯泡", "resolve", "已办结"),             # done by text before the click
    ("liang.wg", "退单 #1 不属于本网格", "acknowledge", "已退单"),
    ("fang.lougang", "派单 #1 zhou.wg", "acknowledge", "已由他人处理"),  # an old card after reassignment
])
def test_a_card_for_a_ticket_no_longer_yours_to_act_on_says_so_at_once(who, command, action, shown, wecom,
                                                                         wecom_api, chat, config):
    _file_streetlight(chat)
    chat(who, command)
    _click(wecom, "liang.wg", action, f"rc-{action}")
    wecom.run()
    assert wecom_api.card_updates[-1]["button"] == {"replace_name": shown}


def test_a_click_without_a_response_code_still_works_and_updates_nothing(wecom, wecom_api, chat, config):
    _file_streetlight(chat)
    wecom.event("liang.wg", "template_card_event", EventKey="ticket:acknowledge:1", TaskId="ticket-1-1")
    wecom.run()
    assert "已接单 #1" in wecom_api.texts_to("liang.wg")[-1]
    assert wecom_api.card_updates == []


def test_a_busy_api_delays_the_update_but_it_happens_once(wecom, wecom_api, chat, config):
    _file_streetlight(chat)
    wecom_api.fail("message/update_template_card", -1, "http500")
    _click(wecom, "liang.wg", "acknowledge", "rc-busy")
    wecom.run()
    assert [u["response_code"] for u in wecom_api.card_updates] == ["rc-busy"]
