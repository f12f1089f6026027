"""The application state machine: every state has a type, every change is a row in ``TRANSITIONS``.

``open`` means the committee must act (the deadline runs), ``waiting`` that the resident must
(补充 after 退回补充: the clock is restarted when they resubmit), ``ready`` that the certificate is
stamped or being stamped and waits to be collected, ``closed`` that it is finished.
"""
from __future__ import annotations

from bot.statemachine import IllegalTransition, Transitions  # noqa: F401  (callers catch states.IllegalTransition)

STATE_TYPES: dict[str, str] = {
    "verifying": "open",     # with the patch's grid worker (网格员核实)
    "submitted": "open",     # with the village's cadres
    "returned": "waiting",   # 退回补充: waiting for the resident
    "approved": "ready",     # 通过: filled in, to print, stamp and collect
    "collected": "closed",   # 已领取
    "refused": "closed",     # 不予出具
}

TRANSITIONS: dict[tuple[str, str], str] = {
    ("verifying", "verify"): "submitted",
    ("verifying", "return"): "returned",
    ("verifying", "refuse"): "refused",
    ("submitted", "approve"): "approved",
    ("submitted", "return"): "returned",
    ("submitted", "refuse"): "refused",
    ("returned", "resubmit"): "submitted",
    ("returned", "refuse"): "refused",
    ("approved", "collect"): "collected",
}


MACHINE = Transitions(TRANSITIONS, "an application")
next_state = MACHINE.next_state   # the state after an action, or IllegalTransition
allowed = MACHINE.allowed         # whether an action is allowed in a state


def of_type(kind: str) -> list[str]:
    """The states of one type (open, waiting, ready, closed)."""
    return [s for s, k in STATE_TYPES.items() if k == kind]


def is_closed(status: str) -> bool:
    """Whether nothing more happens to an application in ``status``."""
    return STATE_TYPES.get(status) == "closed"
