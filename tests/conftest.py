"""Fixtures: a fresh database per test (SQLite, or PostgreSQL with QINGCHE_TEST_DATABASE_URL),
a real Redis (db 15, flushed), a real rq worker run in burst mode, the WeCom API stand-in as a
real HTTP server on 127.0.0.1, and encrypted callbacks built as WeCom builds them."""
from __future__ import annotations

import os
import tempfile
import time
from contextlib import contextmanager
from datetime import timedelta

import pytest
import redis as redis_lib
from sqlalchemy import create_engine, text

from bot import create_app, runtime
from bot.config import Config
from bot.crypto import CallbackCrypto
from bot.db import dispose_all, get_engine, session_scope
from bot.models import Base
from bot.queue import QUEUE_NAME
from bot.roster import load_sample
from bot.standin import StandInServer, callbacks
from bot.standin.api import StandInState

# Each test process takes its own Redis database (1-15), so that concurrent runs never flush
# each other's queues.
# Trained scorers are kept between test processes and runs (knowledge/modelcache.py): the workers and
# drills each start the app, and training every scorer takes seconds each time.
os.environ.setdefault("QINGCHE_MODEL_CACHE",
                      os.path.join(tempfile.gettempdir(), f"qingche-test-models-{os.getuid()}"))
REDIS_URL = os.environ.get("QINGCHE_TEST_REDIS_URL", f"redis://127.0.0.1:6379/{1 + os.getpid() % 15}")
PG_URL = os.environ.get("QINGCHE_TEST_DATABASE_URL", "")
CORP_ID = "wwqingchetest0001"
SECRET = "test-app-secret"
KF_SECRET = "test-kf-secret"
TOKEN = "QingcheTest"
AES_KEY = "Qm9yZWRvbVByb29mS2V5Rm9yUWluZ2NoZVRlc3RzMDE"


@pytest.fixture(scope="session")
def standin_server():
    """The WeCom API stand-in, a real HTTP server on 127.0.0.1 for the whole run."""
    server = StandInServer(StandInState(CORP_ID, {SECRET: "app", KF_SECRET: "kf"})).start()
    yield server
    server.stop()


@pytest.fixture
def wecom_api(standin_server) -> StandInState:
    """The stand-in's state, emptied for this test."""
    standin_server.state.reset()
    standin_server.state.tokens.clear()
    return standin_server.state


def pg_schema_url(schema: str) -> str:
    """PG_URL with its search_path set to ``schema``."""
    sep = "&" if "?" in PG_URL else "?"
    return f"{PG_URL}{sep}options=-csearch_path%3D{schema}"


@contextmanager
def private_pg_schema(prefix: str):
    """An empty PostgreSQL schema of this test process's own (yields its URL), dropped afterwards:
    concurrent runs and tables left by other versions never get in the way."""
    schema = f"{prefix}_{os.getpid()}"
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        yield pg_schema_url(schema)
    finally:
        dispose_all()
        admin.dispose()  # a drill may have restarted the server meanwhile
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        admin.dispose()


@pytest.fixture(scope="session")
def _pg_schema():
    if not PG_URL:
        yield None
        return
    with private_pg_schema("qingche_test") as url:
        Base.metadata.create_all(get_engine(url))
        yield url


DB_PARAMS = ["sqlite", "postgresql"] if PG_URL else ["sqlite"]


@pytest.fixture(params=DB_PARAMS)
def db_url(request, tmp_path, _pg_schema) -> str:
    """A fresh, empty database for this test: each test runs on SQLite, and on PostgreSQL when
    QINGCHE_TEST_DATABASE_URL is set."""
    if request.param == "postgresql":
        engine = get_engine(_pg_schema)
        names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        with engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        return _pg_schema
    url = f"sqlite:///{tmp_path}/qingche-test.sqlite3"
    Base.metadata.create_all(get_engine(url))
    return url


@pytest.fixture
def redis_conn():
    """A real Redis connection on the test database, flushed before and after."""
    conn = redis_lib.Redis.from_url(REDIS_URL)
    conn.flushdb()
    yield conn
    conn.flushdb()
    conn.close()


@pytest.fixture
def config(db_url, redis_conn, standin_server) -> Config:
    """Settings for a test: real Redis, the stand-in as the WeCom API host."""
    return Config.from_env(env={}, WECOM_CORP_ID=CORP_ID, WECOM_AGENT_ID="1000002", WECOM_SECRET=SECRET,
                           WECOM_KF_SECRET=KF_SECRET, WECOM_TOKEN=TOKEN, WECOM_AES_KEY=AES_KEY,
                           WECOM_API_BASE=standin_server.base_url, DATABASE_URL=db_url, REDIS_URL=REDIS_URL,
                           LOG_LEVEL=os.environ.get("QINGCHE_TEST_LOG_LEVEL", "WARNING"),
                           # Off, or every sweep after 08:00 China time would push a digest into the
                           # test's messages; the digest tests turn it on with their own clock.
                           QINGCHE_DIGEST_TIME="off")


