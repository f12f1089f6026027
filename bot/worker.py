"""The worker: rq workers with rq's scheduler on ``REDIS_URL``, plus the sweeper."""
from __future__ import annotations

import logging
import multiprocessing
import os
import threading
import time

import redis

from bot import runtime
from bot.config import Config

log = logging.getLogger(__name__)

SWEEP_INTERVAL = float(os.environ.get("QINGCHE_SWEEP_SECONDS", "10"))
RECONNECT_SECONDS = 2


def sweeper_loop(interval: float = SWEEP_INTERVAL, stop: threading.Event | None = None) -> None:
    """Run ``sweep`` every ``interval`` seconds; one process at a time across the fleet."""
    from bot.jobs import sweep

    stop = stop or threading.Event()
    rt = runtime.get()
    while not stop.is_set():
        try:
            with rt.lock("sweeper", timeout=max(interval * 3, 30), wait=0.1) as got:
                if got:
                    sweep()
        except Exception as exc:  # Redis or the database down: try again next round
            log.warning("sweep skipped: %s", type(exc).__name__)
        stop.wait(interval)


def start_sweeper(interval: float = SWEEP_INTERVAL) -> threading.Event:
    """Start the sweeper in a daemon thread; set the returned event to stop it."""
    stop = threading.Event()
    threading.Thread(target=sweeper_loop, args=(interval, stop), name="qingche-sweeper", daemon=True).start()
    return stop


def run_one(burst: bool = False, with_sweeper: bool = True) -> None:
    """One rq worker in this process (jobs run in-process: no fork per job)."""
    from rq import SimpleWorker

    from bot.logs import setup_logging
    from bot.queue import QUEUE_NAME

    config = Config.from_env()
    setup_logging(config.LOG_LEVEL)
    if config.embedded:
        raise SystemExit("REDIS_URL is not set: the worker needs Redis (the demo runs jobs in-process)")
    rt = runtime.init(config)
    stop = start_sweeper() if with_sweeper and not burst else None
    try:
        while True:
            worker = SimpleWorker([QUEUE_NAME], connection=rt.redis)
            try:
                worker.work(burst=burst, with_scheduler=True, logging_level=config.LOG_LEVEL)
                return
            except (redis.ConnectionError, redis.TimeoutError) as exc:
                if burst:
                    raise
                # Redis went away: wait and start a fresh worker; the sweeper recovers anything missed
                log.warning("worker lost Redis (%s); reconnecting in %ss", type(exc).__name__, RECONNECT_SECONDS)
                time.sleep(RECONNECT_SECONDS)
    finally:
        if stop:
            stop.set()


def main(workers: int = 1, burst: bool = False) -> None:
    """Run ``workers`` worker processes (each with its scheduler and sweeper); restart any that die."""
    if workers <= 1:
        run_one(burst=burst)
        return

    def spawn() -> multiprocessing.Process:
        proc = multiprocessing.Process(target=run_one, kwargs={"burst": burst}, daemon=False)
        proc.start()
        return proc

    procs = [spawn() for _ in range(workers)]
    try:
        while any(p.is_alive() for p in procs):
            for i, proc in enumerate(procs):
                if not proc.is_alive() and proc.exitcode not in (0, None) and not burst:
                    log.warning("worker process %s exited with %s; starting another", proc.pid, proc.exitcode)
                    procs[i] = spawn()
            time.sleep(1)
    except KeyboardInterrupt:
        for p in procs:
            p.terminate()
