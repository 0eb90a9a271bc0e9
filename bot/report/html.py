"""The report as one self-contained HTML file: styles inline, charts as base64 PNG, no scripts and
nothing fetched from anywhere, laid out to be read on screen and printed on A4."""

from __future__ import annotations

import base64
import hashlib
import re

import jinja2

from bot.report.build import month_name
from bot.report.model import HIDDEN, SMALL, Report, show
from bot.suggestions import dates

CSS = """
:root { --red: #b5121b; --ink: #1f2328; --muted: #5b616b; --line: #d9dce1; --soft: #f5f6f8; }
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0; color: var(--ink); background: #fff; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto,
  "Helvetica Neue", Arial, sans-serif; }
.page { max-width: 1040px; margin: 0 auto; padding: 28px 28px 48px; }
header.cover { border-bottom: 4px solid var(--red); padding-bottom: 14px; margin-bottom: 22px; }
.service { margin: 0; color: var(--red); font-weight: 700; letter-spacing: .04em; text-transform: uppercase; font-size: 13px; }
h1 { margin: 4px 0 6px; font-size: 28px; line-height: 1.2; }
.meta { margin: 0; color: var(--muted); font-size: 13px; }
.warning { border-left: 4px solid #c77700; background: #fff6e5; padding: 8px 12px; margin: 12px 0; }
.highlights { display: grid; grid-template-columns: repeat(auto-fit, minmax(150px, 1fr)); gap: 10px; margin: 0 0 18px;
  padding: 0; list-style: none; }
.highlights li { border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px; background: var(--soft); }
.highlights .value { display: block; font-size: 24px; font-weight: 700; color: var(--ink); }
.highlights .label { display: block; font-size: 12px; color: var(--muted); }
nav.toc { font-size: 13px; margin: 0 0 8px; }
nav.toc ol { margin: 4px 0 0; padding-left: 20px; columns: 2; }
section.block { margin-top: 30px; }
h2 { font-size: 21px; margin: 0 0 6px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
h3 { font-size: 16px; margin: 18px 0 6px; }
.intro { color: var(--muted); margin: 0 0 10px; max-width: 80ch; }
figure { margin: 12px 0 16px; break-inside: avoid; }
figure img { display: block; max-width: 100%; height: auto; }
figcaption { font-size: 12px; color: var(--muted); }
.table-wrap { overflow-x: auto; break-inside: auto; }
table { border-collapse: collapse; width: 100%; font-size: 13px; margin: 4px 0 4px; }
table.compact { width: auto; min-width: min(100%, 520px); }
caption { text-align: left; font-weight: 700; font-size: 15px; padding: 6px 0; }
th, td { border-bottom: 1px solid var(--line); padding: 5px 8px; text-align: left; vertical-align: top; }
thead th { background: var(--soft); border-bottom: 2px solid var(--line); font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tbody tr:nth-child(even) td { background: #fafbfc; }
tr { break-inside: avoid; }
td.empty { color: var(--muted); font-style: italic; }
.note { font-size: 12px; color: var(--muted); margin: 2px 0 10px; }
footer.legend { margin-top: 36px; padding-top: 10px; border-top: 1px solid var(--line); font-size: 12px; color: var(--muted); }
@media (max-width: 640px) { .page { padding: 16px; } h1 { font-size: 22px; } nav.toc ol { columns: 1; } }
@page { size: A4; margin: 14mm 12mm 16mm; }
@media print {
  body { font-size: 10.5pt; }
  .page { max-width: none; padding: 0; }
  nav.toc { display: none; }
  section.block { break-before: page; margin-top: 0; }
  section.block:first-of-type { break-before: auto; }
  thead { display: table-header-group; }
  .table-wrap { overflow: visible; }
  .highlights li, tbody tr:nth-child(even) td, thead th { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  a { color: inherit; text-decoration: none; }
}
"""

