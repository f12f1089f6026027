"""Play a WeChat resident writing to the committee's 微信客服 account, through the real callback path."""
from __future__ import annotations

from bot.standin import kf as standin_kf
from tests.conftest import CORP_ID

OPEN_KFID = "wkQingcheTest01"


class WeChatResident:
    """A WeChat customer: each action adds to the stand-in's message list and POSTs the KF callback."""

    def __init__(self, wecom, state, external_userid: str, open_kfid: str = OPEN_KFID):
        self.wecom = wecom
        self.state = state
        self.userid = external_userid
        self.open_kfid = open_kfid

    def notify(self):
        """POST the encrypted ``kf_msg_or_event`` callback with a fresh token."""
        token = standin_kf.issue_token(self.state, self.open_kfid)
        resp = self.wecom.post_xml(standin_kf.callback_xml(CORP_ID, self.open_kfid, token))
        assert resp.status_code == 200
        return resp

    def write(self, content: str, run: bool = True, **kw) -> list[str]:
        """Send a text; with ``run``, process everything and return the texts received meanwhile."""
        before = len(self.texts())
        standin_kf.customer_writes(self.state, self.userid, self.open_kfid, content, **kw)
        self.notify()
        if run:
            self.wecom.run()
        return self.texts()[before:]

    def send(self, msgtype: str, body: dict) -> list[str]:
        """Send a non-text message (image, location...)."""
        before = len(self.texts())
        standin_kf.customer_writes(self.state, self.userid, self.open_kfid, msgtype=msgtype, body=body)
        self.notify()
        self.wecom.run()
        return self.texts()[before:]

    def enter(self) -> str:
        """Open the chat (an ``enter_session`` event); returns the welcome code."""
        code = standin_kf.customer_enters(self.state, self.userid, self.open_kfid)
        self.notify()
        self.wecom.run()
        return code

    def texts(self) -> list[str]:
        """Every text this customer received through KF."""
        return standin_kf.texts_to(self.state, self.userid)
