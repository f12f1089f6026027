"""Group commit: callers in concurrent threads share one round trip.

Each caller submits an item and blocks until its result is ready. Whoever arrives while nobody is
writing becomes the leader: it takes every item waiting at that moment (its own among them), runs
``flush`` on the lot once and hands each caller its own result. Items that arrive meanwhile wait;
when the leader is done it makes the first of them the next leader. A lone caller (a sync worker,
a quiet hour) is its own batch of one, with no hand-over and no extra thread.

``flush(items)`` returns one result per item, in order; if it raises, every caller in that batch
gets the exception.
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any


class _Slot:
    __slots__ = ("item", "result", "error", "done", "lead", "event")

    def __init__(self, item):
        self.item = item
        self.result = None
        self.error: BaseException | None = None
        self.done = False
        self.lead = False
        self.event = threading.Event()


class GroupCommit:
    """Batch concurrent ``submit`` calls into single ``flush`` calls."""

    def __init__(self, flush: Callable[[Sequence[Any]], Sequence[Any]], max_batch: int = 64):
        self.flush = flush
        self.max_batch = max_batch
        self._lock = threading.Lock()
        self._pending: list[_Slot] = []
        self._busy = False

    def submit(self, item):
        """``flush``'s result for ``item`` (raises what ``flush`` raised)."""
        slot = _Slot(item)
        with self._lock:
            self._pending.append(slot)
            lead = not self._busy
            self._busy = True
        if not lead:
            slot.event.wait()
            if not slot.lead:
                return self._outcome(slot)
        # Leading: this slot is the first waiting, so it is in the batch taken now.
        with self._lock:
            batch = self._pending[:self.max_batch]
            del self._pending[:self.max_batch]
        self._run(batch, slot)
        with self._lock:
            if self._pending:
                successor = self._pending[0]
                successor.lead = True
                successor.event.set()
            else:
                self._busy = False
        return self._outcome(slot)

    def _run(self, batch: list[_Slot], leader: _Slot) -> None:
        try:
            results = self.flush([s.item for s in batch])
            if len(results) != len(batch):
                raise RuntimeError(f"flush returned {len(results)} results for {len(batch)} items")
            for s, result in zip(batch, results, strict=True):
                s.result = result
        except BaseException as exc:  # every caller of the batch hears of it
            for s in batch:
                s.error = exc
        for s in batch:
            s.done = True
            if s is not leader:
                s.event.set()

    @staticmethod
    def _outcome(slot: _Slot):
        if slot.error is not None:
            raise slot.error
        return slot.result
