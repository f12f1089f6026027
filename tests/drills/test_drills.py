"""Fault drills under load: Redis killed, PostgreSQL connections cut (or the server restarted),
a worker killed mid-job, the WeCom API failing. After each: every accepted message answered
once, every ticket push delivered once, nothing lost, nothing duplicated."""
from __future__ import annotations

import os
import subprocess
import threading
import time
from pathlib import Path

import pytest
import redis as redis_lib
from rq.registry import StartedJobRegistry
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from bot.db import dispose_all, get_engine, session_scope
from bot.models import InboundMessage, Outbox, Ticket
from bot.queue import QUEUE_NAME
from bot.standin import callbacks
from tests.conftest import CORP_ID, PG_URL
from tests.drills.conftest import Load

pytestmark = pytest.mark.drill
STEPS = ("楼下路灯坏了三天了", "1", "确认")   # the photo is an offer in the summary, not a step
RESIDENTS = ("chenayi", "lisuk", "huangsang")


class Complaint(threading.Thread):
    """A resident files a complaint step by step, each step after the bot's answer to the last."""

    def __init__(self, url: str, crypto, api, user: str):
        super().__init__(daemon=True)
        self.url, self.crypto, self.api, self.user = url, crypto, api, user
        self.done = False

    def run(self) -> None:
        import requests

        for step in STEPS:
            before = len(self.api.texts_to(self.user))
            xml = callbacks.text_xml(CORP_ID, self.user, step)
            deadline = time.monotonic() + 45
            while time.monotonic() < deadline:   # WeCom resends until it gets a 200
                body, params = self.crypto.build_post(xml, callbacks.new_nonce())
                try:
                    if requests.post(self.url, params=params, data=body, timeout=10).status_code == 200:
                        break
                except requests.RequestException:
                    pass
                time.sleep(1)
            while len(self.api.texts_to(self.user)) <= before and time.monotonic() < deadline:
                time.sleep(0.2)
            if len(self.api.texts_to(self.user)) <= before:
                return
        self.done = True


def _pending(config) -> tuple[int, int]:
    with session_scope(config.DATABASE_URL) as s:
        inbound = s.scalar(select(func.count()).select_from(InboundMessage).where(InboundMessage.status == "pending"))
        outbox = s.scalar(select(func.count()).select_from(Outbox).where(Outbox.status == "pending"))
    return inbound, outbox


def _settle(config, api, load: Load, complaints, timeout: float = 60) -> None:
    """Wait until every accepted message is answered and nothing is pending (or ``timeout``)."""
    load.join(40)
    for c in complaints:
        c.join(timeout)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            answered = all(api.messages_to(u) for u in load.accepted)
            if answered and _pending(config) == (0, 0):
                time.sleep(1.5)            # anything still in flight would show up now
                if _pending(config) == (0, 0):
                    return
        except DBAPIError:  # the database is coming back
            time.sleep(0.5)
        time.sleep(0.5)


def _report(name: str, api, load: Load, stack) -> None:
    line = (f"{name}: accepted {len(load.accepted)}, refused {len(load.refused)}, resent by the client "
            f"{load.retried}, delivered {len(api.sent)}, dropped by WeCom's duplicate check {len(api.duplicates)}, "
            f"worker restarts {stack.restarts}")
    print(line)
    out = os.environ.get("QINGCHE_DRILL_REPORT")
    if out:
        with Path(out).open("a", encoding="utf-8") as f:
            f.write(line + "\n")


def _assert_once(config, api, load: Load, complaints) -> None:
    assert load.refused == []
    assert load.accepted
    once = {u: len(api.messages_to(u)) for u in load.accepted}
    assert {u: n for u, n in once.items() if n != 1} == {}
    assert all(c.done for c in complaints), "a complaint got stuck"
    with session_scope(config.DATABASE_URL) as s:
        statuses = dict(s.execute(select(InboundMessage.status, func.count()).group_by(InboundMessage.status)).all())
        outbox = s.execute(select(Outbox.to_user, Outbox.body, Outbox.status)).all()
        tickets = s.scalars(select(Ticket.number)).all()
    assert set(statuses) == {"done"}
    assert {row.status for row in outbox} == {"sent"}
    delivered = [(p["touser"], p[p["msgtype"]].get("content") if isinstance(p[p["msgtype"]], dict) else None)
                 for p in api.sent]
    for row in outbox:          # every recorded message reached WeCom exactly once
        content = row.body.get("content")
        if content is not None:
            assert delivered.count((row.to_user, content)) == 1, (row.to_user, content[:40])
    assert len(tickets) == len(complaints)
    for number in tickets:      # every ticket's push reached its grid worker once
        pushes = [c for _, c in delivered if c and c.startswith(f"【新工单 #{number}】")]
        assert len(pushes) == 1, number


