"""Exceptions, in one place."""


class ConfigError(Exception):
    """A setting is missing or malformed; the message names it."""


class RejectedCallback(Exception):
    """A callback request we refuse; ``status`` is the HTTP status, ``reason`` goes to the log."""

    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status = status
        self.reason = reason


class WeComError(Exception):
    """The WeCom API answered with a non-zero errcode (or could not be reached)."""

    def __init__(self, errcode: int, errmsg: str = ""):
        super().__init__(f"errcode {errcode}: {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg

    @property
    def unknown_outcome(self) -> bool:
        """The request may have reached WeCom (a network error or timeout), so it may have been acted on."""
        return self.errcode == -2 and self.errmsg.startswith("network")

    @property
    def transient(self) -> bool:
        """Worth retrying later: busy, rate limit, token trouble, network or server errors."""
        return self.errcode in TRANSIENT_ERRCODES


# -1 system busy, 45009 API rate limit, 45033 concurrency limit, 40014/42001/40001 token trouble,
# -2 our own marker for network errors and HTTP 5xx.
TRANSIENT_ERRCODES = frozenset({-1, -2, 45009, 45033, 40014, 42001, 40001, 41001})
TOKEN_ERRCODES = frozenset({40014, 42001, 40001, 41001})
