"""The bulletin as a printable Chinese page: plain HTML, one <style> element, no script.

Every value written into the page goes through ``_e`` (html.escape, quotes included); the
tables are built from the same section columns as the XLSX, so both read the same. The
style is a constant, so a Content-Security-Policy can allow it by its hash (``STYLE_CSP``)
instead of allowing inline styles at large.
"""

import base64
import hashlib
from collections.abc import Sequence
from datetime import date, datetime
from html import escape
from typing import Any

from app.clock import CAMPAIGN_TZ, utcnow
from app.reports.bulletin import Bulletin, Section, sections
from app.reports.export import ReportColumn, cell

STYLE = """
@page { size: A4; margin: 16mm 14mm; }
html { color: #000; background: #fff; }
body {
  margin: 0 auto; max-width: 190mm; padding: 8mm 0;
  font-family: "SimSun", "Songti SC", "Noto Serif CJK SC", "Source Han Serif SC", serif;
  font-size: 11pt; line-height: 1.5;
}
h1, h2, h3, th {
  font-family: "SimHei", "Heiti SC", "Noto Sans CJK SC", "Source Han Sans SC", sans-serif;
}
h1 {
  margin: 0; padding-bottom: 4pt; border-bottom: 2pt solid #c00;
  color: #c00; font-size: 20pt; text-align: center; letter-spacing: 2pt;
}
.meta { margin: 4pt 0 10pt; text-align: center; }
h2 { margin: 14pt 0 4pt; font-size: 14pt; break-after: avoid; page-break-after: avoid; }
h3 { margin: 8pt 0 2pt; font-size: 12pt; break-after: avoid; page-break-after: avoid; }
p { margin: 2pt 0 6pt; text-indent: 2em; }
p.none { color: #444; }
table { width: 100%; border-collapse: collapse; margin: 2pt 0 8pt; font-size: 9.5pt; }
thead { display: table-header-group; }
tr { break-inside: avoid; page-break-inside: avoid; }
th, td { border: 0.75pt solid #555; padding: 1.5pt 3pt; text-align: left; vertical-align: top; }
th { background: #f2dcdb; print-color-adjust: exact; -webkit-print-color-adjust: exact; }
td.n { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
tr.total td { font-weight: bold; }
footer { margin-top: 12pt; font-size: 9pt; color: #444; text-align: right; }
@media screen { body { padding: 8mm; } }
"""
# For the page's Content-Security-Policy: its one inline style, allowed by hash.
STYLE_HASH = "sha256-" + base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()
STYLE_CSP = (
    f"default-src 'none'; style-src '{STYLE_HASH}'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)
_NUMBERS = "一二三四五六七八九十"


def _e(value: Any) -> str:
    return escape(str(value), quote=True)


def _day(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def _text(value: Any, kind: str) -> str:
    value = cell(value)
    if value is None or value == "":
        return ""
    if kind == "percent" and isinstance(value, int | float):
        return f"{value:.1%}"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _table(columns: Sequence[ReportColumn], rows: Sequence[Any], total: Any = None) -> str:
    head = "".join(f"<th>{_e(c.header)}</th>" for c in columns)
    body = []
    for row in rows:
        tds = "".join(
            f'<td class="n">{_e(_text(c.value(row), c.kind))}</td>'
            if c.kind in ("number", "percent")
            else f"<td>{_e(_text(c.value(row), c.kind))}</td>"
            for c in columns
        )
        body.append(f'<tr class="total">{tds}</tr>' if row is total else f"<tr>{tds}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _summary(b: Bulletin) -> str:
    c = b.city
    corner_branches = len({x.branch_id for g in b.dead_corners for x in g.corners})
    parts = [
        f"纳入统计党员{_e(c.members)}名，参学{_e(c.participated)}名，"
        f"学时达标{_e(c.met_hours)}名，学习覆盖率{_e(_percent(c.coverage))}；",
        f"共组织学习{_e(c.sessions)}次，领导干部讲党课{_e(c.leader_lectures)}次。",
        f"学习形式单一的单位{_e(len(b.one_form_units))}个，"
        f"未开展领导干部讲党课的单位{_e(len(b.no_lecture_units))}个，"
        f"逾期单位{_e(len(b.overdue_units))}个，"
        f"软弱涣散基层党组织{_e(len(b.weak_branches))}个，"
        f"存在学习死角的支部{_e(corner_branches)}个。",
    ]
    return f"<p>{''.join(parts)}</p>"


def _section(number: int, s: Section, b: Bulletin) -> str:
    heading = f"<h2>{_NUMBERS[number - 1]}、{_e(s.title)}</h2>"
    if s.sheet == "学习死角":
        return heading + "".join(
            f"<h3>{_e(g.category.label)}（{_e(g.branches)}个支部，{_e(g.members)}名党员）</h3>"
            + (_table(s.page_columns[1:], g.corners) if g.corners else '<p class="none">无。</p>')
            for g in b.dead_corners
        )
    if s.sheet == "县区排名":
        return heading + _table(s.page_columns, s.rows, total=b.city)
    if not s.rows:
        return heading + '<p class="none">无。</p>'
    return heading + f"<p>共{_e(len(s.rows))}个。</p>" + _table(s.page_columns, s.rows)


def render_bulletin(b: Bulletin) -> str:
    batch = f"（{b.batch_name}）" if b.batch_name else ""
    made = utcnow().astimezone(CAMPAIGN_TZ).strftime("%Y-%m-%d %H:%M")
    body = [
        f"<h1>情况通报{_e(batch)}</h1>",
        f'<p class="meta">截至{_e(_day(b.as_of))}</p>',
        "<h2>一、总体情况</h2>",
        _summary(b),
        *(_section(n, s, b) for n, s in enumerate(sections(b), start=2)),
        f"<footer>生成于{_e(made)}</footer>",
    ]
    return (
        '<!DOCTYPE html>\n<html lang="zh-CN">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>情况通报{_e(batch)}（截至{_e(_day(b.as_of))}）</title>\n"
        f"<style>{STYLE}</style>\n</head>\n<body>\n" + "\n".join(body) + "\n</body>\n</html>\n"
    )
