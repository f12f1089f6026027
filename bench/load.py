"""The load generator: posts pre-encrypted WeCom callbacks to one URL, from its own process.

    python -m bench.load --port 8800 --mode open --rate 200 --duration 10 --kind ack --out /tmp/a.json
    python -m bench.load --port 8800 --mode closed --concurrency 16 --duration 10 --kind ack

Open loop: request i is due at start + i/rate, whatever happened before, and its latency counts
from that moment (so a stall shows up in the figures). Closed loop: each thread sends its next
request as soon as the previous one is answered. Every message comes from its own user, so the
per-user lock and pacing never serialise them. Bounded by --count and --duration.
"""
from __future__ import annotations

import argparse
import csv
import http.client
import itertools
import json
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

from bench.common import AES_KEY, AGENT_ID, CORP_ID, TOKEN, percentile
from bot.crypto import CallbackCrypto
from bot.standin import callbacks

PHRASINGS = Path(__file__).resolve().parent.parent / "tests" / "data" / "phrasings.csv"
COMPLAINTS = ["楼下路灯坏了三天了", "我们村口的垃圾好几天没人收了", "投诉一下，楼道里的水管漏水",
              "小区门口的井盖烂了，很危险", "反映一下，晚上广场舞太吵了", "路边的下水道堵了，臭得受不了"]


def questions() -> list[str]:
    """Real resident phrasings that the certificate catalogue covers."""
    try:
        with PHRASINGS.open(encoding="utf-8", newline="") as f:
            rows = [r["text"] for r in csv.DictReader(f) if r["expected"] != "none"]
    except OSError:
        rows = []
    return rows or ["开居住证明要带什么", "无犯罪记录证明在哪里开"]


def build(kind: str, n: int, tag: str) -> list[tuple[str, str, bytes]]:
    """``n`` (userid, path, body) callbacks, encrypted and signed before the clock starts."""
    crypto = CallbackCrypto(TOKEN, AES_KEY, CORP_ID)
    pool = {"ack": ["你好"], "cert": questions(), "complaint": COMPLAINTS}[kind]
    out = []
    for i in range(n):
        user = f"{tag}-{i}"
        xml = callbacks.text_xml(CORP_ID, user, pool[i % len(pool)], agent_id=AGENT_ID)
        body, params = crypto.build_post(xml, callbacks.new_nonce(), agent_id=AGENT_ID)
        out.append((user, "/wecom/callback?" + urlencode(params), body))
    return out


def run(port: int, messages, mode: str, rate: float, concurrency: int, duration: float) -> list[dict]:
    """Send ``messages``; return one record per request sent."""
    slots = itertools.count()
    results: list[dict | None] = [None] * len(messages)
    start = time.time() + 0.2
    stop_at = start + duration

    def sender():
        conn = None
        while True:
            i = next(slots)
            if i >= len(messages):
                return
            due = start + i / rate if mode == "open" else time.time()
            if due > stop_at:
                return
            delay = due - time.time()
            if delay > 0:
                time.sleep(delay)
            user, path, body = messages[i]
            sent = time.time()
            status = -1
            try:
                if conn is None:
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                conn.request("POST", path, body, {"Content-Type": "text/xml"})
                resp = conn.getresponse()
                resp.read()
                status = resp.status
                if resp.will_close:
                    conn.close()
                    conn = None
            except (OSError, http.client.HTTPException):
                if conn is not None:
                    conn.close()
                conn = None
            results[i] = {"user": user, "due": due, "sent": sent, "done": time.time(), "status": status}

    if mode == "closed":
        time.sleep(max(start - time.time(), 0))
    threads = [threading.Thread(target=sender, daemon=True) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(duration + 60)
    return [r for r in results if r is not None]


def summary(records: list[dict]) -> dict:
    """Throughput and acknowledgement latency (ms) of a run."""
    ok = [r for r in records if r["status"] == 200]
    if not records:
        return {"requests": 0}
    span = max(r["done"] for r in records) - min(r["due"] for r in records)
    lat = [(r["done"] - r["due"]) * 1000 for r in ok]
    return {"requests": len(records), "ok": len(ok), "errors": len(records) - len(ok),
            "seconds": round(span, 2), "throughput": round(len(ok) / span, 1) if span > 0 else 0,
            "p50_ms": round(percentile(lat, 50), 2), "p99_ms": round(percentile(lat, 99), 2),
            "max_ms": round(max(lat), 2) if lat else None}


def main() -> None:
    parser = argparse.ArgumentParser(description="WeCom callback load generator (loopback only)")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--mode", choices=["open", "closed"], default="open")
    parser.add_argument("--rate", type=float, default=50, help="open loop: requests per second")
    parser.add_argument("--concurrency", type=int, default=16, help="sender threads")
    parser.add_argument("--duration", type=float, default=10, help="seconds, at most")
    parser.add_argument("--count", type=int, default=0, help="requests, at most (default rate x duration)")
    parser.add_argument("--kind", choices=["ack", "cert", "complaint"], default="ack")
    parser.add_argument("--tag", default=f"u{int(time.time())}")
    parser.add_argument("--out", help="write every request's record here (JSON)")
    args = parser.parse_args()
    count = args.count or (int(args.rate * args.duration) if args.mode == "open" else 50_000)
    messages = build(args.kind, count, args.tag)
    records = run(args.port, messages, args.mode, args.rate, args.concurrency, args.duration)
    result = summary(records)
    if args.out:
        Path(args.out).write_text(json.dumps({"summary": result, "records": records}))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
