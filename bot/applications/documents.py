"""The filled certificate: the entry's Word template (``knowledge/templates/<id>.docx``) rendered
with the application's answers, the register number, the committee's name and the date.

Rendering happens when a cadre approves; the .docx is stored on the application and sent to that
cadre as a WeCom file message. The upload (``media/upload``) happens when the outbox row is
delivered, never in the handler's transaction: ``upload`` is the delivery's file source for rows
whose body is ``{"application": <id>}``. Temporary media expire after 3 days, so every attempt
uploads afresh.
"""
from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path

from docxtpl import DocxTemplate
from sqlalchemy.orm import object_session

from bot.errors import WeComError
from bot.models import Application
from bot.timeutil import to_local

TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "knowledge" / "templates"
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def template_path(certificate_id: str) -> Path:
    """The Word template of a certificate: knowledge/templates/<id>.docx."""
    return TEMPLATES_DIR / f"{certificate_id}.docx"


def committee_name(village: str) -> str:
    """楼冈社区居委会 → 楼冈社区居民委员会; 南屏村委会 → 南屏村民委员会 (the seal's name)."""
    for short, full in (("居委会", "居民委员会"), ("村委会", "村民委员会")):
        if village.endswith(short):
            return village[: -len(short)] + full
    return village


class DocumentError(Exception):
    """The template is missing or cannot be rendered (e.g. a placeholder broken while editing it in Word)."""


def render(app: Application, when: datetime) -> bytes:
    """The filled .docx for an approved application; raise ``DocumentError`` naming the template."""
    local = to_local(when)
    context = {**(app.fields or {}), "register_number": app.register_number or "",
               "village": committee_name(app.village), "date": f"{local.year}年{local.month}月{local.day}日"}
    path = template_path(app.certificate_id)
    try:
        doc = DocxTemplate(str(path))
        doc.render(context, autoescape=True)
        out = io.BytesIO()
        doc.save(out)
    except Exception as exc:  # docxtpl raises jinja2, python-docx and zip errors alike
        raise DocumentError(f"knowledge/templates/{path.name}: {type(exc).__name__}") from exc
    return out.getvalue()


def file_name(app: Application) -> str:
    """居（租）住情况证明-A12-楼冈〔2026〕第0012号.docx"""
    return f"{app.certificate_name}-A{app.number}-{app.register_number}.docx"


def upload(rt, row) -> dict:
    """Delivery's file source: upload the application's document, return the file message body."""
    session = object_session(row)
    app = session.get(Application, int(row.body["application"])) if session is not None else None
    if app is None or not app.document:
        raise WeComError(40007, "the document is no longer kept")  # erased: nothing to send, not retried
    media_id = rt.wecom.upload_media("file", app.document_name or file_name(app), app.document, DOCX_TYPE)
    return {"media_id": media_id}
