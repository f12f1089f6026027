"""Group commit: concurrent callers share flushes, each gets its own result or the batch's error."""
import threading
import time

import pytest

from bot.groupcommit import GroupCommit


def test_a_lone_caller_is_its_own_batch():
    batches = []
    group = GroupCommit(lambda items: batches.append(list(items)) or [i * 10 for i in items])
    assert group.submit(1) == 10
    assert group.submit(2) == 20
    assert batches == [[1], [2]]


def test_callers_arriving_during_a_flush_share_the_next_one():
    release = threading.Event()
    batches = []

    def flush(items):
        batches.append(list(items))
        if items == ["first"]:
            release.wait(5)  # hold the first flush while others queue up behind it
        return [f"{item}!" for item in items]

    group = GroupCommit(flush)
    results = {}

    def call(item):
        results[item] = group.submit(item)

    first = threading.Thread(target=call, args=("first",))
    first.start()
    while not batches:
        time.sleep(0.001)
    others = [threading.Thread(target=call, args=(f"m{i}",)) for i in range(5)]
    for t in others:
        t.start()
    while len(group._pending) < 5:
        time.sleep(0.001)
    release.set()
    for t in [first, *others]:
        t.join(5)
    assert results == {"first": "first!", **{f"m{i}": f"m{i}!" for i in range(5)}}
    assert batches[0] == ["first"] and sorted(batches[1]) == [f"m{i}" for i in range(5)]


def test_max_batch_splits_and_every_caller_is_answered():
    group = GroupCommit(lambda items: [i + 1 for i in items], max_batch=3)
    results = [None] * 40
    start = threading.Barrier(40)

    def call(i):
        start.wait()
        results[i] = group.submit(i)

    threads = [threading.Thread(target=call, args=(i,)) for i in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(5)
    assert results == [i + 1 for i in range(40)]
    assert not group._busy and not group._pending


def test_an_error_reaches_every_caller_of_its_batch_and_the_group_recovers():
    calls = []

    def flush(items):
        calls.append(list(items))
        if "bad" in items:
            raise RuntimeError("database went away")
        return items

    group = GroupCommit(flush)
    with pytest.raises(RuntimeError, match="database went away"):
        group.submit("bad")
    assert group.submit("good") == "good"


def test_a_flush_returning_the_wrong_count_is_an_error_not_a_mixup():
    group = GroupCommit(lambda items: [])
    with pytest.raises(RuntimeError, match="0 results for 1 items"):
        group.submit("x")
