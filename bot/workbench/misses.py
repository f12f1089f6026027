"""Questions the catalogue could not answer (``CatalogueMiss``), from residents in the cadre's area,
and the teach action (教一教): the chat's ``教 #n 事项`` / ``撤销教 #n`` through ``bot.teaching.service``,
learned for the cadre's jurisdiction."""
from __future__ import annotations

import logging

from flask import flash, redirect, request, url_for
from sqlalchemy import or_, select

from bot import privacy
from bot.models import CatalogueMiss, Person, TaughtPhrase
from bot.teaching import service as teaching
from bot.timeutil import fmt_local, utcnow
from bot.workbench import bp, export, rights
from bot.workbench.auth import current_person, db, log_action, page, refuse, require, wt
from knowledge.catalogue import load_catalogue

log = logging.getLogger(__name__)
LIST_MAX = 500


def _askers(person):
    s = db()
    patches = rights.patches_for(s, person)
    codes, villages = [p.code for p in patches], {p.village for p in patches}
    return select(Person.userid).where(or_(Person.patch.in_(codes), Person.village.in_(villages)))


def misses_for(person) -> list[CatalogueMiss]:
    """Newest first: misses from residents registered on a patch of the area (or naming its village)."""
    return list(db().scalars(select(CatalogueMiss).where(CatalogueMiss.user_id.in_(_askers(person)))
                             .order_by(CatalogueMiss.id.desc()).limit(LIST_MAX)))


def taught_for(person, miss_ids) -> dict[int, TaughtPhrase]:
    """What the cadre's jurisdiction has learned for these questions (active only), by question."""
    if not miss_ids:
        return {}
    rows = db().scalars(select(TaughtPhrase).where(TaughtPhrase.miss_id.in_(list(miss_ids)),
                                                   TaughtPhrase.jurisdiction == person.jurisdiction,
                                                   TaughtPhrase.active.is_(True)))
    return {r.miss_id: r for r in rows}


def _item_name(item_id: str) -> str:
    item = load_catalogue().items.get(item_id)
    return item.name if item else item_id


def _row(m: CatalogueMiss, taught: TaughtPhrase | None = None) -> dict:
    return {"id": m.id, "text": privacy.mask(m.text), "when": fmt_local(m.created_at),
            "outcome": wt(f"miss_{m.outcome}") if m.outcome in ("none", "rejected") else m.outcome,
            "forwarded": wt("word_yes") if m.forwarded else "",
            "taught": f"{taught.item_id} {_item_name(taught.item_id)}" if taught else ""}


@bp.get("/misses")
@require("misses")
def misses_page():
    """The list, one teach form per question (and 撤销 where something was taught)."""
    person = current_person()
    misses = misses_for(person)
    taught = taught_for(person, [m.id for m in misses])
    rows = [_row(m, taught.get(m.id)) for m in misses]
    return page("misses.html", rows=rows, export_url=url_for("workbench.misses_export"))


@bp.post("/misses/<int:miss_id>/<action>")
@require("misses")
def miss_teach(miss_id: int, action: str):
    """教一教 (``entry``: a catalogue entry's id or name) or 撤销, for the cadre's jurisdiction."""
    s, person, now = db(), current_person(), utcnow()
    if action not in ("teach", "retire"):
        return refuse(404, wt("forbidden"))
    miss = s.scalar(select(CatalogueMiss).where(CatalogueMiss.id == miss_id,
                                                CatalogueMiss.user_id.in_(_askers(person))))
    if person.role != "cadre" or not person.jurisdiction or miss is None:
        return refuse(404 if miss is None else 403, wt("miss_not_found", number=miss_id))
    if action == "retire":
        row = teaching.retire(s, miss.id, person, now)
        s.commit()
        log_action("retire_teach", outcome="ok" if row else "nothing")
        flash(wt("teach_retired" if row else "teach_nothing_to_retire", number=miss.id,
                 jurisdiction=person.jurisdiction))
        return redirect(url_for("workbench.misses_page"))
    name = (request.form.get("entry") or "").strip()[:100]
    item = teaching.resolve_entry(name) if name else None
    if item is None:
        log_action("teach", outcome="refused:no_entry")
        flash(wt("teach_no_entry", name=name), "error")
        return redirect(url_for("workbench.misses_page"))
    teaching.teach(s, miss, item, person, now)
    s.commit()
    log.info("taught question %s as %s for %s by %s", miss.id, item.id, person.jurisdiction, person.userid)
    log_action("teach")
    flash(wt("teach_done", number=miss.id, text=privacy.mask(miss.text[:60]), name=item.name,
             jurisdiction=person.jurisdiction))
    return redirect(url_for("workbench.misses_page"))


@bp.get("/misses/export")
@require("misses")
def misses_export():
    person = current_person()
    misses = misses_for(person)
    taught = taught_for(person, [m.id for m in misses])
    rows = [_row(m, taught.get(m.id)) for m in misses]
    log_action("export_misses")
    return export.xlsx_response("misses", wt("sheet_misses"), export.columns("export_misses"),
                                ([r["id"], r["when"], r["text"], r["outcome"], r["forwarded"], r["taught"]]
                                 for r in rows))
