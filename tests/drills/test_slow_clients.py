"""Slow clients (slowloris) against the web process, with nginx in front and without.

The web process is started as the Procfile's ``web`` line starts it (gunicorn, gthread, 2 workers x 4
threads, ``bot.wsgi:app``), with real ``python worker.py`` processes behind it, and nginx from
``deploy/nginx.conf`` with its placeholders filled in (nginx reads the same file production installs).
50 slow clients connect to nginx: half send part of their request header, half a whole header and the
start of a 4 KB body, and then each sends one byte every 2 s and, when the server closes it, connects
again; they stay for the whole measurement. Meanwhile 30 real encrypted callbacks are posted through
nginx, 20 a second as WeCom bursts them, from the sample roster's residents (chenayi, lisuk, huangsang,
10 each: the bot sends one member at most 28 messages a minute, so 30 answers to one person would not
all arrive within a minute). Each must be acknowledged 200 within WeCom's 5 s, be recorded, and be
answered by the bot through a worker.

For comparison the same slow clients and callbacks then go straight to gunicorn, with a 2 s client
timeout: that part is printed, not asserted (figures in docs/PERFORMANCE.md).
"""
from __future__ import annotations

import datetime as dt
import ipaddress
import math
import os
import re
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests
from sqlalchemy import select

from bot.db import session_scope
from bot.models import InboundMessage
from bot.standin import callbacks
from tests.conftest import CORP_ID
from tests.drills.conftest import ROOT, _free_port

NGINX = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if os.access(p, os.X_OK)), None)
pytestmark = [pytest.mark.drill, pytest.mark.skipif(not NGINX, reason="nginx not installed: apt-get install nginx")]

NGINX_CONF = ROOT / "deploy" / "nginx.conf"
RESIDENTS = ("chenayi", "lisuk", "huangsang")
PER_RESIDENT = 10
SLOW_CLIENTS = 50
TRICKLE_SECONDS = 2.0      # one byte every 2 s from each slow client
WECOM_TIMEOUT = 5.0        # WeCom abandons a callback after 5 s
DIRECT_TIMEOUT = 2.0       # the client's timeout when posting straight to gunicorn
ATTACKER = "127.0.0.2"     # the slow clients' source address (loopback), so per-address limits tell them apart


def procfile_web(env: dict) -> list[str]:
    """The Procfile's web command, its variables expanded from ``env`` as the shell would, run with
    this interpreter's gunicorn and bound to loopback (drills never listen beyond 127.0.0.1)."""
    line = next(x for x in (ROOT / "Procfile").read_text().splitlines() if x.startswith("web:"))
    command = re.sub(r"\$\{(\w+):-([^}]*)\}", lambda m: env.get(m[1]) or m[2], line[len("web:"):])
    command = re.sub(r"\$(\w+)", lambda m: env[m[1]], command)
    argv = [arg.replace("0.0.0.0:", "127.0.0.1:") for arg in shlex.split(command)]
    assert argv[0] == "gunicorn", argv
    return [sys.executable, "-m", "gunicorn", *argv[1:]]


def _wait_ok(url: str, proc: subprocess.Popen, log: Path, what: str, seconds: float = 30, **kw) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            if requests.get(url, timeout=1, **kw).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not answer {url} within {seconds} s:\n{log.read_text(errors='replace')[-3000:]}")


def _stop(proc: subprocess.Popen, sig: int = signal.SIGTERM, seconds: float = 15) -> None:
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(seconds)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


class Web:
    """The web process, started from the Procfile's web line with the drill's settings."""

    def __init__(self, stack, tmp: Path):
        env = stack.env()
        for name in ("WEB_CONCURRENCY", "WEB_THREADS"):   # the Procfile's defaults: 2 workers x 4 threads
            env.pop(name, None)
        self.port = _free_port()
        env["PORT"] = str(self.port)
        # gunicorn 27 opens a control socket in $XDG_RUNTIME_DIR (else ~/.gunicorn): keep it in tmp,
        # so that concurrent runs do not share one.
        env["XDG_RUNTIME_DIR"] = str(tmp)
        self.argv = procfile_web(env)
        self.log = tmp / "gunicorn.log"
        self.proc = subprocess.Popen(self.argv, cwd=ROOT, env=env, stdout=self.log.open("ab"),
                                     stderr=subprocess.STDOUT)
        self.base = f"http://127.0.0.1:{self.port}"
        _wait_ok(f"{self.base}/healthz", self.proc, self.log, "gunicorn")

    def stop(self) -> None:
        _stop(self.proc)


