"""Write the sample Word templates, one per certificate that can be applied for in chat, in the
format of the entry's ``wording`` (``knowledge/templates/<id>.docx``).

Run once (``python -m bot.applications.make_templates``) and commit the files; a cadre then edits
them in Word. Placeholders are ``{{ field key }}`` plus ``{{ register_number }}``, ``{{ village }}``
and ``{{ date }}``; at run time only docxtpl renders them. Existing files are kept unless ``--force``.
"""
from __future__ import annotations

import sys
from pathlib import Path

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Pt

TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "knowledge" / "templates"

# The body of each certificate, after the entry's ``wording`` (sample formats, like the catalogue).
BODIES = {
    "R1": "兹证明 {{ name }}（身份证号 {{ id_number }}）自 {{ since }}起{{ housing }}在 {{ address }}。"
          "用途：{{ purpose }}。特此证明。",
    "R2": "兹证明 {{ name }}（身份证号 {{ id_number }}）户位于 {{ address }} 的房屋（宅基地）于 {{ acquired_year }}"
          "通过{{ how }}取得，四至为 {{ bounds }}，经公示无异议。特此证明。",
    "R3": "经核实，{{ name }} 同学（身份证号 {{ id_number }}，就读于 {{ school }}，家长 {{ guardian }}）"
          "家庭情况属实：{{ situation }}。（填写在学校表格“村（居）委会意见”栏时照此填写。）",
    "R5": "经了解，{{ name }}（身份证号 {{ id_number }}）婚姻状况为 {{ marriage }}，家庭情况 {{ family }}，"
          "具备抚养教育被收养人的能力。",
    "R6": "兹证明 {{ name }} 同学（{{ school }}）于 {{ start }}至{{ end }}在本社区参加 {{ activity }}活动，"
          "共 {{ hours | replace('小时', '') }}小时。",   # 20 or 20小时 both read 共 20小时
}


def _run(paragraph, text: str, size: int = 14, bold: bool = False):
    run = paragraph.add_run(text)  # one run per placeholder-bearing text: Word must not split a {{ }}
    run.bold = bold
    run.font.size = Pt(size)
    run.font.name = "SimSun"
    run.element.rPr.rFonts.set(qn("w:eastAsia"), "宋体")
    return run


def write(entry_id: str, name: str, path: Path) -> None:
    """One template: title, register number, body, the committee and the date."""
    doc = Document()
    title = doc.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _run(title, name, 22, bold=True)
    number = doc.add_paragraph()
    number.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    _run(number, "{{ register_number }}", 12)
    body = doc.add_paragraph()
    body.paragraph_format.first_line_indent = Pt(28)
    body.paragraph_format.line_spacing = 1.5
    _run(body, BODIES[entry_id])
    doc.add_paragraph()
    for text in ("{{ village }}（盖章）", "{{ date }}"):
        p = doc.add_paragraph()
        p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        _run(p, text)
    note = doc.add_paragraph()
    _run(note, "（示例式样，以开平市民政部门公布的式样为准）", 9)
    doc.save(path)


def main(argv: list[str]) -> int:
    """Write the missing templates (all with --force)."""
    import yaml

    from knowledge.catalogue import CATALOGUE_DIR

    # the names straight from the file: the validated catalogue refuses entries whose template is missing
    entries = yaml.safe_load((CATALOGUE_DIR / "retained.yaml").read_text(encoding="utf-8"))
    names = {e["id"]: e["name"] for e in entries}
    TEMPLATES_DIR.mkdir(parents=True, exist_ok=True)
    for entry_id, _ in BODIES.items():
        path = TEMPLATES_DIR / f"{entry_id}.docx"
        if path.exists() and "--force" not in argv:
            continue
        write(entry_id, names[entry_id], path)
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
