"""/healthz: 200 when the database (and Redis, outside embedded mode) answer; 503 otherwise."""
from flask import Blueprint, Response, current_app

from bot import runtime
from bot.db import ping

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """Say only ok or unavailable."""
    ok = ping(current_app.config["QINGCHE"].DATABASE_URL)
    rt = runtime.get()
    if ok and rt.redis is not None:
        try:
            ok = bool(rt.redis.ping())
        except Exception:
            ok = False
    return Response("ok" if ok else "unavailable", status=200 if ok else 503, mimetype="text/plain")
