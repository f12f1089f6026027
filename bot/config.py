"""One ``Config`` read from the environment. The names are a contract (see README)."""
from __future__ import annotations

import base64
import binascii
import os
import re
from dataclasses import dataclass, field, fields

from bot.errors import ConfigError

DEFAULT_API_BASE = "https://qyapi.weixin.qq.com/cgi-bin/"
DEFAULT_DATABASE_URL = "sqlite:///qingche.sqlite3"
DEFAULT_OAUTH_BASE = "https://open.weixin.qq.com/"
DEFAULT_SSO_BASE = "https://login.work.weixin.qq.com/"

# Sample credentials for the embedded demo only: they let the local WeCom stand-in and the
# bot talk to each other. They are not secrets and open nothing.
DEMO_SETTINGS = {
    "WECOM_CORP_ID": "ww0000000000demo",
    "WECOM_AGENT_ID": "1000002",
    "WECOM_SECRET": "demo-secret",
    "WECOM_TOKEN": "QingcheDemo",
    "WECOM_AES_KEY": "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
    "WECOM_KF_SECRET": "demo-kf-secret",
}


@dataclass
class Config:
    """Every setting Qingche reads. ``Config.from_env()`` validates them."""

    WECOM_CORP_ID: str = ""
    WECOM_AGENT_ID: str = ""
    WECOM_SECRET: str = ""
    WECOM_TOKEN: str = ""
    WECOM_AES_KEY: str = ""
    WECOM_KF_SECRET: str = ""
    WECOM_API_BASE: str = DEFAULT_API_BASE
    DATABASE_URL: str = DEFAULT_DATABASE_URL
    REDIS_URL: str = ""
    QINGCHE_SLA_FILE: str = ""
    QINGCHE_DIGEST_TIME: str = "08:00"
    QINGCHE_INBOUND_DAYS: int = 90
    QINGCHE_APPLICATION_DAYS: int = 180
    MAX_CALLBACK_BYTES: int = 64 * 1024
    LOG_LEVEL: str = "INFO"
    # The workbench (web pages for staff, bot/workbench/)
    QINGCHE_SECRET_KEY: str = ""          # signs session cookies; required when talking to the real WeCom
    QINGCHE_SESSION_HOURS: int = 8
    QINGCHE_PUBLIC_URL: str = ""          # https://host the WeCom console trusts; unset: the request's host
    WECOM_OAUTH_BASE: str = DEFAULT_OAUTH_BASE   # oauth2/authorize inside WeCom
    WECOM_SSO_BASE: str = DEFAULT_SSO_BASE       # QR login on a desktop browser
    QINGCHE_MEDIA_DIR: str = "media"      # durable copies of ticket photos (local filesystem)
    QINGCHE_MEDIA_S3_URL: str = ""        # https://key:secret@host/bucket for S3-compatible storage instead
    QINGCHE_TILE_URL: str = ""            # a map tile server, e.g. http://tiles.local/{z}/{x}/{y}.png
    extra: dict = field(default_factory=dict)

    @property
    def embedded(self) -> bool:
        """No Redis: jobs run in-process through the same code path."""
        return not self.REDIS_URL

    @property
    def real_wecom(self) -> bool:
        """Talking to WeCom itself (not a local stand-in)."""
        return self.WECOM_API_BASE == DEFAULT_API_BASE

    def secret_key(self) -> str:
        """The key that signs workbench sessions: required against the real WeCom; with a local
        stand-in (the demo, tests) a fresh random key per process is used when none is set."""
        if self.QINGCHE_SECRET_KEY:
            return self.QINGCHE_SECRET_KEY
        if self.real_wecom:
            raise ConfigError("QINGCHE_SECRET_KEY is not set (it signs the workbench's session cookies)")
        import secrets

        self.QINGCHE_SECRET_KEY = secrets.token_hex(32)
        return self.QINGCHE_SECRET_KEY

    @classmethod
    def from_env(cls, env: dict | None = None, require_wecom: bool = True, **overrides) -> Config:
        """Read and validate the settings; raise ``ConfigError`` naming the first bad one."""
        env = dict(os.environ if env is None else env)
        env.update({k: str(v) for k, v in overrides.items() if v is not None})
        values = {}
        for f in fields(cls):
            if f.name == "extra":
                continue
            if f.name in env and env[f.name] != "":
                raw = env[f.name]
                if f.type in ("int", int):
                    try:
                        values[f.name] = int(raw)
                    except ValueError:
                        raise ConfigError(f"{f.name} must be a whole number, got {raw!r}") from None
                else:
                    values[f.name] = raw.strip()
        config = cls(**values)
        config.validate(require_wecom=require_wecom)
        return config

    def validate(self, require_wecom: bool = True) -> None:
        """Check each setting; raise ``ConfigError`` naming the first bad one."""
        if require_wecom:
            for name in ("WECOM_CORP_ID", "WECOM_TOKEN", "WECOM_AES_KEY", "WECOM_AGENT_ID", "WECOM_SECRET"):
                if not getattr(self, name):
                    raise ConfigError(f"{name} is not set")
        if self.WECOM_AES_KEY:
            check_aes_key(self.WECOM_AES_KEY)
        if self.WECOM_TOKEN and not re.fullmatch(r"[A-Za-z0-9]{1,32}", self.WECOM_TOKEN):
            raise ConfigError("WECOM_TOKEN must be 1 to 32 letters or digits, as set in the WeCom console")
        if self.WECOM_AGENT_ID and not self.WECOM_AGENT_ID.isdigit():
            raise ConfigError(f"WECOM_AGENT_ID must be the app's numeric AgentId, got {self.WECOM_AGENT_ID!r}")
        if not re.match(r"^https?://", self.WECOM_API_BASE):
            raise ConfigError(f"WECOM_API_BASE must be an http(s) URL, got {self.WECOM_API_BASE!r}")
        if not self.WECOM_API_BASE.endswith("/"):
            self.WECOM_API_BASE += "/"
        if not re.match(r"^(sqlite|postgresql)(\+\w+)?://", self.DATABASE_URL):
            raise ConfigError("DATABASE_URL must be a sqlite:/// or postgresql+psycopg:// URL")
        if self.REDIS_URL and not re.match(r"^rediss?://", self.REDIS_URL):
            raise ConfigError(f"REDIS_URL must start with redis:// or rediss://, got {self.REDIS_URL!r}")
        if self.QINGCHE_DIGEST_TIME != "off" and not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d",
                                                                  self.QINGCHE_DIGEST_TIME):
            raise ConfigError("QINGCHE_DIGEST_TIME must be HH:MM (China time), e.g. 08:00, or off")
        if self.QINGCHE_SECRET_KEY and len(self.QINGCHE_SECRET_KEY) < 32:
            raise ConfigError("QINGCHE_SECRET_KEY must be at least 32 characters (e.g. `openssl rand -hex 32`)")
        if self.QINGCHE_SESSION_HOURS < 1:
            raise ConfigError(f"QINGCHE_SESSION_HOURS must be at least 1, got {self.QINGCHE_SESSION_HOURS}")
        for name in ("WECOM_OAUTH_BASE", "WECOM_SSO_BASE"):
            value = getattr(self, name)
            if not re.match(r"^https?://", value):
                raise ConfigError(f"{name} must be an http(s) URL, got {value!r}")
            if not value.endswith("/"):
                setattr(self, name, value + "/")
        if self.QINGCHE_PUBLIC_URL and not re.match(r"^https?://[^/]+", self.QINGCHE_PUBLIC_URL):
            raise ConfigError(f"QINGCHE_PUBLIC_URL must be http(s)://host, got {self.QINGCHE_PUBLIC_URL!r}")
        self.QINGCHE_PUBLIC_URL = self.QINGCHE_PUBLIC_URL.rstrip("/")
        if self.QINGCHE_MEDIA_S3_URL and not re.match(r"^https?://[^/]+/[^/]+", self.QINGCHE_MEDIA_S3_URL):
            raise ConfigError("QINGCHE_MEDIA_S3_URL must be http(s)://key:secret@host/bucket")
        if self.QINGCHE_TILE_URL and not all(f in self.QINGCHE_TILE_URL for f in ("{z}", "{x}", "{y}")):
            raise ConfigError("QINGCHE_TILE_URL must contain {z}, {x} and {y}")
        if self.QINGCHE_INBOUND_DAYS < 7:
            raise ConfigError("QINGCHE_INBOUND_DAYS must be at least 7 (WeCom and 微信客服 repeat messages "
                              f"for days), got {self.QINGCHE_INBOUND_DAYS}")
        if self.QINGCHE_APPLICATION_DAYS < 1:
            raise ConfigError("QINGCHE_APPLICATION_DAYS must be at least 1 (days a closed application keeps its "
                              f"ID-card number, answers and photos), got {self.QINGCHE_APPLICATION_DAYS}")


def check_aes_key(key: str) -> bytes:
    """Decode an EncodingAESKey (43 characters of base64) or raise ``ConfigError``."""
    if len(key) != 43:
        raise ConfigError(f"WECOM_AES_KEY must be 43 characters (the EncodingAESKey), got {len(key)}")
    try:
        raw = base64.b64decode(key + "=", validate=True)
    except (binascii.Error, ValueError):
        raise ConfigError("WECOM_AES_KEY is not valid base64 (the EncodingAESKey)") from None
    if len(raw) != 32:
        raise ConfigError("WECOM_AES_KEY does not decode to a 32-byte key")
    return raw
