"""The whole knowledge base as one HTML page, for staff to proof-read in a browser.

Table of contents by line of action and country; each article with its id, dates, review state,
keywords, body and official sources. Self-contained: no scripts, no external styles.
"""

from __future__ import annotations

import datetime as dt
import html
import re

from bot import countries
from bot.knowledge.base import KnowledgeBase
from bot.knowledge.model import KB_LINK, LINES, Article

_EXTERNAL = re.compile(r"\[([^\]]+)\]\((https://[^)\s]+)\)")
_BOLD = re.compile(r"\*\*(.+?)\*\*")
_NUMBERED = re.compile(r"^\d+[.)]\s+")

STYLE = """
body{font-family:system-ui,sans-serif;max-width:860px;margin:2rem auto;padding:0 1rem;color:#1b1b1b;line-height:1.5}
h1{color:#b3001b}h2{border-bottom:2px solid #b3001b;padding-bottom:.2rem;margin-top:2.5rem}
article{border:1px solid #ddd;border-radius:8px;padding:1rem 1.2rem;margin:1.2rem 0}
.meta{font-size:.85rem;color:#555}.stale{color:#b3001b;font-weight:bold}.soon{color:#a15c00;font-weight:bold}
.kw{font-size:.85rem;color:#555}nav ul{columns:2}code{background:#f3f3f3;padding:0 .3rem}
@media print{nav{display:none}article{break-inside:avoid}}
"""


def _inline(text: str) -> str:
    out = html.escape(text, quote=False)
    out = KB_LINK.sub(lambda m: f'<a href="#{m.group(2)}">{m.group(1)}</a>', out)
    out = _EXTERNAL.sub(lambda m: f'<a href="{m.group(2)}">{m.group(1)}</a>', out)
    return _BOLD.sub(r"<strong>\1</strong>", out)


def body_html(body: str) -> str:
    blocks = []
    for block in (b.strip() for b in body.split("\n\n") if b.strip()):
        lines = block.splitlines()
        if all(_NUMBERED.match(ln) for ln in lines):
            items = "".join(f"<li>{_inline(_NUMBERED.sub('', ln))}</li>" for ln in lines)
            blocks.append(f"<ol>{items}</ol>")
        elif all(ln.startswith("- ") for ln in lines):
            blocks.append("<ul>" + "".join(f"<li>{_inline(ln[2:])}</li>" for ln in lines) + "</ul>")
        else:
            blocks.append("<p>" + "<br>".join(_inline(ln) for ln in lines) + "</p>")
    return "\n".join(blocks)


def _state(article: Article, today: dt.date) -> str:
    if article.review_by < today:
        return f'<span class="stale">revisión vencida ({article.review_by:%d/%m/%Y})</span>'
    if article.review_by <= today + dt.timedelta(days=30):
        return f'<span class="soon">revisar antes del {article.review_by:%d/%m/%Y}</span>'
    return f"revisar antes del {article.review_by:%d/%m/%Y}"


def _article(article: Article, today: dt.date) -> str:
    place = f" · {countries.name(article.country)}" if article.country else ""
    sources = "".join(f'<li><a href="{html.escape(s.url)}">{html.escape(s.title)}</a></li>' for s in article.sources)
    return (
        f'<article id="{article.id}"><h3>{html.escape(article.title)}</h3>'
        f'<p class="meta"><code>{article.id}</code>{place} · actualizado {article.last_reviewed:%d/%m/%Y} · '
        f"{_state(article, today)}</p>"
        f'<p class="kw">Palabras clave: {html.escape(", ".join(article.keywords))}</p>'
        f"{body_html(article.body)}<p><strong>Fuentes oficiales</strong></p><ul>{sources}</ul></article>"
    )


def render_html(kb: KnowledgeBase, today: dt.date | None = None) -> str:
    today = today or dt.date.today()
    ordered = sorted(kb.articles.values(), key=lambda a: (list(LINES).index(a.line), a.topic, a.country or ""))
    toc, sections = [], []
    for line, label in LINES.items():
        articles = [a for a in ordered if a.line == line]
        if not articles:
            continue
        toc.append(f'<li><a href="#linea-{line}">{html.escape(label)}</a> ({len(articles)})</li>')
        entries = "".join(
            f'<li><a href="#{a.id}">{html.escape(a.title)}</a>'
            f'{" · " + countries.name(a.country) if a.country else ""}</li>'
            for a in articles
        )
        body = "".join(_article(a, today) for a in articles)
        sections.append(f'<section><h2 id="linea-{line}">{html.escape(label)}</h2><ul>{entries}</ul>{body}</section>')
    stale = len(kb.stale(today, within_days=0))
    return (
        '<!doctype html><html lang="es"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>Base de conocimiento PERÚ INFOMIGRA</title><style>{STYLE}</style></head><body>"
        "<h1>Base de conocimiento PERÚ INFOMIGRA</h1>"
        f'<p class="meta">{len(kb)} artículos · generado el {today:%d/%m/%Y} · {stale} con revisión vencida</p>'
        f"<nav><h2>Contenido</h2><ul>{''.join(toc)}</ul></nav>{''.join(sections)}</body></html>"
    )
