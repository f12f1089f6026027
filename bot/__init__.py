"""Qingche (轻车): a WeCom chat bot for Kaiping's village and community services."""
from __future__ import annotations

import logging

from flask import Flask

from bot.config import Config


def create_app(config: Config | None = None, *, standin: bool = False) -> Flask:
    """The Flask app: the WeCom callback and /healthz (and the demo stand-in when asked)."""
    from bot import runtime
    from bot.health import bp as health_bp
    from bot.logs import setup_logging
    from bot.webhook import bp as webhook_bp

    config = config or Config.from_env()
    setup_logging(config.LOG_LEVEL)
    import handlers  # noqa: F401  (builds the registry and validates the knowledge files at start)
    runtime.init(config)
    _check_knowledge()
    app = Flask(__name__)
    app.config["QINGCHE"] = config
    app.config["MAX_CONTENT_LENGTH"] = config.MAX_CALLBACK_BYTES
    app.register_blueprint(webhook_bp)
    app.register_blueprint(health_bp)
    from bot.workbench import register_workbench

    register_workbench(app)   # the cadre's web pages at /workbench
    if standin:
        from bot.standin import register_standin

        register_standin(app)
    logging.getLogger(__name__).debug("app created (embedded=%s)", config.embedded)
    return app


def _check_knowledge() -> None:
    """Stop the start if the deadlines file (or the complaint categories it names) is broken."""
    from bot import sla
    from bot.errors import ConfigError

    try:
        sla.load()
    except (sla.SlaFileError, OSError, ValueError) as exc:
        raise ConfigError(f"deadlines file ({sla.sla_path()}): {exc}") from None
