"""The embedded demo: SQLite, no Redis, jobs in-process, a local WeCom stand-in and the /sim page."""
from __future__ import annotations

import os

from flask import Flask

from bot.config import DEFAULT_DATABASE_URL, DEMO_SETTINGS, Config
from bot.standin import API_PREFIX, OAUTH_PREFIX


def demo_config(port: int, database_url: str | None = None) -> Config:
    """Settings for the demo: sample credentials unless real ones are set; never Redis."""
    overrides = {k: v for k, v in DEMO_SETTINGS.items() if not os.environ.get(k)}
    overrides["WECOM_API_BASE"] = f"http://127.0.0.1:{port}{API_PREFIX}/"
    overrides["WECOM_OAUTH_BASE"] = overrides["WECOM_SSO_BASE"] = f"http://127.0.0.1:{port}{OAUTH_PREFIX}/"
    # the same default as every other command, so `qingche report` reads what the demo wrote
    overrides["DATABASE_URL"] = database_url or os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    config = Config.from_env(**overrides)
    config.REDIS_URL = ""
    return config


def build(port: int, database_url: str | None = None, sweep_interval: float = 5) -> Flask:
    """Migrate the database, load the sample roster, start the sweeper; return the app."""
    from bot import create_app
    from bot.db import session_scope
    from bot.migrate import upgrade
    from bot.roster import load_sample
    from bot.worker import start_sweeper

    config = demo_config(port, database_url)
    upgrade(config.DATABASE_URL)
    with session_scope(config.DATABASE_URL) as s:
        load_sample(s)
    app = create_app(config, standin=True)
    if sweep_interval:
        start_sweeper(interval=sweep_interval)
    return app
