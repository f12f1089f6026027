"""Questions the catalogue could not answer (``CatalogueMiss``), from residents in the cadre's area."""
from __future__ import annotations

from flask import url_for
from sqlalchemy import or_, select

from bot import privacy
from bot.models import CatalogueMiss, Person
from bot.timeutil import fmt_local
from bot.workbench import bp, export, rights
from bot.workbench.auth import current_person, db, log_action, page, require, wt

LIST_MAX = 500


def misses_for(person) -> list[CatalogueMiss]:
    """Newest first: misses from residents registered on a patch of the area (or naming its village)."""
    s = db()
    codes = [p.code for p in rights.patches_for(s, person)]
    villages = {p.village for p in rights.patches_for(s, person)}
    askers = select(Person.userid).where(or_(Person.patch.in_(codes), Person.village.in_(villages)))
    return list(s.scalars(select(CatalogueMiss).where(CatalogueMiss.user_id.in_(askers))
                          .order_by(CatalogueMiss.id.desc()).limit(LIST_MAX)))


def _row(m: CatalogueMiss) -> dict:
    return {"id": m.id, "text": privacy.mask(m.text), "when": fmt_local(m.created_at),
            "outcome": wt(f"miss_{m.outcome}") if m.outcome in ("none", "rejected") else m.outcome,
            "forwarded": wt("word_yes") if m.forwarded else ""}


@bp.get("/misses")
@require("misses")
def misses_page():
    """The list, with the place where the teach action goes."""
    rows = [_row(m) for m in misses_for(current_person())]
    # TEACH: the "教一教" action (add the question to a catalogue entry) belongs here, one form per row,
    # POSTing to its own view in this module; the template marks the column (misses.html, "teach").
    return page("misses.html", rows=rows, export_url=url_for("workbench.misses_export"))


@bp.get("/misses/export")
@require("misses")
def misses_export():
    rows = [_row(m) for m in misses_for(current_person())]
    log_action("export_misses")
    return export.xlsx_response("misses", wt("sheet_misses"), export.columns("export_misses"),
                                ([r["id"], r["when"], r["text"], r["outcome"], r["forwarded"]] for r in rows))
