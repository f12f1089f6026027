"""How well Qingche understands residents, on the frozen blind set, through the real callback.

Every phrasing in ``bench/data/blind/`` was written by someone who read only the reference lists
(never ``knowledge/``). Each question and each complaint is sent from a fresh, unregistered resident
as an encrypted WeCom callback to ``/wecom/callback``, handled by a real rq worker, and answered
through the WeCom stand-in; the resident then answers what the bot asks, as a resident would.

    .venv/bin/python -m bench.bench_understanding            # every split, both kinds
    .venv/bin/python -m bench.bench_understanding --split dev --show-misses

Questions: right on the first reply; within two replies (the right entry among a menu, picked);
confidently wrong (an answer about another entry, or any certificate answer to an out-of-scope
question). Complaints: filed or handed to a person; filed within 3 resident messages (2 when the
first message names the place); category; the right village's grid worker; danger recognised
(urgency raised) and false alarms. Figures are printed; nothing here is asserted.
"""
from __future__ import annotations

import argparse
import csv
import hashlib
import itertools
import os
import re
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BLIND = ROOT / "bench" / "data" / "blind"
SPLITS = {"dev": {"questions": ["a", "c", "g"], "complaints": ["a", "b", "g"]},
          "holdout": {"questions": ["b", "d"], "complaints": ["c", "d"]},
          "fresh": {"questions": ["e", "f"], "complaints": ["e", "f"]},
          "final": {"questions": ["h"], "complaints": ["h"]},
          "unseen": {"questions": ["i"], "complaints": ["i"]},
          "newest": {"questions": ["j"], "complaints": ["j"]}}
CATEGORY_IDS = {"环境卫生": "environment", "噪音扰民": "noise", "违章搭建": "illegal_building", "道路破损": "road",
                "路灯": "streetlight", "水电气": "utilities", "邻里纠纷": "neighbour", "占道经营": "street_vending",
                "河道水利": "river", "交通停车": "traffic", "劳动保障": "labour", "市场食品": "market",
                "大气污水": "pollution", "消防隐患": "fire_hazard", "物业": "property", "其他": "other"}
VILLAGES = {"楼冈社区": "楼冈社区居委会", "东河社区": "东河社区居委会", "大沙墟社区": "大沙墟社区居委会",
            "南屏村": "南屏村委会"}
RAISED = {"emergency"}   # danger recognised: an emergency ticket (a category's own "high" is not a judgement)
_ids = itertools.count(1)


def verify_manifest() -> None:
    """Refuse to score a blind file that changed since it was frozen."""
    for line in (BLIND / "MANIFEST.sha256").read_text().splitlines():
        digest, name = line.split()
        if hashlib.sha256((BLIND / name).read_bytes()).hexdigest() != digest:
            sys.exit(f"{name} changed since it was frozen: the blind set must not be edited")


def rows(kind: str, split: str) -> list[dict]:
    out = []
    for letter in SPLITS[split][kind]:
        with open(BLIND / f"{kind}_{letter}.csv", encoding="utf-8") as f:
            for row in csv.DictReader(f):
                row["set"] = letter
                out.append(row)
    return out


