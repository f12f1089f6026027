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
@click.option("--texts", "texts_dir", default=None, help="texts folder (default: knowledge/texts)")
def check(directory: str | None, texts_dir: str | None) -> None:
    """Validate the catalogue, categories, deadlines and texts; list every mistake with file, entry and field."""
    from knowledge.catalogue import Catalogue
    from knowledge.catalogue import check as check_catalogue
    from knowledge.matcher import Matcher

    errors, items = check_catalogue(directory)
    if errors:
        for line in errors:
            click.echo(line, err=True)
        click.echo(f"{len(errors)} error(s)", err=True)
        sys.exit(1)
    from knowledge import concepts

    try:
        lexicon = concepts.parse(__import__("knowledge.yamlio", fromlist=["safe_load"]).safe_load(concepts.CONCEPTS_FILE.read_text(encoding="utf-8")) or {})
    except concepts.ConceptError as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)
    from bot.tickets.categories import categories as report_categories
    from knowledge import examples

    try:
        phrasings = examples.question_examples(set(items))
        reports = examples.complaint_examples({c.id for c in report_categories()})
    except examples.ExampleError as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)
    Matcher(Catalogue(items), phrasings)  # the index and the learned scorer build from these entries
    if directory is None:
        _warm_model_cache()
    click.echo(f"OK: {len(lexicon)} residents' words in the concept lexicon")
    missing = sorted(set(items) - set(phrasings))
    click.echo(f"OK: {sum(map(len, phrasings.values()))} example questions for {len(phrasings)} entries and topics"
               + (f"; none yet for {', '.join(missing)}" if missing else ""))
    click.echo(f"OK: {sum(map(len, reports.values()))} example reports for {len(reports)} categories and danger")
    counts: dict[str, int] = {}
    for item in items.values():
        key = f"{item.kind}:{item.duty_list}" if item.kind == "duty" else item.kind
        counts[key] = counts.get(key, 0) + 1
    summary = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
    samples = sum(1 for item in items.values() if item.get("sample"))
    click.echo(f"OK: {len(items)} entries ({summary}); {samples} marked as sample")
    _check_tickets_knowledge()
    _check_texts(texts_dir)
    click.echo("OK: every text loads whole (no text cut by a YAML comment, quotes and brackets balanced, "
               "placeholders known to the code)")


def _warm_model_cache() -> None:
    """Train the report scorers too (category, danger) and keep all of them in the model cache, so that
    the restart after an edit reads them instead of training: about a second instead of three or four."""
    import time

    from bot.tickets.categories import learned_scorer
    from bot.tickets.words import danger_model, danger_scorer
    from knowledge import modelcache

    start = time.perf_counter()
    learned_scorer(), danger_scorer(), danger_model()
    where = modelcache.directory()
    if where is not None:
        click.echo(f"OK: every scorer trained ({time.perf_counter() - start:.1f} s) and kept in {where}: "
                   "the next start reads them")


def _check_texts(directory: str | None) -> None:
    """Every text loads whole: nothing cut by a YAML comment, quotes and brackets balanced, and only
    placeholders the code fills in (see bot/texts.py)."""
    from bot import texts

    errors = texts.check(directory)
    if errors:
        for line in errors:
            click.echo(line, err=True)
        click.echo(f"{len(errors)} error(s) in the texts", err=True)
        sys.exit(1)


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
    _check_holiday_calendar()


def _check_holiday_calendar() -> None:
    """Warn (without failing) when the holiday calendar has no data for next year yet: working-day
    deadlines reaching into it would count Monday to Friday only."""
    from importlib import metadata

    from bot import workdays
    from bot.timeutil import to_local, utcnow

    year = to_local(utcnow()).year + 1
    if not workdays.covered(year):
        click.echo(f"Warning: the holiday calendar (chinesecalendar {metadata.version('chinesecalendar')}) has no "
                   f"data for {year}: working-day deadlines reaching into {year} count Monday to Friday only, "
                   "without holidays or 调休. Upgrade it (pip install -U chinesecalendar) once the State Council "
                   "publishes the schedule, usually in November.", err=True)


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
                   func.min(CatalogueMiss.text), func.sum(case((CatalogueMiss.forwarded, 1), else_=0)),
                   func.max(CatalogueMiss.id))
            .where(CatalogueMiss.created_at >= since)
            .group_by(CatalogueMiss.normalized)
            .order_by(func.count(CatalogueMiss.id).desc(), func.max(CatalogueMiss.created_at).desc())
            .limit(limit)
        ).all()
    if not rows:
        click.echo(f"No unanswered questions in the last {days} days.")
        return
    click.echo(f"Unanswered questions, last {days} days (#number for 教 #n, times asked, forwarded, last asked, example):")
    for _norm, count, last, example, forwarded, number in rows:
        click.echo(f"#{number:<5} {count:>4}  {int(forwarded or 0):>3}  {fmt_local(last)}  {example}")


@knowledge.command()
@click.option("--export", "export_file", type=click.Path(dir_okay=False), default=None,
              help="write the taught phrasings as YAML aliases by entry id")
def taught(export_file: str | None) -> None:
    """What cadres taught (教 #n): list it, or export it for the catalogue files."""
    import yaml
    from sqlalchemy import select

    from bot.config import Config
    from bot.db import require_schema, session_scope
    from bot.models import TaughtPhrase
    from bot.teaching.service import export

    url = Config.from_env(require_wecom=False).DATABASE_URL
    require_schema(url)
    with session_scope(url) as s:
        if export_file:
            data = export(s)
            with open(export_file, "w", encoding="utf-8") as f:
                f.write("# 干部在聊天里教的说法（教 #编号），按目录编号整理：核对后可加进 knowledge/catalogue/*.yaml 的 aliases\n")
                yaml.safe_dump(data, f, allow_unicode=True, sort_keys=True)
            click.echo(f"{export_file}: {sum(len(v) for v in data.values())} phrasings for {len(data)} entries")
            return
        rows = s.scalars(select(TaughtPhrase).order_by(TaughtPhrase.id)).all()
        if not rows:
            click.echo("Nothing taught yet.")
        for row in rows:
            state = "active" if row.active else f"retired by {row.retired_by}"
            click.echo(f"#{row.miss_id} {row.item_id} {row.jurisdiction} by {row.taught_by} ({state}): {row.text}")

