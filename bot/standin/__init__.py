"""The local WeCom stand-in: the API host (for sends) and the /sim chat page (for callbacks)."""
from __future__ import annotations

import threading

from flask import Flask
from werkzeug.serving import make_server

from bot.standin.api import StandInState, make_blueprint
from bot.standin.kf import install_kf_routes
from bot.standin.oauth import install_oauth, make_oauth_blueprint

API_PREFIX = "/standin/cgi-bin"
OAUTH_PREFIX = "/standin"   # the demo's sign-in host (WECOM_OAUTH_BASE and WECOM_SSO_BASE)


def state_for(config) -> StandInState:
    """A stand-in that accepts this config's corp id and secrets."""
    secrets = {config.WECOM_SECRET: "app"}
    if config.WECOM_KF_SECRET:
        secrets[config.WECOM_KF_SECRET] = "kf"
    state = StandInState(config.WECOM_CORP_ID, secrets)
    install_kf_routes(state)
    install_oauth(state)
    return state


def register_standin(app: Flask) -> StandInState:
    """Mount the API stand-in at /standin/cgi-bin/ and the chat page at /sim on ``app`` (demo)."""
    from bot.standin.sim import bp as sim_bp

    config = app.config["QINGCHE"]
    state = state_for(config)
    app.extensions["qingche.standin"] = state
    app.register_blueprint(make_blueprint(state), url_prefix=API_PREFIX)
    app.register_blueprint(make_oauth_blueprint(state), url_prefix=OAUTH_PREFIX)
    app.register_blueprint(sim_bp)
    return state


class StandInServer:
    """The API stand-in as a real HTTP server on 127.0.0.1 (tests and benchmarks)."""

    def __init__(self, state: StandInState, host: str = "127.0.0.1", port: int = 0):
        install_kf_routes(state)
        app = Flask("wecom-standin")
        app.register_blueprint(make_blueprint(state), url_prefix="/cgi-bin")
        app.register_blueprint(make_oauth_blueprint(state))
        self.state = state
        self.server = make_server(host, port, app, threaded=True)
        self.base_url = f"http://{host}:{self.server.server_port}/cgi-bin/"
        self.oauth_base = f"http://{host}:{self.server.server_port}/"   # oauth2/authorize and QR login
        self.thread = threading.Thread(target=self.server.serve_forever, name="wecom-standin", daemon=True)

    def start(self) -> StandInServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