class Bot:
    """The app, a real rq worker, the WeCom stand-in: a resident's side of the conversation."""

    def __init__(self, database_url: str | None):
        import redis

        from bot import create_app
        from bot.config import Config
        from bot.db import get_engine, session_scope
        from bot.models import Base
        from bot.roster import load_sample
        from bot.standin import StandInServer
        from bot.standin.api import StandInState
        from tests.conftest import AES_KEY, CORP_ID, KF_SECRET, SECRET, TOKEN, WeComSender

        self.tmp = tempfile.TemporaryDirectory()
        url = database_url or f"sqlite:///{self.tmp.name}/understanding.sqlite3"
        Base.metadata.drop_all(get_engine(url))
        Base.metadata.create_all(get_engine(url))
        self.server = StandInServer(StandInState(CORP_ID, {SECRET: "app", KF_SECRET: "kf"})).start()
        redis_url = os.environ.get("QINGCHE_BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
        config = Config.from_env(env={}, WECOM_CORP_ID=CORP_ID, WECOM_AGENT_ID="1000002", WECOM_SECRET=SECRET,
                                 WECOM_KF_SECRET=KF_SECRET, WECOM_TOKEN=TOKEN, WECOM_AES_KEY=AES_KEY,
                                 WECOM_API_BASE=self.server.base_url, DATABASE_URL=url, REDIS_URL=redis_url,
                                 LOG_LEVEL="ERROR", QINGCHE_DIGEST_TIME="off")
        self.redis = redis.Redis.from_url(redis_url)
        self.redis.flushdb()
        self.app = create_app(config)
        with session_scope(url) as s:
            load_sample(s)
        self.url = url
        self.api = self.server.state
        from bot.crypto import CallbackCrypto

        self.sender = WeComSender(self.app.test_client(), CallbackCrypto(TOKEN, AES_KEY, CORP_ID), self.redis,
                                  self.api)

    def say(self, userid: str, text: str) -> list[str]:
        before = len(self.api.texts_to(userid))
        self.sender.text(userid, text)
        self.sender.run()
        return self.api.texts_to(userid)[before:]

    def tickets_of(self, userid: str):
        from sqlalchemy import select

        from bot.db import session_scope
        from bot.models import Ticket

        with session_scope(self.url) as s:
            return s.scalars(select(Ticket).where(Ticket.reporter_userid == userid)).all()

    def close(self) -> None:
        self.server.stop()
        self.redis.flushdb()


# --- questions --------------------------------------------------------------------------------

def _names() -> dict[str, str]:
    from knowledge.catalogue import load_catalogue

    return {item.name: item.id for item in load_catalogue()}


ANSWER = re.compile(r"^【(.+?)】")
APPLYING = re.compile(r"^好的，申请【(.+?)】")   # "我想开个居住证明": the application for that entry starts
CHOICE = re.compile(r"^(\d)\. (.+)$", re.M)


def answered(reply: str, names: dict[str, str]) -> str | None:
    """The catalogue entry a reply answers (by its 【name】 heading, or the application it starts), or None."""
    m = ANSWER.match(reply.strip()) or APPLYING.match(reply.strip())
    return names.get(m.group(1)) if m else None


def meta_right(expected: str, reply: str) -> bool:
    if expected == "META_GRID":
        return "网格员" in reply and "【" not in reply[:1]
    return ("工作日" in reply or "小时" in reply or "天" in reply) and ("办结" in reply or "答复" in reply
                                                                      or "回复" in reply or "联系" in reply)


def score_question(bot: Bot, row: dict, names: dict[str, str]) -> dict:
    userid = f"q{next(_ids)}"
    replies = bot.say(userid, row["text"])
    first = "\n".join(replies)
    expected = row["expected"]
    got = answered(first, names)
    result = {"text": row["text"], "expected": expected, "set": row["set"], "reply": first[:120]}
    if expected == "OOS":
        result["first"] = got is None and "已提交" not in first
        result["wrong"] = got is not None
        result["two"] = result["first"]
        return result
    if expected.startswith("META"):
        result["first"] = meta_right(expected, first)
        result["wrong"] = got is not None
        result["two"] = result["first"]
        return result
    result["first"] = got == expected
    result["wrong"] = got is not None and got != expected
    result["two"] = result["first"]
    if not result["first"] and got is None:
        choices = {names.get(name.strip()): n for n, name in CHOICE.findall(first)}
        if expected in choices:
            second = "\n".join(bot.say(userid, choices[expected]))
            result["two"] = answered(second, names) == expected
    return result


# --- complaints -------------------------------------------------------------------------------

def resident_answer(reply: str, row: dict) -> str | None:
    """What a resident says to the bot's reply, or None when there is nothing more to say."""
    if "已提交" in reply or "工单号" in reply or "已转给" in reply or "已把您" in reply:
        return None
    if "回复 1" in reply and "转给" in reply:
        return "1"
    if "反映问题" in reply and ("咨询" in reply or "还是" in reply):
        return "反映问题"
    if ("在哪里" in reply or "哪个位置" in reply or "具体地址" in reply or "什么地方" in reply) and "请核对" not in reply:
        return row["place_reply"]
    if "确认" in reply:
        return "确认"
    if "照片" in reply:
        return "没有"
    return None


def score_complaint(bot: Bot, row: dict) -> dict:
    userid = f"c{next(_ids)}"
    sent = 1
    replies = bot.say(userid, row["text"])
    log = list(replies)
    for _ in range(6):
        answer = resident_answer(replies[-1], row) if replies else None
        if answer is None:
            break
        sent += 1
        replies = bot.say(userid, answer)
        log += replies
    tickets = bot.tickets_of(userid)
    ticket = tickets[0] if tickets else None
    filed = ticket is not None and ticket.service_code != "consultation"
    handed = ticket is not None
    expected_category = CATEGORY_IDS[row["category"]]
    danger = row["danger"].strip() == "1"
    return {"text": row["text"], "set": row["set"], "filed": filed, "handed": handed, "sent": sent,
            "place_in_text": row["place_in_text"].strip() == "1",
            "quick": handed and sent <= (2 if row["place_in_text"].strip() == "1" else 3),
            "within3": handed and sent <= 3,
            "category": filed and ticket.service_code == expected_category,
            "expected_category": expected_category, "got_category": ticket.service_code if ticket else None,
            "village": filed and ticket.village == VILLAGES[row["village"]],
            "danger": danger, "raised": filed and ticket.urgency in RAISED,
            "log": " | ".join(t[:60].replace("\n", " ") for t in log)}


def pct(n: int, d: int) -> str:
    return f"{100 * n / d:5.1f}% ({n}/{d})" if d else "  —"


def report_questions(results: list[dict], show: bool) -> None:
    n = len(results)
    oos = [r for r in results if r["expected"] == "OOS"]
    print(f"  questions: {n}")
    print(f"    right on the first reply   {pct(sum(r['first'] for r in results), n)}")
    print(f"    right within two replies   {pct(sum(r['two'] for r in results), n)}")
    print(f"    confidently wrong          {pct(sum(r['wrong'] for r in results), n)}")
    print(f"    out of scope answered with an entry {pct(sum(r['wrong'] for r in oos), len(oos))}")
    if show:
        for r in results:
            if not r["first"]:
                flag = "WRONG" if r["wrong"] else ("two" if r["two"] else "miss")
                print(f"      [{flag}] {r['expected']:<12} {r['text'][:50]}  →  {r['reply'][:60]!r}")


def report_complaints(results: list[dict], show: bool) -> None:
    n = len(results)
    danger = [r for r in results if r["danger"]]
    calm = [r for r in results if not r["danger"]]
    filed = [r for r in results if r["filed"]]
    print(f"  complaints: {n}")
    print(f"    filed or handed to a person {pct(sum(r['handed'] for r in results), n)}")
    print(f"    filed as a report          {pct(len(filed), n)}")
    print(f"    within 3 resident messages {pct(sum(r['within3'] for r in results), n)}")
    print(f"    within 2 (place named) / 3 {pct(sum(r['quick'] for r in results), n)}")
    print(f"    category right (of filed)  {pct(sum(r['category'] for r in filed), len(filed))}")
    print(f"    right village's worker     {pct(sum(r['village'] for r in filed), len(filed))}")
    print(f"    danger recognised          {pct(sum(r['raised'] for r in danger), len(danger))}")
    print(f"    false alarms               {pct(sum(r['raised'] for r in calm), len(calm))}")
    if show:
        for r in results:
            bad = []
            if not r["handed"]:
                bad.append("NOT FILED")
            elif not r["within3"]:
                bad.append(f"{r['sent']} msgs")
            if r["filed"] and not r["category"]:
                bad.append(f"cat {r['got_category']}≠{r['expected_category']}")
            if r["filed"] and not r["village"]:
                bad.append("village")
            if r["danger"] != r["raised"]:
                bad.append("danger missed" if r["danger"] else "false alarm")
            if bad:
                print(f"      [{', '.join(bad)}] {r['text'][:50]}  ::  {r['log'][:200]}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=[*SPLITS, "both", "all"], default="all",
                        help="both: dev and holdout; all: every split")
    parser.add_argument("--kind", choices=["questions", "complaints", "both"], default="both")
    parser.add_argument("--database-url", default=os.environ.get("QINGCHE_BENCH_DATABASE_URL"))
    parser.add_argument("--show-misses", action="store_true", help="list the failures (dev split only)")
    args = parser.parse_args(argv)
    verify_manifest()
    splits = {"both": ["dev", "holdout"], "all": list(SPLITS)}.get(args.split, [args.split])
    kinds = ["questions", "complaints"] if args.kind == "both" else [args.kind]
    bot = Bot(args.database_url)
    names = _names()
    try:
        for split in splits:
            print(f"[{split}]")
            show = args.show_misses and split == "dev"
            if "questions" in kinds:
                report_questions([score_question(bot, r, names) for r in rows("questions", split)], show)
            if "complaints" in kinds:
                report_complaints([score_complaint(bot, r) for r in rows("complaints", split)], show)
    finally:
        bot.close()


if __name__ == "__main__":
    main()
