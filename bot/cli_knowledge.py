"""``qingche knowledge``: check the catalogue files, and list questions it could not answer."""
from __future__ import annotations

import sys
from datetime import timedelta

import click


@click.group()
def knowledge() -> None:
    """The certificate and service catalogue."""


@knowledge.command()
@click.option("--dir", "directory", default=None, help="catalogue folder (default: the packaged one)")
def check(directory: str | None) -> None:
    """Validate the catalogue files; list every mistake with file, entry and field."""
    from knowledge.catalogue import Catalogue
    from knowledge.catalogue import check as check_catalogue
    from knowledge.matcher import Matcher

    errors, items = check_catalogue(directory)
    if errors:
        for line in errors:
            click.echo(line, err=True)
        click.echo(f"{len(errors)} error(s)", err=True)
        sys.exit(1)
    Matcher(Catalogue(items))  # the index builds from these entries
    counts: dict[str, int] = {}
    for item in items.values():
        key = f"{item.kind}:{item.duty_list}" if item.kind == "duty" else item.kind
        counts[key] = counts.get(key, 0) + 1
    summary = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
    samples = sum(1 for item in items.values() if item.get("sample"))
    click.echo(f"OK: {len(items)} entries ({summary}); {samples} marked as sample")
    _check_tickets_knowledge()


def _check_tickets_knowledge() -> None:
    """Complaint categories, recognition words, deadlines and every user-facing text."""
    from bot import sla, texts
    from bot.tickets import categories, words
    from bot.visits import rules as visit_rules

    try:
        cats = categories.categories()
        words.words()
        limits = sla.load()
        texts.reload()
        n_texts = len(texts._load())
        visit_rules.reload()
        visit_kinds = visit_rules.load().kinds   # 四必访 (knowledge/visits.yaml)
    except Exception as exc:  # each loader names the file and entry
        click.echo(f"{type(exc).__name__}: {exc}", err=True)
        sys.exit(1)
    click.echo(f"OK: {len(cats)} complaint categories; deadlines for {len(limits.categories)} categories "
               f"({sla.sla_path().name}); {n_texts} texts; {len(visit_kinds)} kinds of household to visit")


@knowledge.command()
@click.option("--days", default=30, show_default=True, help="look back this many days")
@click.option("--limit", default=50, show_default=True, help="show at most this many questions")
def misses(days: int, limit: int) -> None:
    """Questions the catalogue could not answer, most frequent first."""
    from sqlalchemy import case, func, select

    from bot.config import Config
    from bot.db import session_scope
    from bot.models import CatalogueMiss
    from bot.timeutil import fmt_local, utcnow

    config = Config.from_env(require_wecom=False)
    since = utcnow() - timedelta(days=days)
    with session_scope(config.DATABASE_URL) as s:
        rows = s.execute(
            select(CatalogueMiss.normalized, func.count(CatalogueMiss.id), func.max(CatalogueMiss.created_at),
                   func.min(CatalogueMiss.text), func.sum(case((CatalogueMiss.forwarded, 1), else_=0)))
            .where(CatalogueMiss.created_at >= since)
            .group_by(CatalogueMiss.normalized)
            .order_by(func.count(CatalogueMiss.id).desc(), func.max(CatalogueMiss.created_at).desc())
            .limit(limit)
        ).all()
    if not rows:
        click.echo(f"No unanswered questions in the last {days} days.")
        return
    click.echo(f"Unanswered questions, last {days} days (times asked, forwarded, last asked, example):")
    for _norm, count, last, example, forwarded in rows:
        click.echo(f"{count:>4}  {int(forwarded or 0):>3}  {fmt_local(last)}  {example}")

