"""Run the whole benchmark: baseline, acknowledgement, answers; print the figures.

    python -m bench.run                # about 3 minutes on 2 cores
    python -m bench.run --quick        # shorter runs, for a smoke test

Starts, each as its own process on 127.0.0.1: the WeCom API stand-in (bench.standin_server),
gunicorn with 2 workers of 4 threads for the baseline and then for Qingche (``bot.wsgi:app``, as the Procfile), and
``python worker.py 2``; PostgreSQL database ``qingche_bench`` and Redis database 12 are reset
first. The load generator (bench.load) runs as a separate process for each measurement.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from bench.common import bench_env, children, free_port, percentile, rss_mb, wait_port

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
GUNICORN = str(Path(PY).with_name("gunicorn"))
DB_URL = os.environ.get("QINGCHE_BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/qingche_bench")
REDIS_URL = os.environ.get("QINGCHE_BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")


class Procs:
    """Processes started by the benchmark, stopped in reverse order."""

    def __init__(self):
        self.procs: list[subprocess.Popen] = []

    def start(self, args: list[str], env: dict, log: Path) -> subprocess.Popen:
        proc = subprocess.Popen(args, env=env, cwd=ROOT, stdout=log.open("ab"), stderr=subprocess.STDOUT,
                                start_new_session=True)
        self.procs.append(proc)
        return proc

    def stop(self, proc: subprocess.Popen) -> None:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)
        if proc in self.procs:
            self.procs.remove(proc)

    def stop_all(self) -> None:
        for proc in reversed(list(self.procs)):
            self.stop(proc)


def _create_database(url: str) -> None:
    """Create the benchmark database on a server that does not have it yet."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            if conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :d"), {"d": target.database}) is None:
                conn.execute(text(f'CREATE DATABASE "{target.database}"'))
    finally:
        admin.dispose()


def reset_stores() -> None:
    """Empty the benchmark database (schema from the models, sample roster) and Redis database."""
    import redis
    from sqlalchemy import text

    from bot.db import dispose_all, get_engine, session_scope
    from bot.models import Base
    from bot.roster import load_sample

    _create_database(DB_URL)
    engine = get_engine(DB_URL)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    Base.metadata.create_all(engine)
    with session_scope(DB_URL) as s:
        load_sample(s)
    dispose_all()
    redis.Redis.from_url(REDIS_URL).flushdb()


def settle_backlog() -> None:
    """After a web-only run: drop its queued jobs and mark its messages done (no answers wanted)."""
    import redis
    from sqlalchemy import text

    from bot.db import dispose_all, get_engine

    with get_engine(DB_URL).begin() as conn:
        conn.execute(text("UPDATE inbound_message SET status = 'done' WHERE status = 'pending'"))
    dispose_all()
    redis.Redis.from_url(REDIS_URL).flushdb()


def load(port: int, *, mode: str, kind: str = "ack", rate: float = 0, duration: float = 10,
         concurrency: int = 16, count: int = 0, tag: str = "") -> dict:
    """Run bench.load in its own process; return its summary and records."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
        out = f.name
    args = [PY, "-m", "bench.load", "--port", str(port), "--mode", mode, "--kind", kind,
            "--duration", str(duration), "--concurrency", str(concurrency), "--out", out,
            "--tag", tag or f"{kind}{int(time.time() * 1000)}"]
    if rate:
        args += ["--rate", str(rate)]
    if count:
        args += ["--count", str(count)]
    subprocess.run(args, cwd=ROOT, check=True, stdout=subprocess.DEVNULL, timeout=duration + 180)
    data = json.loads(Path(out).read_text())
    os.unlink(out)
    return data


def gunicorn(procs: Procs, app: str, port: int, env: dict, logs: Path, workers: int,
             threads: int = 1) -> subprocess.Popen:
    extra = ["--threads", str(threads)] if threads > 1 else []
    # as the Procfile runs it (access log included), on 127.0.0.1
    proc = procs.start([GUNICORN, "--workers", str(workers), *extra, "--bind", f"127.0.0.1:{port}",
                        "--access-logfile", str(logs / "access.log"), "--log-level", "warning", app],
                       env, logs / "web.log")
    wait_port(port)
    return proc


def web_memory(master: subprocess.Popen) -> dict:
    """Peak RSS (MB) of gunicorn's master and each of its workers."""
    kids = children(master.pid)
    return {"master_mb": round(rss_mb(master.pid)[1], 1),
            "workers_peak_mb": [round(rss_mb(pid)[1], 1) for pid in kids]}


def worker_memory(proc: subprocess.Popen) -> list[float]:
    """Peak RSS (MB) of each rq worker process under ``python worker.py N``."""
    pids = children(proc.pid) or [proc.pid]
    return [round(rss_mb(pid)[1], 1) for pid in pids]


def stand_in_stats(port: int) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/_bench/stats", timeout=30) as resp:
        return json.loads(resp.read())


