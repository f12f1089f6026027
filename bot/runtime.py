"""The per-process runtime: config, Redis (or none), the job queue, the WeCom client, locks.

Built once per process from ``Config``; web views and jobs both call ``get()``.
"""
from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from bot.config import Config

_runtime: Runtime | None = None
_guard = threading.Lock()


class Runtime:
    """Shared handles for one process."""

    def __init__(self, config: Config):
        self.config = config
        self.redis = None
        if config.REDIS_URL:
            import redis

            self.redis = redis.Redis.from_url(config.REDIS_URL, socket_timeout=5, socket_connect_timeout=2)
        self._local_locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()
        self._queue = None
        self._client = None
        self._kf_client = None

    @property
    def queue(self):
        """The job queue: rq on Redis, or the in-process queue in embedded mode."""
        if self._queue is None:
            from bot.queue import make_queue

            self._queue = make_queue(self)
        return self._queue

    @property
    def wecom(self):
        """The one WeCom API client for the app's secret."""
        if self._client is None:
            from bot.wecom.client import WeComClient

            self._client = WeComClient(self.config.WECOM_API_BASE, self.config.WECOM_CORP_ID,
                                       self.config.WECOM_SECRET, redis=self.redis, name="app")
        return self._client

    @property
    def wecom_kf(self):
        """The WeCom API client for the 微信客服 secret (its own access token)."""
        if self._kf_client is None:
            from bot.wecom.client import WeComClient

            self._kf_client = WeComClient(self.config.WECOM_API_BASE, self.config.WECOM_CORP_ID,
                                          self.config.WECOM_KF_SECRET or self.config.WECOM_SECRET,
                                          redis=self.redis, name="kf")
        return self._kf_client

    @contextmanager
    def lock(self, name: str, timeout: float = 60, wait: float = 30) -> Iterator[bool]:
        """A named lock across processes (Redis) or threads (embedded); yields whether it was taken."""
        if self.redis is not None:
            lock = self.redis.lock(f"qingche:lock:{name}", timeout=timeout, blocking_timeout=wait)
            got = lock.acquire()
            try:
                yield got
            finally:
                if got:
                    try:
                        lock.release()
                    except Exception:  # expired meanwhile; nothing to release
                        pass
        else:
            with self._locks_guard:
                lock = self._local_locks.setdefault(name, threading.Lock())
            got = lock.acquire(timeout=wait)
            try:
                yield got
            finally:
                if got:
                    lock.release()


def init(config: Config) -> Runtime:
    """Set this process's runtime (the app factory and the worker call this)."""
    global _runtime
    with _guard:
        if _runtime is not None and _runtime._queue is not None:
            _runtime._queue.close()
        _runtime = Runtime(config)
    return _runtime


def get() -> Runtime:
    """This process's runtime, built from the environment if nobody set it."""
    global _runtime
    if _runtime is None:
        with _guard:
            if _runtime is None:
                _runtime = Runtime(Config.from_env())
    return _runtime


def reset() -> None:
    """Forget the runtime (tests)."""
    global _runtime
    with _guard:
        if _runtime is not None and _runtime._queue is not None:
            _runtime._queue.close()
        _runtime = None
