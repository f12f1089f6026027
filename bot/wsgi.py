"""The WSGI entry point for gunicorn (Procfile ``web``): stops with a clear message on bad settings."""
import sys

from bot import create_app
from bot.errors import ConfigError

try:
    app = create_app()
except ConfigError as exc:
    sys.stderr.write(f"Qingche cannot start: configuration error: {exc}\n")
    raise SystemExit(2) from None
