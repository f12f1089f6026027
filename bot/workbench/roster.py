"""The roster within the person's area: patches, their grid workers and building heads, cadres,
and how many residents each patch has (phone numbers masked)."""
from __future__ import annotations

from flask import url_for
from sqlalchemy import func, or_, select

from bot.models import Person
from bot.tickets.service import mask_phone
from bot.workbench import bp, export, rights
from bot.workbench.auth import current_person, db, log_action, page, require, role_name, wt

STAFF_ROLES = ("grid_worker", "building_head", "cadre")


def roster_for(person):
    s = db()
    patches = rights.patches_for(s, person)
    codes = [p.code for p in patches]
    places = {p.village for p in patches} | {p.town for p in patches}
    staff = list(s.scalars(select(Person).where(Person.role.in_(STAFF_ROLES), or_(
        Person.patch.in_(codes), Person.jurisdiction.in_(places))).order_by(Person.role, Person.patch, Person.id)))
    residents = dict(s.execute(select(Person.patch, func.count()).where(
        Person.role == "resident", Person.patch.in_(codes)).group_by(Person.patch)).all())
    workers: dict[str, list[str]] = {}
    for p in staff:
        if p.role == "grid_worker" and p.patch:
            workers.setdefault(p.patch, []).append(p.name)
    return patches, staff, residents, workers


def _person_row(p: Person) -> list:
    return [p.name, role_name(p.role), p.patch or "", p.jurisdiction or p.department or "", p.kind or "",
            mask_phone(p.mobile) if p.mobile else ""]


@bp.get("/roster")
@require("roster")
def roster_page():
    patches, staff, residents, workers = roster_for(current_person())
    return page("roster.html", patches=patches, staff=[_person_row(p) for p in staff], residents=residents,
                workers=workers, export_url=url_for("workbench.roster_export"))


@bp.get("/roster/export")
@require("roster")
def roster_export():
    patches, staff, residents, workers = roster_for(current_person())
    rows = [[p.code, p.name, p.village, p.town, "、".join(workers.get(p.code, [])), residents.get(p.code, 0),
             p.lat, p.lng, p.radius_m] for p in patches]
    log_action("export_roster")
    return export.xlsx_sheets("roster", [
        (wt("sheet_roster"), export.columns("export_roster"), rows),
        (wt("sheet_people"), export.columns("export_people"), [_person_row(p) for p in staff])])
