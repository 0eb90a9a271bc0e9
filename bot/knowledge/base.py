"""The knowledge base: every article under `knowledge/`, loaded and checked once."""

from __future__ import annotations

import datetime as dt
from functools import cached_property
from pathlib import Path

from bot.knowledge.model import Article, KnowledgeError, parse_article
from bot.knowledge.search import Hit, SearchIndex

DEFAULT_ROOT = Path(__file__).resolve().parents[2] / "knowledge"

# Topics reached through an intent of their own name would be wrong for these: the topic is a
# flow, entered by the named intent (the suggestion form of line 3).
ENTRY_INTENTS: dict[str, str] = {"exterior/voz-del-migrante": "dejar_sugerencia"}


def intent_for_topic(topic: str) -> str:
    """`emigrar/primeros-pasos` → `emigrar_primeros_pasos`."""
    return ENTRY_INTENTS.get(topic) or topic.replace("/", "_").replace("-", "_")


class KnowledgeBase:
    def __init__(self, articles: dict[str, Article]):
        self.articles = articles

    def __len__(self) -> int:
        return len(self.articles)

    def get(self, article_id: str) -> Article | None:
        return self.articles.get(article_id)

    @cached_property
    def topics(self) -> dict[str, bool]:
        """Every topic, with True when it has per-country articles."""
        result: dict[str, bool] = {}
        for article in self.articles.values():
            result[article.topic] = result.get(article.topic, False) or article.country is not None
        return result

    @cached_property
    def topic_by_intent(self) -> dict[str, str]:
        return {intent_for_topic(topic): topic for topic in self.topics}

    def is_per_country(self, topic: str) -> bool:
        return self.topics.get(topic, False)

    def countries_of(self, topic: str) -> list[str]:
        return sorted(a.country for a in self.articles.values() if a.topic == topic and a.country)

    def for_topic(self, topic: str, country: str | None = None) -> Article | None:
        """The article of a topic for a country, or the topic's overview when there is none."""
        if country:
            article = self.articles.get(f"{topic}/{country}")
            if article:
                return article
        return self.articles.get(topic)

    @cached_property
    def index(self) -> SearchIndex:
        return SearchIndex(self.articles.values())

    def search(self, query: str, limit: int = 3) -> list[Hit]:
        return self.index.search(query, limit)

    def stale(self, today: dt.date, within_days: int = 30) -> list[Article]:
        """Articles past their review date or due within `within_days`, most urgent first."""
        horizon = today + dt.timedelta(days=within_days)
        due = [a for a in self.articles.values() if a.review_by <= horizon]
        return sorted(due, key=lambda a: (a.review_by, a.id))


def load(root: Path | str = DEFAULT_ROOT, today: dt.date | None = None) -> KnowledgeBase:
    """Load and check every article; raise KnowledgeError listing every problem with its file."""
    root = Path(root)
    problems: list[str] = []
    articles: dict[str, Article] = {}
    files = sorted(p for p in root.rglob("*.md") if p.name != "README.md")
    if not files:
        raise KnowledgeError([f"{root}: no articles found"])
    for path in files:
        article, found = parse_article(path, root, today)
        problems.extend(found)
        # The id must equal the file's path, so two files can never share an id.
        if article is not None:
            articles[article.id] = article
    for article in articles.values():
        for _, target in article.links:
            if target not in articles:
                problems.append(f"{article.path}: link to missing article '{target}'")
    if problems:
        raise KnowledgeError(problems)
    return KnowledgeBase(articles)
