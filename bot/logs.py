"""Logging with personal data masked: mobile numbers and ID card numbers never reach a log line."""
from __future__ import annotations

import logging
import re

from bot import privacy

SECRET_PARAM = re.compile(r"(access_token|corpsecret|secret|echostr|msg_signature)=[^&\s]+", re.I)


def mask(text: str) -> str:
    """Mask mobile and ID numbers and secret query parameters in ``text``."""
    return SECRET_PARAM.sub(r"\1=***", privacy.mask(text))


def mask_mobile(mobile: str | None) -> str:
    """A mobile number as cadres may see it: 138****1001."""
    if not mobile:
        return ""
    digits = re.sub(r"\D", "", mobile)
    return f"{digits[:3]}****{digits[-4:]}" if len(digits) >= 7 else "****"


class MaskingFilter(logging.Filter):
    """Rewrites each record's message with ``mask``."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:
            return True
        masked = mask(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


def setup_logging(level: str = "INFO") -> None:
    """Configure the root logger once, with masking on every handler."""
    root = logging.getLogger()
    if not any(isinstance(f, MaskingFilter) for h in root.handlers for f in h.filters):
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        handler.addFilter(MaskingFilter())
        root.addHandler(handler)
    root.setLevel(level.upper() if isinstance(level, str) else level)
    for noisy in ("urllib3", "werkzeug"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