def self_signed(tmp: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key (PEM files), for the template's TLS listener."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = tmp / "tls-cert.pem", tmp / "tls-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


class Nginx:
    """nginx as a child process (no daemon, everything under ``tmp``), serving deploy/nginx.conf."""

    def __init__(self, upstream: str, tmp: Path):
        self.tmp = tmp / "nginx"
        temp = self.tmp / "temp"
        for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (temp / sub).mkdir(parents=True, exist_ok=True)
        self.port, self.tls_port = _free_port(), _free_port()
        self.cert, key = self_signed(self.tmp)
        values = {"__SERVER_NAME__": "localhost", "__LISTEN_TLS__": f"127.0.0.1:{self.tls_port}",
                  "__LISTEN__": f"127.0.0.1:{self.port}", "__TLS_CERT__": str(self.cert),
                  "__TLS_KEY__": str(key), "__UPSTREAM__": upstream, "__LOG_DIR__": str(self.tmp)}
        site = NGINX_CONF.read_text()
        for token, value in values.items():
            site = site.replace(token, value)
        left = sorted(set(re.findall(r"__[A-Z_]+__", site)))
        assert not left, f"deploy/nginx.conf has placeholders the drill does not fill: {left}"
        (self.tmp / "qingche.conf").write_text(site)
        # What Debian's /etc/nginx/nginx.conf provides around conf.d/*.conf, with every path in tmp.
        # As root, nginx's workers would switch to "nobody", who cannot enter pytest's private tmp.
        user = "user root;" if os.geteuid() == 0 else ""
        self.conf = self.tmp / "nginx.conf"
        self.conf.write_text(f"""
daemon off;
{user}
worker_processes 1;
pid {self.tmp}/nginx.pid;
error_log {self.tmp}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    include {self.tmp}/qingche.conf;
}}
""")
        self.log = self.tmp / "nginx.out"
        self.proc = subprocess.Popen([NGINX, "-p", f"{self.tmp}/", "-c", str(self.conf)],
                                     stdout=self.log.open("ab"), stderr=subprocess.STDOUT)
        self.base = f"http://127.0.0.1:{self.port}"
        _wait_ok(f"{self.base}/healthz", self.proc, self.log, "nginx")

    def access_statuses(self) -> dict[int, int]:
        counts: dict[int, int] = {}
        path = self.tmp / "qingche.access.log"
        for line in path.read_text(errors="replace").splitlines() if path.exists() else []:
            m = re.search(r'" (\d{3}) ', line)
            if m:
                counts[int(m[1])] = counts.get(int(m[1]), 0) + 1
        return counts

    def stop(self) -> None:
        _stop(self.proc)


@pytest.fixture
def web(stack, tmp_path):
    stack.start(workers=2)
    w = Web(stack, tmp_path)
    try:
        yield w
    finally:
        w.stop()


@pytest.fixture
def nginx(web, tmp_path):
    n = Nginx(f"127.0.0.1:{web.port}", tmp_path)
    try:
        yield n
    finally:
        n.stop()


class SlowClients(threading.Thread):
    """``n`` connections that send part of a request and then one byte every ``interval`` seconds.
    Half stall in the header (request line and some headers sent, the header never ends), half in
    the body (a whole header announcing 4096 bytes, then the body a byte at a time). A connection the
    server closes is opened again as soon as that is noticed, as an attacker would."""

    def __init__(self, port: int, n: int = SLOW_CLIENTS, interval: float = TRICKLE_SECONDS):
        super().__init__(daemon=True)
        self.port, self.n, self.interval = port, n, interval
        self.source = ATTACKER if self._can_bind(ATTACKER) else None
        self.cut = 0                 # closed by the server
        self.lifetimes: list[float] = []  # seconds from connect to the server's close, header stallers
        self._done = threading.Event()
        self._socks: dict[int, tuple[socket.socket, float]] = {}
        self.ready = threading.Event()

    @staticmethod
    def _can_bind(addr: str) -> bool:
        try:
            with socket.socket() as s:
                s.bind((addr, 0))
            return True
        except OSError:
            return False

    def _prefix(self, i: int) -> bytes:
        line = f"POST /wecom/callback?msg_signature=slow&timestamp=0&nonce={i} HTTP/1.1\r\n"
        head = f"{line}Host: 127.0.0.1\r\nContent-Type: text/xml\r\n"
        if i % 2 == 0:
            return (head + "X-Padding: ").encode()
        return (head + "Content-Length: 4096\r\n\r\n<xml><Encrypt><![CDATA[").encode()

    def _open(self, i: int) -> None:
        s = socket.socket()
        try:
            s.settimeout(2)
            if self.source:
                s.bind((self.source, 0))
            s.connect(("127.0.0.1", self.port))
            s.sendall(self._prefix(i))
            s.setblocking(False)
        except OSError:
            s.close()
            raise
        self._socks[i] = (s, time.monotonic())

    def _tick(self, i: int) -> None:
        s, since = self._socks[i]
        closed = False
        try:
            s.recv(4096)             # anything from the server (an answer such as 408, or EOF) ends it
            closed = True
        except BlockingIOError:
            try:
                s.send(b"a")
            except OSError:
                closed = True
        except OSError:
            closed = True
        if closed:
            s.close()
            del self._socks[i]
            self.cut += 1
            if i % 2 == 0:
                self.lifetimes.append(time.monotonic() - since)
            try:
                self._open(i)
            except OSError:
                pass

    def run(self) -> None:
        for i in range(self.n):
            try:
                self._open(i)
            except OSError:
                pass
        self.ready.set()
        while not self._done.wait(self.interval):
            for i in range(self.n):
                if i in self._socks:
                    self._tick(i)
                else:
                    try:
                        self._open(i)
                    except OSError:
                        pass

    @property
    def held(self) -> int:
        return len(self._socks)

    def stop(self) -> None:
        self._done.set()
        self.join(10)
        for s, _ in list(self._socks.values()):
            s.close()
        self._socks.clear()


def post_callbacks(url: str, crypto, senders: list[str], timeout: float, rate: float = 20) -> list[tuple]:
    """POST one encrypted text callback per sender, ``rate`` a second, each on a new connection as
    WeCom does; return (sender, MsgId, status or None on timeout, seconds) for each."""
    results: list[tuple] = [None] * len(senders)

    def one(i: int, user: str) -> None:
        xml = callbacks.text_xml(CORP_ID, user, "你好")
        msg_id = re.search(r"<MsgId>(\d+)</MsgId>", xml)[1]
        body, params = crypto.build_post(xml, callbacks.new_nonce(), agent_id="1000002")
        start = time.monotonic()
        try:
            status = requests.post(url, params=params, data=body, timeout=timeout,
                                   headers={"Content-Type": "text/xml"}).status_code
        except requests.RequestException:
            status = None
        results[i] = (user, msg_id, status, time.monotonic() - start)

    threads = []
    start = time.monotonic()
    for i, user in enumerate(senders):
        delay = start + i / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        t = threading.Thread(target=one, args=(i, user), daemon=True)
        t.start()
        threads.append(t)
    for t in threads:
        t.join(timeout + 5)
    return results


def _figures(results: list[tuple]) -> str:
    times = sorted(r[3] * 1000 for r in results if r[2] is not None)
    if not times:
        return "none answered"
    p95 = times[max(0, math.ceil(0.95 * len(times)) - 1)]
    return f"p50 {statistics.median(times):.0f} ms, p95 {p95:.0f} ms, max {times[-1]:.0f} ms"


def _report(line: str) -> None:
    print(line)
    out = os.environ.get("QINGCHE_DRILL_REPORT")
    if out:
        with Path(out).open("a", encoding="utf-8") as f:
            f.write(line + "\n")


def _split_by_process(port: int) -> list[int]:
    """How many established connections to ``port`` each process holds (largest first), if ``ss`` is there."""
    if not shutil.which("ss"):
        return []
    out = subprocess.run(["ss", "-tnpH", "state", "established", f"( sport = :{port} )"], capture_output=True,
                         text=True, timeout=10).stdout
    counts: dict[str, int] = {}
    for pid in re.findall(r"pid=(\d+)", out):
        counts[pid] = counts.get(pid, 0) + 1
    return sorted(counts.values(), reverse=True)


def test_slow_clients_do_not_delay_callbacks_behind_nginx(nginx, web, stack, crypto, wecom_api, drill_config):
    senders = [user for _ in range(PER_RESIDENT) for user in RESIDENTS]
    # The template's TLS listener works too (with the drill's own certificate).
    assert requests.get(f"https://127.0.0.1:{nginx.tls_port}/healthz", verify=str(nginx.cert),
                        timeout=5).status_code == 200

    # 1. Through nginx, with 50 slow clients connected to nginx: a burst of 15 callbacks once every
    # slow client has trickled twice, and another after nginx's header timeout has closed the header
    # stallers and they have connected again.
    slow = SlowClients(nginx.port)
    slow.start()
    try:
        slow.ready.wait(10)
        time.sleep(2 * TRICKLE_SECONDS)
        held = [slow.held]
        proxied = post_callbacks(f"{nginx.base}/wecom/callback", crypto, senders[:15], timeout=2 * WECOM_TIMEOUT)
        deadline = time.monotonic() + 15
        while slow.cut < SLOW_CLIENTS // 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(0.5)
        held.append(slow.held)
        proxied += post_callbacks(f"{nginx.base}/wecom/callback", crypto, senders[15:], timeout=2 * WECOM_TIMEOUT)
        held.append(slow.held)
        nginx_statuses = nginx.access_statuses()     # before the slow clients go (their 400s)
    finally:
        slow.stop()
    reached_gunicorn = web.log.read_text(errors="replace").count("msg_signature=slow")

    # 2. Straight at gunicorn, with the same slow clients connected to gunicorn (printed only).
    direct_slow = SlowClients(web.port)
    direct_slow.start()
    try:
        direct_slow.ready.wait(10)
        time.sleep(2 * TRICKLE_SECONDS)
        direct_held = direct_slow.held
        split = _split_by_process(web.port)
        direct = post_callbacks(f"{web.base}/wecom/callback", crypto,
                                [f"direct{i:03d}" for i in range(len(senders))], timeout=DIRECT_TIMEOUT)
    finally:
        direct_slow.stop()
    timed_out = sum(1 for r in direct if r[2] is None)

    lifetimes = slow.lifetimes
    _report(f"slow clients, through nginx: {min(held)}-{max(held)}/{SLOW_CLIENTS} slow connections open from "
            f"{slow.source or '127.0.0.1'} during the measurement ({slow.cut} closed by nginx and reopened"
            + (f" {statistics.median(lifetimes):.0f} s after connecting" if lifetimes else "")
            + f", {reached_gunicorn} reached gunicorn); {sum(1 for r in proxied if r[2] == 200)}/{len(proxied)} "
            f"callbacks acknowledged 200: {_figures(proxied)}; nginx's access log: {nginx_statuses}")
    _report(f"slow clients, straight to gunicorn ({' '.join(web.argv[3:])}): {direct_held}/{SLOW_CLIENTS} slow "
            f"connections open" + (f" (held by the two processes: {'/'.join(map(str, split))})" if split else "")
            + f"; {timed_out}/{len(direct)} callbacks timed out after {DIRECT_TIMEOUT:.0f} s; answered: {_figures(direct)}")

    # Every callback through nginx was acknowledged within WeCom's 5 s...
    late = [(u, status, round(sec, 2)) for u, _, status, sec in proxied if status != 200 or sec >= WECOM_TIMEOUT]
    assert late == [], f"callbacks not acknowledged 200 within {WECOM_TIMEOUT:.0f} s: {late}"
    assert min(held) >= SLOW_CLIENTS * 0.9, "the slow clients were not connected during the measurement"
    assert reached_gunicorn == 0, "nginx passed an incomplete request to gunicorn"
    # ...recorded before it was acknowledged...
    with session_scope(drill_config.DATABASE_URL) as s:
        rows = s.execute(select(InboundMessage.user_id, InboundMessage.payload)
                         .where(InboundMessage.user_id.in_(RESIDENTS))).all()
    assert sorted(str(r.payload.get("MsgId")) for r in rows) == sorted(r[1] for r in proxied)
    # ...and answered by the bot through a worker, once each.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and any(len(wecom_api.messages_to(u)) < PER_RESIDENT for u in RESIDENTS):
        time.sleep(0.2)
    assert {u: len(wecom_api.messages_to(u)) for u in RESIDENTS} == dict.fromkeys(RESIDENTS, PER_RESIDENT)
