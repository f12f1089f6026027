"""The job queue: rq on Redis in production; an in-process worker thread in embedded mode.

Both run the same job functions from ``bot.jobs``; only the transport differs.
"""
from __future__ import annotations

import heapq
import importlib
import logging
import threading
import time
from datetime import timedelta

log = logging.getLogger(__name__)

QUEUE_NAME = "qingche"
# Jobs that finish work already done (the answer is written; only sending is left) go to the
# front of the queue, so under a backlog a reply does not wait behind every message received
# after it. Order per recipient is kept by ``deliver_to`` itself (rows by id, under a lock).
FRONT_OF_QUEUE = frozenset({"bot.delivery.deliver_to"})


def resolve(path: str):
    """The function named by a dotted path such as ``bot.jobs.deliver_to``."""
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)


class RQQueue:
    """Jobs on Redis through rq; a worker process runs them."""

    def __init__(self, redis):
        from rq import Queue, Retry

        self.q = Queue(QUEUE_NAME, connection=redis)
        self.redis = redis
        self.options = {"retry": Retry(max=3, interval=[2, 10, 30]), "result_ttl": 0,
                            "failure_ttl": 7 * 24 * 3600, "job_timeout": 120}

    def enqueue(self, func: str, *args, job_id: str | None = None, delay: float = 0) -> None:
        """Enqueue ``func(*args)``; may raise if Redis is down (the sweeper covers that)."""
        if delay > 0:
            self.q.enqueue_in(timedelta(seconds=delay), func, *args, job_id=job_id, **self.options)
            return
        # One MULTI/EXEC round trip instead of rq's two (queue registration, then the job).
        with self.redis.pipeline() as pipe:
            self.q.enqueue(func, *args, job_id=job_id, pipeline=pipe, at_front=func in FRONT_OF_QUEUE,
                           **self.options)
            pipe.execute()

    def enqueue_many(self, func: str, calls: list[tuple]) -> None:
        """Enqueue ``func(*args)`` for each args in ``calls``, in one MULTI/EXEC round trip."""
        with self.redis.pipeline() as pipe:
            for args in calls:
                self.q.enqueue(func, *args, pipeline=pipe, at_front=func in FRONT_OF_QUEUE, **self.options)
            pipe.execute()

    def close(self) -> None:
        pass


class InlineQueue:
    """Embedded mode: one background thread runs jobs in order, delayed ones when due."""

    def __init__(self):
        self._heap: list[tuple[float, int, str, tuple]] = []
        self._seq = 0
        self._cv = threading.Condition()
        self._stopped = False
        self._busy = 0
        self._thread = threading.Thread(target=self._run, name="qingche-jobs", daemon=True)
        self._thread.start()

    def enqueue(self, func: str, *args, job_id: str | None = None, delay: float = 0) -> None:
        """Run ``func(*args)`` on the job thread, after ``delay`` seconds."""
        with self._cv:
            self._seq += 1
            heapq.heappush(self._heap, (time.monotonic() + max(delay, 0), self._seq, func, args))
            self._cv.notify()

    def enqueue_many(self, func: str, calls: list[tuple]) -> None:
        """Run ``func(*args)`` for each args in ``calls``, in order."""
        for args in calls:
            self.enqueue(func, *args)

    def _run(self) -> None:
        while True:
            with self._cv:
                while not self._stopped and (not self._heap or self._heap[0][0] > time.monotonic()):
                    timeout = self._heap[0][0] - time.monotonic() if self._heap else None
                    self._cv.wait(timeout)
                if self._stopped:
                    return
                _, _, func, args = heapq.heappop(self._heap)
                self._busy += 1
            try:
                resolve(func)(*args)
            except Exception:
                log.exception("job %s failed", func)
            finally:
                with self._cv:
                    self._busy -= 1
                    self._cv.notify_all()

    def drain(self, timeout: float = 10) -> bool:
        """Wait until no job is due or running (tests and the demo's self-check)."""
        deadline = time.monotonic() + timeout
        with self._cv:
            while self._busy or (self._heap and self._heap[0][0] <= time.monotonic()):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cv.wait(min(left, 0.05))
        return True

    def close(self) -> None:
        with self._cv:
            self._stopped = True
            self._cv.notify_all()


def make_queue(runtime):
    """The queue for this runtime's mode."""
    return RQQueue(runtime.redis) if runtime.redis is not None else InlineQueue()