def _start(stack, crypto, api, tag: str, rate: float = 15, seconds: float = 10):
    load = Load(stack.url, crypto, rate=rate, seconds=seconds, tag=tag)
    complaints = [Complaint(stack.url, crypto, api, user) for user in RESIDENTS]
    load.start()
    for c in complaints:
        c.start()
    return load, complaints


def test_redis_killed_and_restarted_under_load(stack, private_redis, crypto, wecom_api, drill_config):
    stack.start(workers=2)
    load, complaints = _start(stack, crypto, wecom_api, "r")
    time.sleep(3)
    private_redis.kill()            # queued jobs, locks and the cached token are gone with it
    time.sleep(3)
    private_redis.start()
    _settle(drill_config, wecom_api, load, complaints)
    _report("redis killed", wecom_api, load, stack)
    _assert_once(drill_config, wecom_api, load, complaints)


@pytest.mark.skipif(not PG_URL, reason="needs PostgreSQL (QINGCHE_TEST_DATABASE_URL)")
def test_postgres_connections_terminated_under_load(stack, crypto, wecom_api, drill_config):
    stack.start(workers=2)
    load, complaints = _start(stack, crypto, wecom_api, "p")
    app_name = drill_config.DATABASE_URL.rsplit("application_name=", 1)[1]
    killer = get_engine(PG_URL)
    for _ in range(3):              # cut every connection of ours, three times, 2 s apart
        time.sleep(2)
        with killer.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                              "WHERE application_name = :name"), {"name": app_name})
    _settle(drill_config, wecom_api, load, complaints)
    _report("postgres connections cut", wecom_api, load, stack)
    _assert_once(drill_config, wecom_api, load, complaints)


@pytest.mark.skipif(os.environ.get("QINGCHE_DRILL_PG") != "1" or not PG_URL,
                    reason="restarts the shared PostgreSQL server: only with QINGCHE_DRILL_PG=1")
def test_postgres_restarted_under_load(stack, crypto, wecom_api, drill_config):
    stack.start(workers=2)
    load, complaints = _start(stack, crypto, wecom_api, "q")
    time.sleep(3)
    version = min(os.listdir("/etc/postgresql"))
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"], check=True,
                   timeout=60)
    _settle(drill_config, wecom_api, load, complaints, timeout=90)
    _report("postgres restarted", wecom_api, load, stack)
    _assert_once(drill_config, wecom_api, load, complaints)
    dispose_all()  # this process's pools still hold connections to the old server


def test_worker_killed_mid_job(stack, private_redis, crypto, wecom_api, drill_config):
    """The only worker is killed with SIGKILL under load; a new one takes over."""
    stack.start(workers=1)
    load, complaints = _start(stack, crypto, wecom_api, "k")
    time.sleep(3)
    conn = redis_lib.Redis.from_url(private_redis.url)
    started = StartedJobRegistry(QUEUE_NAME, connection=conn)
    deadline = time.monotonic() + 10
    while not started.get_job_ids() and time.monotonic() < deadline:   # catch it inside a job
        time.sleep(0.005)
    stack.kill_worker(stack.workers[0])
    # Its locks would expire after their TTL (minutes); with no other worker alive, expire them now.
    for key in conn.keys("qingche:lock:*"):
        conn.delete(key)
    stack.start_worker()
    _settle(drill_config, wecom_api, load, complaints)
    _report("worker killed", wecom_api, load, stack)
    _assert_once(drill_config, wecom_api, load, complaints)


def test_wecom_api_failing_for_a_while(stack, crypto, wecom_api, drill_config):
    stack.start(workers=2)
    load, complaints = _start(stack, crypto, wecom_api, "w")
    time.sleep(2)
    wecom_api.fail("message/send", *([-1, 45009, 42001, "http500"] * 6))
    wecom_api.fail("gettoken", -1, "http500")
    _settle(drill_config, wecom_api, load, complaints)
    _report("wecom api failing", wecom_api, load, stack)
    assert not wecom_api.faults["message/send"]      # every injected failure was met
    _assert_once(drill_config, wecom_api, load, complaints)
