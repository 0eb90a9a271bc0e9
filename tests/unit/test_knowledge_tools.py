"""The staff tools of the knowledge base: the proof-reading page and the review list."""

import datetime as dt
import html
import re

from bot import knowledge
from bot.cli import main


def test_html_page_has_every_article_with_its_sources_and_a_table_of_contents(tmp_path):
    out = tmp_path / "kb.html"
    assert main(["kb", "html", "--out", str(out)]) == 0
    page = out.read_text(encoding="utf-8")
    kb = knowledge.load()
    anchors = set(re.findall(r'<article id="([^"]+)"', page))
    assert anchors == set(kb.articles)
    for article in kb.articles.values():
        assert f'href="#{article.id}"' in page  # in the table of contents
        for source in article.sources:
            assert html.escape(source.url) in page
    assert "<script" not in page


def test_stale_command_lists_overdue_articles_first(capsys):
    kb = knowledge.load()
    latest = max(a.review_by for a in kb.articles.values())
    assert main(["kb", "stale", "--today", (latest + dt.timedelta(days=1)).isoformat(), "--days", "0"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == len(kb)
    assert all("VENCIDO" in line for line in lines)
    dates = [line.split()[0] for line in lines]
    assert dates == sorted(dates)
