"""A database that cannot be reached: the callback is not acknowledged (503, so WeCom resends), no
500, no traceback in the log. That the resend is answered once the database is back is the
PostgreSQL-restart drill's (tests/drills)."""
import logging

from bot import create_app, runtime
from bot.config import Config
from bot.db import dispose_all
from bot.standin import callbacks
from tests.conftest import AES_KEY, CORP_ID, SECRET, TOKEN

NOWHERE = "postgresql+psycopg://postgres@127.0.0.1:9/qingche"   # nothing listens on port 9


def test_database_down_means_503_and_a_clean_log_line(crypto, caplog, standin_server):
    config = Config.from_env(env={}, WECOM_CORP_ID=CORP_ID, WECOM_AGENT_ID="1000002", WECOM_SECRET=SECRET,
                             WECOM_TOKEN=TOKEN, WECOM_AES_KEY=AES_KEY, WECOM_API_BASE=standin_server.base_url,
                             DATABASE_URL=NOWHERE, LOG_LEVEL="WARNING")
    app = create_app(config)
    try:
        body, params = crypto.build_post(callbacks.text_xml(CORP_ID, "chenayi", "你好"), callbacks.new_nonce())
        with caplog.at_level(logging.WARNING):
            resp = app.test_client().post("/wecom/callback", query_string=params, data=body,
                                          content_type="text/xml")
        assert resp.status_code == 503 and resp.data == b""
        lines = [r for r in caplog.records if "database unavailable" in r.getMessage()]
        assert len(lines) == 1 and lines[0].exc_info is None
        assert not any(r.exc_info for r in caplog.records)
    finally:
        runtime.reset()
        dispose_all()

