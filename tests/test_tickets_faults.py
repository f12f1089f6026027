"""Tickets survive faults: Redis down while filing, a worker killed mid-job."""
import dataclasses
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import redis as redis_lib
from sqlalchemy import select

from bot import runtime
from bot.db import session_scope
from bot.models import InboundMessage, Outbox, Ticket
from bot.queue import RQQueue
from tests.conftest import sweep_now, wait_for

HERE = Path(__file__).resolve().parent
DEAD_REDIS = {"host": "127.0.0.1", "port": 1, "socket_connect_timeout": 0.2}


def _draft(chat):
    """A resident's complaint, ready for 确认."""
    chat("chenayi", "楼下路灯坏了三天了")
    chat("chenayi", "1")
    chat("chenayi", "没有")


def _all(config, model):
    with session_scope(config.DATABASE_URL) as s:
        return s.scalars(select(model).order_by(model.id)).all()


def _pushes(wecom_api, userid="liang.wg"):
    return [t for t in wecom_api.texts_to(userid) if t.startswith("【新工单 #1】")]


def test_redis_down_after_filing_push_arrives_when_it_returns(chat, wecom, wecom_api, config):
    _draft(chat)
    wecom.text("chenayi", "确认")                 # enqueued while Redis is up
    rt = runtime.get()
    rt._queue = RQQueue(redis_lib.Redis(**DEAD_REDIS))   # Redis goes away before delivery is enqueued
    wecom.run()
    [ticket] = _all(config, Ticket)
    assert ticket.assignee_userid == "liang.wg"
    assert _pushes(wecom_api) == []
    assert {o.status for o in _all(config, Outbox) if o.to_user == "liang.wg"} == {"pending"}
    rt._queue = None                               # Redis is back
    sweep_now()
    wecom.run()
    assert len(_pushes(wecom_api)) == 1
    sweep_now()
    wecom.run()
    assert len(_pushes(wecom_api)) == 1            # never twice
    assert sum("已提交" in t for t in wecom_api.texts_to("chenayi")) == 1


def test_redis_down_when_the_confirmation_arrives(chat, wecom, wecom_api, config):
    _draft(chat)
    rt = runtime.get()
    rt._queue = RQQueue(redis_lib.Redis(**DEAD_REDIS))
    assert wecom.text("chenayi", "确认").status_code == 200
    assert _all(config, Ticket) == []
    rt._queue = None
    sweep_now()
    wecom.run()
    assert len(_all(config, Ticket)) == 1
    assert len(_pushes(wecom_api)) == 1


def _worker_env(config, mark: Path, hang: str) -> dict:
    env = dict(os.environ)
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        if f.name != "extra" and value not in ("", None):
            env[f.name] = str(value)
    env.update(QINGCHE_TEST_MARK=str(mark), QINGCHE_TEST_HANG=hang, PYTHONPATH=str(HERE.parent))
    return env


def _kill_worker_at(config, tmp_path, hang: str) -> None:
    """Run a worker process until it reaches ``hang``, then SIGKILL it."""
    mark = tmp_path / f"{hang}.mark"
    proc = subprocess.Popen([sys.executable, str(HERE / "tickets_worker_proc.py")],
                            env=_worker_env(config, mark, hang), cwd=str(HERE.parent))
    try:
        assert wait_for(mark.exists, timeout=30), "the worker never reached the point to kill it"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)


def _locks_expire(redis_conn) -> None:
    """The killed worker's locks time out (they would after their TTL)."""
    for key in redis_conn.keys("qingche:lock:*"):
        redis_conn.delete(key)


@pytest.mark.parametrize("hang", ["filing", "delivery"])
def test_worker_killed_mid_job_no_lost_and_no_duplicate_push(chat, wecom, wecom_api, config, redis_conn,
                                                             tmp_path, hang):
    _draft(chat)
    wecom.text("chenayi", "确认")
    _kill_worker_at(config, tmp_path, hang)
    if hang == "filing":
        assert _all(config, Ticket) == []            # the transaction died with the worker
        assert [m.status for m in _all(config, InboundMessage)][-1] == "pending"
    else:
        assert len(_pushes(wecom_api)) == 1           # WeCom has it; our row does not know yet
    _locks_expire(redis_conn)
    sweep_now()
    wecom.run()
    sweep_now()
    wecom.run()
    assert len(_all(config, Ticket)) == 1
    assert len(_pushes(wecom_api)) == 1
    assert sum("已提交" in t for t in wecom_api.texts_to("chenayi")) == 1
    assert {o.status for o in _all(config, Outbox)} == {"sent"}
    if hang == "delivery":
        assert any(d["touser"] == "liang.wg" for d in wecom_api.duplicates)   # WeCom dropped the resend
