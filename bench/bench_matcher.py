"""Matcher throughput (questions per second on one core) and latency percentiles.

Usage: python bench/bench_matcher.py [--rounds 20]
Targets: at least 2,000 questions/s and p99 under 5 ms; start-up under 2 s. Prints figures; asserts nothing.

Start-up is timed in fresh processes: every scorer (the matcher's, the category's, the two of danger)
trained from the example files with an empty model cache, then read back from it (knowledge/modelcache.py).
"""
from __future__ import annotations

import argparse
import csv
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from knowledge.matcher import default_matcher  # noqa: E402  (after the path insert)

TABLE = ROOT / "tests" / "data" / "phrasings.csv"


def questions() -> list[str]:
    """The phrasing table, plus longer chatty variants of it."""
    with TABLE.open(encoding="utf-8", newline="") as f:
        texts = [row["text"] for row in csv.DictReader(f)]
    chatty = [f"你好，打扰一下，我想问个事情，{t}，麻烦帮我看看，谢谢！" for t in texts[::3]]
    return texts + chatty


STARTUP = """
import time
t = time.perf_counter()
from knowledge.matcher import default_matcher
from bot.tickets.categories import learned_scorer
from bot.tickets.words import danger_model, danger_scorer
default_matcher(); learned_scorer(); danger_model(); danger_scorer()
print(time.perf_counter() - t)
"""


def startup() -> tuple[float, float]:
    """Seconds until every scorer is ready in a fresh process: trained, then read from the cache."""
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, QINGCHE_MODEL_CACHE=cache)
        run = [sys.executable, "-c", STARTUP]
        cold, warm = (float(subprocess.run(run, env=env, cwd=ROOT, capture_output=True, text=True,
                                           check=True).stdout) for _ in range(2))
    return cold, warm


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20, help="passes over the question list")
    args = parser.parse_args()

    start = time.perf_counter()
    matcher = default_matcher()
    build = time.perf_counter() - start
    texts = questions()
    for text in texts:  # warm-up: character conversion cache, regexes
        matcher.match(text)

    latencies: list[float] = []
    clock = time.perf_counter
    t0 = clock()
    for _ in range(args.rounds):
        for text in texts:
            s = clock()
            matcher.match(text)
            latencies.append(clock() - s)
    total = clock() - t0

    latencies.sort()
    n = len(latencies)

    def pct(p: float) -> float:
        return latencies[min(n - 1, int(p * n))] * 1000

    print(f"catalogue + index built in {build * 1000:.0f} ms; {len(texts)} distinct questions x {args.rounds} rounds")
    print(f"throughput: {n / total:,.0f} questions/s (one core)")
    print(f"latency: mean {statistics.fmean(latencies) * 1000:.3f} ms, p50 {pct(0.50):.3f} ms, "
          f"p99 {pct(0.99):.3f} ms, max {latencies[-1] * 1000:.3f} ms")
    cold, warm = startup()
    print(f"start-up, every scorer ready: {cold:.2f} s trained from the examples, {warm:.2f} s from the model cache")
    print("targets: >= 2,000 questions/s, p99 < 5 ms, start-up < 2 s")


if __name__ == "__main__":
    main()