def answer_latency(records: list[dict], sport: int, wait: float) -> dict:
    """Wait for each accepted message's first answer at the stand-in; callback-to-answer latency (ms)."""
    accepted = [r for r in records if r["status"] == 200]
    deadline = time.time() + wait
    while True:
        stats = stand_in_stats(sport)
        arrivals = stats["arrivals"]
        answered = [r for r in accepted if r["user"] in arrivals]
        if len(answered) == len(accepted) or time.time() > deadline:
            break
        time.sleep(0.5)
    lat = [(min(arrivals[r["user"]]) - r["due"]) * 1000 for r in answered]
    extra = sum(len(arrivals[r["user"]]) for r in answered)
    return {"accepted": len(accepted), "answered": len(answered), "messages_delivered": extra,
            "p50_ms": round(percentile(lat, 50), 1), "p99_ms": round(percentile(lat, 99), 1),
            "max_ms": round(max(lat), 1) if lat else None, "duplicates_dropped": stats["duplicates"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short runs (smoke test)")
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4, help="gunicorn threads per web worker (as the Procfile)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--ack-rate", type=float, default=200)
    parser.add_argument("--answer-rate", type=float, default=50)
    parser.add_argument("--concurrency", type=int, default=8, help="closed-loop sender threads")
    parser.add_argument("--backlog", type=int, default=600, help="messages drained to measure worker capacity")
    parser.add_argument("--ack-only", action="store_true",
                        help="only the acknowledgement figures against the baseline (steps 1 and 2)")
    parser.add_argument("--no-floor", action="store_true",
                        help="skip the floor apps (baseline + one Redis RPUSH / one INSERT / both)")
    parser.add_argument("--logs", default=str(ROOT / "bench" / "logs"))
    args = parser.parse_args()
    span = 4 if args.quick else 15
    logs = Path(args.logs)
    logs.mkdir(parents=True, exist_ok=True)
    procs = Procs()
    results: dict = {"cpus": os.cpu_count(), "load_average_before": os.getloadavg()[0],
                     "gunicorn": f"-w {args.web_workers} --threads {args.threads}"}
    try:
        sport, wport = free_port(), free_port()
        procs.start([PY, "-m", "bench.standin_server", "--port", str(sport)], bench_env(), logs / "standin.log")
        wait_port(sport)
        env = bench_env(DATABASE_URL=DB_URL, REDIS_URL=REDIS_URL,
                        WECOM_API_BASE=f"http://127.0.0.1:{sport}/cgi-bin/")
        reset_stores()

        # 1. the baseline, same gunicorn settings
        web = gunicorn(procs, "bench.baseline_app:app", wport, env, logs, args.web_workers, args.threads)
        load(wport, mode="closed", duration=2, concurrency=args.concurrency)  # warm-up
        results["baseline_closed"] = load(wport, mode="closed", duration=span,
                                          concurrency=args.concurrency)["summary"]
        results["baseline_open"] = load(wport, mode="open", rate=args.ack_rate, duration=span,
                                        concurrency=32)["summary"]
        results["baseline_memory"] = web_memory(web)
        procs.stop(web)

        # 2. Qingche's acknowledgement alone (no worker running)
        wport = free_port()
        web = gunicorn(procs, "bot.wsgi:app", wport, env, logs, args.web_workers, args.threads)
        load(wport, mode="closed", duration=2, concurrency=args.concurrency)  # warm-up
        results["ack_closed"] = load(wport, mode="closed", duration=span, concurrency=args.concurrency)["summary"]
        results["ack_open"] = load(wport, mode="open", rate=args.ack_rate, duration=span, concurrency=32)["summary"]
        results["ratio_closed"] = round(results["ack_closed"]["throughput"]
                                        / results["baseline_closed"]["throughput"], 3)
        if args.ack_only:
            results["web_memory"] = web_memory(web)
            return
        settle_backlog()

        # 2b. the floor: the baseline plus only the durable work, with the bare drivers
        if not args.no_floor:
            for step in ("rpush", "insert", "both"):
                fport = free_port()
                floor = gunicorn(procs, "bench.floor_app:app", fport, {**env, "FLOOR_STEP": step}, logs,
                                 args.web_workers, args.threads)
                load(fport, mode="closed", duration=2, concurrency=args.concurrency)  # warm-up
                summary = load(fport, mode="closed", duration=span, concurrency=args.concurrency)["summary"]
                summary["ratio"] = round(summary["throughput"] / results["baseline_closed"]["throughput"], 3)
                results[f"floor_{step}_closed"] = summary
                procs.stop(floor)
            settle_backlog()

        # 3. worker capacity: a backlog recorded first, then drained by the workers
        backlog = load(wport, mode="closed", kind="cert", duration=30, count=args.backlog,
                       concurrency=args.concurrency)
        started = time.time()
        worker = procs.start([PY, "worker.py", str(args.workers)], env, logs / "worker.log")
        answer_latency(backlog["records"], sport, 300)
        arrivals = stand_in_stats(sport)["arrivals"]
        times = [min(arrivals[r["user"]]) for r in backlog["records"] if r["user"] in arrivals]
        span_s = max(times) - min(times)
        results["worker_capacity"] = {"messages": len(times), "seconds": round(span_s, 1),
                                      "per_second": round(len(times) / span_s, 1) if span_s > 0 else None,
                                      "first_answer_after_start_s": round(min(times) - started, 1)}

        # 4. answers at a fixed rate, with the workers running
        warm = load(wport, mode="open", kind="cert", rate=10, duration=2, concurrency=8)
        answer_latency(warm["records"], sport, 30)
        for kind in ("cert", "complaint"):
            run = load(wport, mode="open", kind=kind, rate=args.answer_rate, duration=span, concurrency=32)
            results[f"answer_{kind}_ack"] = run["summary"]
            results[f"answer_{kind}"] = answer_latency(run["records"], sport, 120)
        results["ack_open_with_workers"] = load(wport, mode="open", rate=args.ack_rate, duration=span,
                                                concurrency=32)["summary"]
        results["web_memory"] = web_memory(web)
        results["worker_memory"] = worker_memory(worker)
    finally:
        procs.stop_all()
        print(json.dumps(results, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
