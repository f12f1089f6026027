"""Settings: a missing or malformed one stops the start with a message naming it."""
import subprocess
import sys

import pytest

from bot.config import Config
from bot.errors import ConfigError

GOOD = {"WECOM_CORP_ID": "ww1", "WECOM_AGENT_ID": "1000002", "WECOM_SECRET": "s", "WECOM_TOKEN": "Tok3n",
        "WECOM_AES_KEY": "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"}


def test_good_settings_and_defaults():
    config = Config.from_env(env=GOOD)
    assert config.WECOM_API_BASE == "https://qyapi.weixin.qq.com/cgi-bin/"
    assert config.DATABASE_URL.startswith("sqlite:///")
    assert config.embedded is True
    assert Config.from_env(env={**GOOD, "REDIS_URL": "redis://127.0.0.1:6379/0"}).embedded is False


@pytest.mark.parametrize("name, value, fragment", [
    ("WECOM_AES_KEY", "tooshort", "43 characters"),
    ("WECOM_AES_KEY", "*" * 43, "not valid base64"),
    ("WECOM_TOKEN", "has space", "WECOM_TOKEN"),
    ("WECOM_AGENT_ID", "abc", "WECOM_AGENT_ID"),
    ("WECOM_API_BASE", "ftp://x", "WECOM_API_BASE"),
    ("DATABASE_URL", "mysql://x", "DATABASE_URL"),
    ("REDIS_URL", "localhost:6379", "REDIS_URL"),
    ("QINGCHE_DIGEST_TIME", "8点", "QINGCHE_DIGEST_TIME"),
    ("QINGCHE_INBOUND_DAYS", "3", "QINGCHE_INBOUND_DAYS"),
    ("QINGCHE_INBOUND_DAYS", "三个月", "QINGCHE_INBOUND_DAYS"),
])
def test_malformed_setting_is_named(name, value, fragment):
    with pytest.raises(ConfigError) as exc:
        Config.from_env(env={**GOOD, name: value})
    assert fragment in str(exc.value)


@pytest.mark.parametrize("name", ["WECOM_CORP_ID", "WECOM_TOKEN", "WECOM_AES_KEY", "WECOM_AGENT_ID", "WECOM_SECRET"])
def test_missing_setting_is_named(name):
    env = {k: v for k, v in GOOD.items() if k != name}
    with pytest.raises(ConfigError, match=name):
        Config.from_env(env=env)


def test_web_entry_point_stops_with_a_message(tmp_path):
    env = {**GOOD, "WECOM_AES_KEY": "short", "PATH": "/usr/bin:/bin", "DATABASE_URL": f"sqlite:///{tmp_path}/x.db"}
    proc = subprocess.run([sys.executable, "-c", "import bot.wsgi"], env=env, capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 2
    assert "WECOM_AES_KEY must be 43 characters" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_cli_worker_stops_with_a_message(tmp_path):
    env = {k: v for k, v in GOOD.items() if k != "WECOM_SECRET"}
    env.update({"PATH": "/usr/bin:/bin", "REDIS_URL": "redis://127.0.0.1:6379/0"})
    proc = subprocess.run([sys.executable, "-m", "bot.cli", "worker"], env=env, capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 2
    assert "WECOM_SECRET is not set" in proc.stderr