@pytest.fixture
def app(config):
    """The Flask app with the sample roster loaded."""
    application = create_app(config)
    application.config["TESTING"] = True
    with session_scope(config.DATABASE_URL) as s:
        load_sample(s)
    yield application
    runtime.reset()
    dispose_all()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def crypto() -> CallbackCrypto:
    return CallbackCrypto(TOKEN, AES_KEY, CORP_ID)


class WeComSender:
    """Posts callbacks exactly as WeCom does and runs a real rq worker until the queue is idle."""

    def __init__(self, client, crypto: CallbackCrypto, redis_conn, state: StandInState):
        self.client = client
        self.crypto = crypto
        self.redis = redis_conn
        self.state = state

    def post_xml(self, xml: str, nonce: str | None = None):
        """Encrypt, sign and POST one plaintext message; return the response."""
        body, params = self.crypto.build_post(xml, nonce or callbacks.new_nonce(), agent_id="1000002")
        return self.client.post("/wecom/callback", query_string=params, data=body, content_type="text/xml")

    def text(self, userid: str, content: str, **kw):
        return self.post_xml(callbacks.text_xml(CORP_ID, userid, content, **kw))

    def image(self, userid: str, media_id: str = "photo-1", pic_url: str = "", **kw):
        return self.post_xml(callbacks.image_xml(CORP_ID, userid, media_id, pic_url, **kw))

    def location(self, userid: str, lat: float, lng: float, label: str = "", **kw):
        return self.post_xml(callbacks.location_xml(CORP_ID, userid, lat, lng, label, **kw))

    def event(self, userid: str, event: str, **fields):
        return self.post_xml(callbacks.event_xml(CORP_ID, userid, event, **fields))

    def run(self, rounds: int = 30, delayed: bool = True) -> None:
        """Run a real rq worker (burst) until nothing is queued; delayed jobs are released early."""
        from rq import Queue, SimpleWorker
        from rq.registry import ScheduledJobRegistry

        queue = Queue(QUEUE_NAME, connection=self.redis)
        for _ in range(rounds):
            SimpleWorker([queue], connection=self.redis).work(burst=True, with_scheduler=False,
                                                              logging_level="WARNING")
            registry = ScheduledJobRegistry(queue=queue)
            ids = registry.get_job_ids() if delayed else []
            if not ids and queue.count == 0:
                return
            for job_id in ids:
                job = queue.fetch_job(job_id)
                registry.remove(job_id)
                if job is not None:
                    queue.enqueue_job(job)
            if delayed:
                _make_outbox_due()

    def queued_jobs(self) -> int:
        from rq import Queue
        from rq.registry import ScheduledJobRegistry

        queue = Queue(QUEUE_NAME, connection=self.redis)
        return queue.count + len(ScheduledJobRegistry(queue=queue).get_job_ids())


def _make_outbox_due() -> None:
    """Treat retry back-off as elapsed (tests do not wait minutes for it)."""
    from sqlalchemy import update

    from bot.models import Outbox
    from bot.timeutil import utcnow

    with session_scope(runtime.get().config.DATABASE_URL) as s:
        s.execute(update(Outbox).where(Outbox.status == "pending").values(next_attempt_at=utcnow()))


@pytest.fixture
def wecom(client, crypto, redis_conn, wecom_api) -> WeComSender:
    return WeComSender(client, crypto, redis_conn, wecom_api)


@pytest.fixture
def chat(wecom, wecom_api):
    """chat(userid, text) -> the texts that user received in answer."""

    def _chat(userid: str, content: str) -> list[str]:
        before = len(wecom_api.texts_to(userid))
        resp = wecom.text(userid, content)
        assert resp.status_code == 200
        wecom.run()
        return wecom_api.texts_to(userid)[before:]

    return _chat


def sweep_now():
    """Run the sweeper with no grace period."""
    from bot import jobs

    return jobs.sweep(grace=timedelta(0))


def wait_for(predicate, timeout: float = 10.0, interval: float = 0.05):
    """Poll ``predicate`` until true or ``timeout``; return its last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


def config_env(config: Config) -> dict:
    """The environment a separate worker process needs to run with ``config``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WECOM_", "QINGCHE_", "DATABASE_", "REDIS_"))}
    for name in ("WECOM_CORP_ID", "WECOM_AGENT_ID", "WECOM_SECRET", "WECOM_KF_SECRET", "WECOM_TOKEN",
                 "WECOM_AES_KEY", "WECOM_API_BASE", "DATABASE_URL", "REDIS_URL", "QINGCHE_SLA_FILE",
                 "QINGCHE_DIGEST_TIME"):
        value = getattr(config, name)
        if value:
            env[name] = str(value)
    env["LOG_LEVEL"] = "WARNING"
    env["QINGCHE_MODEL_CACHE"] = os.environ["QINGCHE_MODEL_CACHE"]
    return env
