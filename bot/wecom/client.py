"""The one WeCom API client. Every outbound call goes through here.

Why not wechatpy's client: in 2.0.0a26 ``fetch_access_token`` and media download ignore
``API_BASE_URL``, and a token error makes it retry without limit. This client honours
``WECOM_API_BASE`` for everything, shares the access token across processes through Redis
(one refresh at a time), refreshes once on 40014/42001, and retries -1 / 45009 / HTTP 5xx
with backoff a few times before handing the error back to the caller (the outbox retries later).
"""
from __future__ import annotations

import hashlib
import json
import logging
import threading
import time

import requests

from bot.errors import TOKEN_ERRCODES, WeComError

log = logging.getLogger(__name__)

RETRY_ERRCODES = frozenset({-1, -2, 45009, 45033})
BACKOFF = (0.2, 0.6, 1.5)


class WeComClient:
    """Calls ``{api_base}{path}?access_token=...`` with JSON, with token and retry handling."""

    def __init__(self, api_base: str, corp_id: str, secret: str, redis=None, name: str = "app",
                 timeout: float = 5.0, backoff: tuple[float, ...] = BACKOFF):
        self.api_base = api_base if api_base.endswith("/") else api_base + "/"
        self.corp_id = corp_id
        self.secret = secret
        self.redis = redis
        self.timeout = timeout
        self.backoff = backoff
        digest = hashlib.sha256(f"{corp_id}:{secret}".encode()).hexdigest()[:16]
        self._key = f"qingche:token:{name}:{digest}"
        self._local: tuple[str, float] | None = None
        self._local_lock = threading.Lock()
        self._http = requests.Session()

    # --- access token -------------------------------------------------------------------------
    def token(self) -> str:
        """A valid access token, fetched at most once at a time across processes."""
        cached = self._cached()
        if cached:
            return cached
        if self.redis is not None:
            lock = self.redis.lock(self._key + ":refresh", timeout=15, blocking_timeout=15)
            got = lock.acquire()
            try:
                return self._cached() or self._fetch()
            finally:
                if got:
                    try:
                        lock.release()
                    except Exception:  # the lock expired during a slow fetch; nothing to release
                        pass
        with self._local_lock:
            return self._cached() or self._fetch()

    def _cached(self) -> str | None:
        if self.redis is not None:
            value = self.redis.get(self._key)
            return value.decode() if value else None
        if self._local and self._local[1] > time.time():
            return self._local[0]
        return None

    def _fetch(self) -> str:
        data = self._get_json("gettoken", {"corpid": self.corp_id, "corpsecret": self.secret})
        if data.get("errcode", 0) != 0 or "access_token" not in data:
            raise WeComError(int(data.get("errcode", -2)), str(data.get("errmsg", "no access_token")))
        token = data["access_token"]
        ttl = max(int(data.get("expires_in", 7200)) - 300, 60)
        if self.redis is not None:
            self.redis.set(self._key, token, ex=ttl)
        else:
            self._local = (token, time.time() + ttl)
        log.info("wecom %s: access token refreshed", self._key.split(":")[2])
        return token

    def invalidate(self, token: str) -> None:
        """Forget ``token`` if it is still the cached one."""
        if self.redis is not None:
            if self._cached() == token:
                self.redis.delete(self._key)
        elif self._local and self._local[0] == token:
            self._local = None

    # --- calls -------------------------------------------------------------------------------
    def _get_json(self, path: str, params: dict) -> dict:
        try:
            resp = self._http.get(self.api_base + path, params=params, timeout=self.timeout)
        except requests.RequestException as exc:
            raise WeComError(-2, f"network: {type(exc).__name__}") from None
        if resp.status_code >= 500:
            raise WeComError(-2, f"HTTP {resp.status_code}")
        try:
            return resp.json()
        except ValueError:
            raise WeComError(-2, f"HTTP {resp.status_code}: not JSON") from None

    def _once(self, method: str, path: str, payload: dict | None, params: dict | None, token: str,
              files: dict | None = None):
        query = {"access_token": token, **(params or {})}
        try:
            resp = self._http.request(
                method, self.api_base + path, params=query, timeout=self.timeout, files=files,
                data=None if payload is None else json.dumps(payload, ensure_ascii=False).encode("utf-8"),
                headers={"Content-Type": "application/json; charset=utf-8"} if payload is not None else None,
            )
        except requests.RequestException as exc:
            raise WeComError(-2, f"network: {type(exc).__name__}") from None
        if resp.status_code >= 500:
            raise WeComError(-2, f"HTTP {resp.status_code}")
        return resp

    def call(self, path: str, payload: dict | None = None, params: dict | None = None,
             method: str | None = None) -> dict:
        """Call an API path (``message/send``); return its JSON or raise ``WeComError``."""
        resp = self.raw(path, payload, params, method)
        try:
            data = resp.json()
        except ValueError:
            raise WeComError(-2, f"HTTP {resp.status_code}: not JSON") from None
        return data

    def upload_media(self, media_type: str, filename: str, content: bytes, content_type: str) -> str:
        """Upload a temporary medium (``media/upload``, multipart field ``media``); return its media_id
        (valid 3 days)."""
        resp = self.raw("media/upload", params={"type": media_type}, method="POST",
                        files={"media": (filename, content, content_type)})
        data = _json_or_none(resp) or {}
        if not data.get("media_id"):
            raise WeComError(-2, "media/upload: no media_id")
        return str(data["media_id"])

    def raw(self, path: str, payload: dict | None = None, params: dict | None = None,
            method: str | None = None, files: dict | None = None) -> requests.Response:
        """Like ``call`` but returns the response (for media download); JSON errors still raise."""
        method = method or ("POST" if payload is not None or files is not None else "GET")
        refreshed = False
        attempt = 0
        while True:
            token = self.token()
            try:
                resp = self._once(method, path, payload, params, token, files)
                data = _json_or_none(resp)
                errcode = int(data.get("errcode", 0)) if data else 0
                if errcode:
                    raise WeComError(errcode, str(data.get("errmsg", "")))
                return resp
            except WeComError as exc:
                if exc.errcode in TOKEN_ERRCODES and not refreshed:
                    refreshed = True
                    self.invalidate(token)
                    continue
                if exc.errcode in RETRY_ERRCODES and attempt < len(self.backoff):
                    time.sleep(self.backoff[attempt])
                    attempt += 1
                    continue
                raise


def _json_or_none(resp: requests.Response) -> dict | None:
    ctype = resp.headers.get("Content-Type", "")
    if "json" not in ctype and "text/plain" not in ctype:
        return None
    try:
        data = resp.json()
    except ValueError:
        return None
    return data if isinstance(data, dict) else None
