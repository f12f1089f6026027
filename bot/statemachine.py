"""A state machine as data: a table of (state, action) → next state, and the one way to read it.

Tickets (``bot.tickets.states``) and certificate applications (``bot.applications.states``) each keep
their own table; both read it through a ``Transitions`` so that a refused change is always an
``IllegalTransition`` naming what was refused.
"""
from __future__ import annotations


class IllegalTransition(Exception):
    """An action that the current state does not allow."""

    def __init__(self, what: str, status: str, action: str):
        super().__init__(f"cannot {action} {what} that is {status}")
        self.status = status
        self.action = action


class Transitions:
    """One table of transitions; ``what`` names the thing in messages ("a ticket")."""

    def __init__(self, table: dict[tuple[str, str], str], what: str):
        self.table = table
        self.what = what
        self.actions = frozenset(action for _, action in table)

    def next_state(self, status: str, action: str) -> str:
        """The state after ``action``, or raise ``IllegalTransition``."""
        try:
            return self.table[(status, action)]
        except KeyError:
            raise IllegalTransition(self.what, status, action) from None

    def allowed(self, status: str, action: str) -> bool:
        """Whether ``action`` is allowed in ``status``."""
        return (status, action) in self.table
