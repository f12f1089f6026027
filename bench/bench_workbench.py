"""The workbench on 100,000 tickets in PostgreSQL: list, filter and detail pages, p50/p95 per page.

Usage: python bench/bench_workbench.py [--tickets 100000] [--requests 200]
           [--database postgresql+psycopg://postgres@127.0.0.1:5432/test]
Fills a private schema (dropped afterwards) through the Alembic migrations, bulk-loads tickets
spread over the sample patches, categories, states and a year of dates (COPY), signs in through
the WeCom stand-in, and times pages through the Flask test client. Target: p95 < 300 ms per page.
Prints figures; asserts nothing.
"""
from __future__ import annotations

import argparse
import os
import random
import re
import sys
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402
from sqlalchemy import create_engine, select, text  # noqa: E402

from bench.common import percentile  # noqa: E402
from bot import create_app, runtime  # noqa: E402
from bot.config import Config  # noqa: E402
from bot.db import dispose_all, get_engine, session_scope  # noqa: E402
from bot.migrate import upgrade  # noqa: E402
from bot.models import Patch, Person, Ticket  # noqa: E402
from bot.roster import load_sample  # noqa: E402
from bot.standin import StandInServer  # noqa: E402
from bot.standin.api import StandInState  # noqa: E402
from bot.tickets import categories  # noqa: E402
from bot.timeutil import utcnow  # noqa: E402
from bot.workbench import rights  # noqa: E402

SCHEMA = f"bench_workbench_{os.getpid()}"
STATES = [("closed", 70), ("resolved", 10), ("open", 8), ("acknowledged", 6), ("waiting", 2), ("returned", 2),
          ("reopened", 2)]
CORP, SECRET = "wwbenchworkbench", "bench-secret"


def fill(url: str, n: int) -> None:
    """Bulk-load ``n`` tickets with their history (create, assign, and what their state implies)."""
    rng = random.Random(7)
    now = utcnow()
    with session_scope(url) as s:
        load_sample(s)
        patches = list(s.scalars(select(Patch)))
        workers = {p.patch: p.userid for p in s.scalars(select(Person).where(Person.role == "grid_worker"))}
        residents = [p.userid for p in s.scalars(select(Person).where(Person.role == "resident"))]
    cats = categories.categories()
    states = [st for st, w in STATES for _ in range(w)]
    engine = get_engine(url)
    cols = ("id, number, service_code, service_name, status, urgency, description, patch_code, village, town, "
            "routed_by, reporter_userid, reporter_channel, assignee_userid, requested_at, updated_at, "
            "acknowledge_by, respond_by, resolve_by, acknowledged_at, resolved_at, closed_at, rating, "
            "agency_responsible")
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        with cur.copy(f"COPY ticket ({cols}) FROM STDIN") as copy:
            events = []
            for i in range(1, n + 1):
                patch = rng.choice(patches)
                cat = rng.choice(cats)
                status = rng.choice(states)
                at = now - timedelta(minutes=rng.randint(10, 365 * 24 * 60))
                ack_by, res_by = at + timedelta(days=1), at + timedelta(days=3)
                acked = at + timedelta(hours=rng.randint(1, 40)) if status not in ("open", "reopened") else None
                resolved = at + timedelta(hours=rng.randint(2, 90)) if status in ("resolved", "closed") else None
                closed = resolved + timedelta(days=1) if status == "closed" else None
                rating = rng.choice([5, 5, 4, 4, 3, 2]) if status == "closed" and rng.random() < .7 else None
                worker = workers.get(patch.code)
                copy.write_row((i, i, cat.id, cat.name, status, cat.urgency, f"{cat.name}问题，第{i}号", patch.code,
                                patch.village, patch.town, "registered", rng.choice(residents), "app", worker, at,
                                resolved or at, ack_by, ack_by, res_by, acked, resolved, closed, rating, cat.department))
                events.append((i, rng.choice(residents), "resident", "create", None, "open", None, at))
                events.append((i, "system", "system", "assign", None, None, worker, at))
                if acked:
                    events.append((i, worker, "grid_worker", "acknowledge", "open", "acknowledged", None, acked))
                if resolved:
                    events.append((i, worker, "grid_worker", "resolve", "acknowledged", "resolved", "已处理", resolved))
        with cur.copy("COPY ticket_event (ticket_id, actor, actor_role, action, from_status, to_status, note, at) "
                      "FROM STDIN") as copy:
            for e in events:
                copy.write_row(e)
        cur.execute("SELECT setval(pg_get_serial_sequence('ticket', 'id'), %s)", (n,))
        raw.commit()
        cur.execute("ANALYZE")
        raw.commit()
    finally:
        raw.close()


