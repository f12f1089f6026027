"""The cadres' daily digest (filled in below)."""
from __future__ import annotations


def send_due(now=None) -> int:
    """Sweep step: send today's digests that are due."""
    return 0
