"""The WeCom API stand-in as its own process, with a stats endpoint for the benchmark.

    python -m bench.standin_server --port 8801

Serves ``bot.standin.api`` under /cgi-bin/ on a threaded server; ``GET /_bench/stats`` returns
counts and, per recipient, the times their messages arrived.
"""
from __future__ import annotations

import argparse
import logging

from flask import Flask, jsonify, request
from werkzeug.serving import make_server

from bench.common import CORP_ID, KF_SECRET, SECRET
from bot.standin.api import StandInState, make_blueprint


def make_app(state: StandInState) -> Flask:
    """The stand-in's routes plus /_bench/stats, /_bench/reset and /_bench/fail."""
    app = Flask("bench-standin")
    app.register_blueprint(make_blueprint(state), url_prefix="/cgi-bin")

    @app.get("/_bench/stats")
    def stats():
        """Counts, and for each recipient the arrival times of what they were sent."""
        with state.lock:
            arrivals: dict[str, list[float]] = {}
            for p in state.sent:
                arrivals.setdefault(str(p.get("touser")), []).append(p.get("_at", 0.0))
            return jsonify({"sent": len(state.sent), "duplicates": len(state.duplicates),
                            "calls": len(state.calls), "token_requests": state.token_requests,
                            "arrivals": arrivals})

    @app.post("/_bench/reset")
    def reset():
        state.reset()
        return jsonify({"ok": True})

    @app.post("/_bench/fail")
    def fail():
        data = request.get_json(force=True)
        state.fail(data["path"], *data["codes"])
        return jsonify({"ok": True})

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    state = StandInState(CORP_ID, {SECRET: "app", KF_SECRET: "kf"})
    server = make_server("127.0.0.1", args.port, make_app(state), threaded=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