TEMPLATE = """<!doctype html>
<html lang="es">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="infomigra report">
<title>Informe mensual {{ period }} · PERÚ INFOMIGRA</title>
<style>{{ css|safe }}</style>
</head>
<body>
<div class="page">
<header class="cover">
  <p class="service">PERÚ INFOMIGRA · Ministerio de Trabajo y Promoción del Empleo</p>
  <h1>Informe mensual del asistente virtual: {{ period }}</h1>
  <p class="meta">Generado el {{ generated }} (hora del Perú). Fuente: conversaciones del asistente y registros del servicio.
  Directiva General N° 001-2011-MTPE/3/17, numeral 5.4.6.</p>
</header>
<main>
{% for warning in report.warnings %}<p class="warning" role="note">{{ warning }}</p>{% endfor %}
<ul class="highlights" aria-label="Cifras del mes">
{% for label, value in report.highlights %}
  <li><span class="value">{{ show(value) }}</span><span class="label">{{ label }}</span></li>
{% endfor %}
</ul>
<nav class="toc" aria-label="Contenido"><strong>Contenido</strong>
  <ol>{% for section in report.sections %}<li><a href="#{{ section.key }}">{{ section.title }}</a></li>{% endfor %}</ol>
</nav>
{% for section in report.sections %}
<section class="block" id="{{ section.key }}" aria-labelledby="{{ section.key }}-title">
  <h2 id="{{ section.key }}-title">{{ loop.index }}. {{ section.title }}</h2>
  {% if section.intro %}<p class="intro">{{ section.intro }}</p>{% endif %}
  {% for note in section.notes %}<p class="note">{{ note }}</p>{% endfor %}
  {% for figure in section.figures %}
  <figure>
    <img src="data:image/png;base64,{{ figure.png_base64 }}" alt="{{ figure.alt }}">
    <figcaption>{{ figure.title }}</figcaption>
  </figure>
  {% endfor %}
  {% for table in section.tables %}
  <div class="table-wrap">
  <table id="t-{{ table.key }}"{% if table.compact %} class="compact"{% endif %}>
    <caption>{{ table.title }}</caption>
    <thead><tr>{% for column in table.columns %}
      <th scope="col"{% if table.right_aligned(loop.index0) %} class="num"{% endif %}>{{ column }}</th>
    {% endfor %}</tr></thead>
    <tbody>
    {% for row in table.shown_rows() %}
      <tr>{% for cell in row %}<td{% if table.right_aligned(loop.index0) %} class="num"{% endif %}>{{ cell }}</td>{% endfor %}</tr>
    {% else %}
      <tr><td class="empty" colspan="{{ table.columns|length }}">{{ table.empty }}</td></tr>
    {% endfor %}
    </tbody>
  </table>
  </div>
  {% if table.note and table.limit and table.rows|length > table.limit %}<p class="note">{{ table.note }}</p>
  {% elif table.note and not table.limit %}<p class="note">{{ table.note }}</p>{% endif %}
  {% endfor %}
</section>
{% endfor %}
</main>
<footer class="legend">
  Para proteger a las personas, las celdas con 1 a {{ small - 1 }} casos se muestran como «{{ hidden }}», y los porcentajes
  y promedios calculados sobre menos de {{ small }} casos (o que revelarían una cifra oculta) se muestran como «—».
  Cada tabla está también en un archivo CSV.
</footer>
</div>
</body>
</html>
"""

_ENV = jinja2.Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined)
_STYLE = re.compile(r"<style>(.*?)</style>", re.DOTALL)


def render(report: Report) -> str:
    generated = report.generated_at.astimezone(dates.LIMA)
    return _ENV.from_string(TEMPLATE).render(
        report=report, css=CSS, show=show, period=month_name(report.month), generated=f"{generated:%d/%m/%Y %H:%M}",
        small=SMALL, hidden=HIDDEN)


def style_hashes(html: str) -> list[str]:
    """CSP sources ('sha256-…') of the inline <style> blocks of a report, to serve it without 'unsafe-inline'."""
    return [f"'sha256-{base64.b64encode(hashlib.sha256(block.encode()).digest()).decode()}'" for block in _STYLE.findall(html)]
