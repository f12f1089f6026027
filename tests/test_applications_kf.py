"""A resident on personal WeChat applies through the committee's 微信客服 account, and hears back there."""
import pytest

from tests.kf_helpers import WeChatResident
from tests.test_applications_e2e import SAMPLE_ID, SAMPLE_ID_MASKED


@pytest.fixture
def resident(wecom, wecom_api):
    return WeChatResident(wecom, wecom_api, "wmDemo001")


def test_wechat_resident_applies_and_is_told_to_collect(resident, chat, wecom_api):
    resident.enter()
    resident.write("我住在大沙墟社区")
    said = "\n".join(resident.write("我要开居住证明"))   # 微信客服 may carry several replies in one message
    assert "居（租）住情况证明" in said and "姓名" in said
    for answer in ("黄美华", SAMPLE_ID, "大沙墟大沙市场旁12号", "2020年3月", "1", "办居住证"):
        resident.write(answer)
    resident.send("image", {"media_id": "kf-photo-id"})
    resident.write("好了")
    resident.send("image", {"media_id": "kf-photo-deed"})
    resident.write("好了")
    review = "\n".join(resident.write("没有"))
    assert "大沙墟社区居委会" in review and SAMPLE_ID_MASKED in review
    filed = "\n".join(resident.write("确认"))
    assert "#A1" in filed

    # 大沙墟 has one patch, so the resident was placed on it: its grid worker verifies first
    [worker_push, _card] = wecom_api.texts_to("mei.wg")
    assert "#A1" in worker_push and SAMPLE_ID not in worker_push
    assert wecom_api.texts_to("xu.dasha") == []
    chat("mei.wg", "核实 #A1 属实")
    cadre_push = wecom_api.texts_to("xu.dasha")
    assert "#A1" in cadre_push[0] and "花名册里没有这位申请人" in cadre_push[0]   # only self-placed
    chat("xu.dasha", "通过 #A1")
    told = resident.texts()[-1]
    assert "已通过" in told and "大沙墟社区居委会党群服务中心" in told
    assert all(p["open_kfid"] == resident.open_kfid for p in wecom_api.kf_sent)
    assert wecom_api.texts_to("wmDemo001") == []
