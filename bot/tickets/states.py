"""The ticket state machine: every state has a type, every change is a row in ``TRANSITIONS``.

Types follow FixMyStreet: ``open`` (someone must act), ``resolved`` (done, waiting for the
resident's rating), ``closed`` (finished). ``waiting`` means waiting for the resident and
pauses deadline clocks.
"""
from __future__ import annotations

from bot.statemachine import IllegalTransition, Transitions  # noqa: F401  (callers catch states.IllegalTransition)

STATE_TYPES: dict[str, str] = {
    "open": "open",              # filed, with the grid worker (or the cadre when unrouted)
    "acknowledged": "open",      # the grid worker took it (接单)
    "waiting": "open",           # waiting for the resident (pauses the clock)
    "returned": "open",          # sent back to the cadre (退单): wrongly dispatched
    "reopened": "open",          # the resident was not satisfied
    "resolved": "resolved",      # handled (办结), waiting for the resident's rating
    "closed": "closed",          # rated, or closed by a cadre
}

# (current state, action) -> next state. Anything not listed is refused.
TRANSITIONS: dict[tuple[str, str], str] = {
    ("open", "acknowledge"): "acknowledged",
    ("reopened", "acknowledge"): "acknowledged",
    ("open", "resolve"): "resolved",
    ("acknowledged", "resolve"): "resolved",
    ("waiting", "resolve"): "resolved",
    ("reopened", "resolve"): "resolved",
    ("returned", "resolve"): "resolved",
    ("open", "return"): "returned",
    ("acknowledged", "return"): "returned",
    ("reopened", "return"): "returned",
    ("acknowledged", "wait"): "waiting",
    ("waiting", "resume"): "acknowledged",
    ("open", "assign"): "open",
    ("acknowledged", "assign"): "open",
    ("returned", "assign"): "open",
    ("reopened", "assign"): "open",
    ("resolved", "reopen"): "reopened",
    ("closed", "reopen"): "reopened",
    ("resolved", "rate"): "closed",
    ("open", "close"): "closed",
    ("acknowledged", "close"): "closed",
    ("waiting", "close"): "closed",
    ("returned", "close"): "closed",
    ("reopened", "close"): "closed",
    ("resolved", "close"): "closed",
}


MACHINE = Transitions(TRANSITIONS, "a ticket")
ACTIONS = MACHINE.actions
next_state = MACHINE.next_state   # the state after an action, or IllegalTransition
allowed = MACHINE.allowed         # whether an action is allowed in a state


def state_type(status: str) -> str:
    """``open``, ``resolved`` or ``closed``."""
    return STATE_TYPES[status]


def is_open(status: str) -> bool:
    """Whether someone still has to act on a ticket in ``status``."""
    return STATE_TYPES.get(status) == "open"
