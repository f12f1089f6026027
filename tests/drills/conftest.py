"""Fault drills: the real web app on a threaded HTTP server, real ``python worker.py`` processes,
a private Redis that the drill may kill, and the WeCom API stand-in. Loopback only, bounded.

Drills run once, on PostgreSQL when QINGCHE_TEST_DATABASE_URL is set (production's database;
running them on SQLite as well would double their time for little), else on SQLite.
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests
from sqlalchemy import text
from werkzeug.serving import make_server

from bot import create_app, runtime
from bot.config import Config
from bot.db import dispose_all, get_engine, session_scope
from bot.models import Base
from bot.roster import load_sample
from bot.standin import callbacks
from tests.conftest import AES_KEY, CORP_ID, KF_SECRET, SECRET, TOKEN

ROOT = Path(__file__).resolve().parents[2]


def pytest_configure(config):
    config.addinivalue_line("markers", "drill: a fault drill (starts processes; tens of seconds)")


def _free_port(preferred: int = 0) -> int:
    for port in ([preferred] if preferred else []) + [0]:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return s.getsockname()[1]
    raise RuntimeError("no free port")


class PrivateRedis:
    """A redis-server of the drill's own, without persistence, that can be killed and restarted."""

    def __init__(self, tmp: Path):
        self.port = _free_port(6390)
        self.tmp = tmp
        self.proc: subprocess.Popen | None = None
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                                      "--save", "", "--appendonly", "no", "--dir", str(self.tmp)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(5)


@pytest.fixture
def private_redis(tmp_path):
    if not shutil.which("redis-server"):
        pytest.skip("redis-server is not installed")
    redis = PrivateRedis(tmp_path)
    redis.start()
    yield redis
    redis.kill()


@pytest.fixture
def drill_db_url(tmp_path, _pg_schema) -> str:
    """A fresh database, tagged so a drill can find (and terminate) its own connections."""
    if _pg_schema:
        engine = get_engine(_pg_schema)
        names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        with engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        sep = "&" if "?" in _pg_schema else "?"
        return f"{_pg_schema}{sep}application_name=qingche-drill-{os.getpid()}"
    url = f"sqlite:///{tmp_path}/drill.sqlite3"
    Base.metadata.create_all(get_engine(url))
    return url


class Stack:
    """The web app on 127.0.0.1 and supervised ``python worker.py`` processes."""

    def __init__(self, config: Config, tmp: Path):
        self.config = config
        self.tmp = tmp
        self.workers: list[subprocess.Popen] = []
        self.restarts = 0
        self.app = create_app(config)
        with session_scope(config.DATABASE_URL) as s:
            load_sample(s)
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}/wecom/callback"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self._stop = threading.Event()
        self._supervisor = threading.Thread(target=self._supervise, daemon=True)

    def env(self) -> dict:
        env = dict(os.environ)
        env.update({"WECOM_CORP_ID": CORP_ID, "WECOM_AGENT_ID": "1000002", "WECOM_SECRET": SECRET,
                    "WECOM_KF_SECRET": KF_SECRET, "WECOM_TOKEN": TOKEN, "WECOM_AES_KEY": AES_KEY,
                    "WECOM_API_BASE": self.config.WECOM_API_BASE, "DATABASE_URL": self.config.DATABASE_URL,
                    "REDIS_URL": self.config.REDIS_URL, "LOG_LEVEL": "WARNING", "QINGCHE_SWEEP_SECONDS": "1"})
        return env

    def start_worker(self) -> subprocess.Popen:
        log = (self.tmp / f"worker-{len(self.workers)}.log").open("ab")
        proc = subprocess.Popen([sys.executable, "worker.py"], cwd=ROOT, env=self.env(), stdout=log,
                                stderr=subprocess.STDOUT)
        self.workers.append(proc)
        return proc

    def start(self, workers: int = 2) -> Stack:
        for _ in range(workers):
            self.start_worker()
        self._supervisor.start()
        return self

    def _supervise(self) -> None:
        """Restart a worker that exited on its own, as the platform's process manager would."""
        while not self._stop.wait(0.5):
            for proc in list(self.workers):
                if proc.poll() is not None and not getattr(proc, "killed_by_drill", False):
                    self.workers.remove(proc)
                    self.restarts += 1
                    self.start_worker()

    def kill_worker(self, proc: subprocess.Popen) -> None:
        """SIGKILL one worker (the drill replaces it itself)."""
        proc.killed_by_drill = True
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        self.workers.remove(proc)

    def stop(self) -> None:
        self._stop.set()
        for proc in self.workers:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.workers:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        self.server.shutdown()
        self.server.server_close()
        runtime.reset()
        dispose_all()


@pytest.fixture
def drill_config(drill_db_url, private_redis, standin_server) -> Config:
    return Config.from_env(env={}, WECOM_CORP_ID=CORP_ID, WECOM_AGENT_ID="1000002", WECOM_SECRET=SECRET,
                           WECOM_KF_SECRET=KF_SECRET, WECOM_TOKEN=TOKEN, WECOM_AES_KEY=AES_KEY,
                           WECOM_API_BASE=standin_server.base_url, DATABASE_URL=drill_db_url,
                           REDIS_URL=private_redis.url, LOG_LEVEL="WARNING")


@pytest.fixture
def stack(drill_config, wecom_api, tmp_path):
    """The app and two workers, started; stopped after the drill."""
    s = Stack(drill_config, tmp_path)
    try:
        yield s
    finally:
        s.stop()


class Load(threading.Thread):
    """Posts '你好' from a new user ``rate`` times a second for ``seconds``; like WeCom, a callback
    that is not answered 200 is sent again (up to 3 tries, 1 s apart)."""

    def __init__(self, url: str, crypto, rate: float = 15, seconds: float = 10, tag: str = "d"):
        super().__init__(daemon=True)
        self.url, self.crypto, self.rate, self.seconds, self.tag = url, crypto, rate, seconds, tag
        self.accepted: list[str] = []
        self.refused: list[str] = []
        self.retried = 0
        self._lock = threading.Lock()

    def _one(self, user: str) -> None:
        xml = callbacks.text_xml(CORP_ID, user, "你好")
        for _attempt in range(3):
            body, params = self.crypto.build_post(xml, callbacks.new_nonce())
            try:
                status = requests.post(self.url, params=params, data=body, timeout=10,
                                       headers={"Content-Type": "text/xml"}).status_code
            except requests.RequestException:
                status = -1
            if status == 200:
                with self._lock:
                    self.accepted.append(user)
                return
            with self._lock:
                self.retried += 1
            time.sleep(1)
        with self._lock:
            self.refused.append(user)

    def run(self) -> None:
        start = time.monotonic()
        threads = []
        for i in range(int(self.rate * self.seconds)):
            delay = start + i / self.rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            t = threading.Thread(target=self._one, args=(f"{self.tag}{i:04d}",), daemon=True)
            t.start()
            threads.append(t)
        for t in threads:
            t.join(30)