def sign_in(client, userid: str) -> None:
    start = client.get("/workbench/login/oauth").headers["Location"].split("#")[0]
    form = {k: v[0] for k, v in parse_qs(urlsplit(start).query).items()}
    back = requests.post(start.split("?")[0], data={**form, "userid": userid}, allow_redirects=False,
                         timeout=5).headers["Location"]
    resp = client.get(urlsplit(back).path + "?" + urlsplit(back).query)
    assert resp.status_code == 302, resp.status_code


def timed(client, paths: list[str]) -> list[float]:
    out = []
    for path in paths:
        t0 = time.perf_counter()
        resp = client.get(path)
        out.append((time.perf_counter() - t0) * 1000)
        if resp.status_code != 200:
            raise SystemExit(f"{path}: HTTP {resp.status_code}")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200, help="requests per page kind")
    parser.add_argument("--database", default=os.environ.get(
        "QINGCHE_BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    args = parser.parse_args()
    admin = create_engine(args.database)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {SCHEMA}"))
    url = f"{args.database}{'&' if '?' in args.database else '?'}options=-csearch_path%3D{SCHEMA}"
    standin = StandInServer(StandInState(CORP, {SECRET: "app"})).start()
    try:
        t0 = time.perf_counter()
        upgrade(url)
        fill(url, args.tickets)
        print(f"loaded {args.tickets:,} tickets with their history in {time.perf_counter() - t0:.1f} s")
        config = Config.from_env(env={}, WECOM_CORP_ID=CORP, WECOM_AGENT_ID="1000002", WECOM_SECRET=SECRET,
                                 WECOM_TOKEN="Bench", WECOM_AES_KEY="Qm9yZWRvbVByb29mS2V5Rm9yUWluZ2NoZVRlc3RzMDE",
                                 WECOM_API_BASE=standin.base_url, WECOM_OAUTH_BASE=standin.oauth_base,
                                 DATABASE_URL=url, LOG_LEVEL="WARNING")
        app = create_app(config)
        rng = random.Random(3)
        print(f"{'who':<28}{'page':<34}{'n':>5}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}")
        for userid, label in (("fang.lougang", "village cadre (楼冈社区)"), ("guan.changsha", "town cadre (长沙街道)"),
                              ("liang.wg", "grid worker (LG-01)")):
            client = app.test_client()
            sign_in(client, userid)
            first = client.get("/workbench/tickets").get_data(as_text=True)
            total = int(re.search(r"共 (\d+) 件", first).group(1))
            pages = max(1, total // 50)
            with session_scope(url) as s:
                person = s.scalar(select(Person).where(Person.userid == userid))
                visible = list(s.scalars(rights.scope_tickets(select(Ticket.number), person)))
            n = args.requests
            kinds = [
                ("list, first page", ["/workbench/tickets"] * n),
                ("list, random page", [f"/workbench/tickets?page={rng.randint(1, pages)}" for _ in range(n)]),
                ("filter: overdue", ["/workbench/tickets?overdue=1"] * n),
                ("filter: open, this month", ["/workbench/tickets?status=active&period=month"] * n),
                ("filter: patch+category+30d", [f"/workbench/tickets?patch={rng.choice(['LG-01', 'LG-02'])}"
                                                f"&category={rng.choice(categories.categories()).id}&period=30d"
                                                for _ in range(n)]),
                ("detail", [f"/workbench/tickets/{rng.choice(visible)}" for _ in range(n)]),
                ("map (open tickets)", ["/workbench/map"] * max(n // 10, 5)),   # not a target; for the record
            ]
            if userid != "liang.wg":
                kinds.append(("三率 charts (6 months)", ["/workbench/stats"] * max(n // 10, 5)))
            print(f"{label:<28}({total:,} tickets in view)")
            for name, paths in kinds:
                timed(client, paths[:5])   # warm-up
                ms = timed(client, paths)
                print(f"{'':<28}{name:<34}{len(ms):>5}{percentile(ms, 50):>9.1f}{percentile(ms, 95):>9.1f}"
                      f"{max(ms):>9.1f}")
    finally:
        standin.stop()
        runtime.reset()
        dispose_all()
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        admin.dispose()


if __name__ == "__main__":
    main()
