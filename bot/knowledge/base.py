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
    """`articles` holds the Spanish articles by id (topics, search, review and counts use only
    these); `variants` holds the translations by language, then id (`variants["en"]["peru/andinos"]`)."""

    def __init__(self, articles: dict[str, Article], variants: dict[str, dict[str, Article]] | None = None):
        self.articles = articles
        self.variants = variants or {}

    def __len__(self) -> int:
        return len(self.articles)

    def get(self, article_id: str, lang: str = "es") -> Article | None:
        """The article in `lang`; None when it has no variant in that language (no fallback)."""
        if lang == "es":
            return self.articles.get(article_id)
        return self.variants.get(lang, {}).get(article_id)

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

    def for_topic(self, topic: str, country: str | None = None, lang: str = "es") -> Article | None:
        """The article of a topic for a country, or the topic's overview when there is none.

        In another language: the variant of the very article chosen in Spanish, or None when that
        article has no variant (never a less specific one, nor the Spanish text)."""
        article = None
        if country:
            article = self.articles.get(f"{topic}/{country}")
        article = article or self.articles.get(topic)
        if article is None or lang == "es":
            return article
        return self.get(article.id, lang)

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
    variants: dict[str, dict[str, Article]] = {}
    files = sorted(p for p in root.rglob("*.md") if p.name != "README.md")
    if not files:
        raise KnowledgeError([f"{root}: no articles found"])
    for path in files:
        article, found = parse_article(path, root, today)
        problems.extend(found)
        # The id must equal the file's path, so two files can never share an id and language.
        if article is not None and article.lang == "es":
            articles[article.id] = article
        elif article is not None:
            variants.setdefault(article.lang, {})[article.id] = article
    for variant in (v for by_id in variants.values() for v in by_id.values()):
        original = articles.get(variant.id)
        if original is None:
            problems.append(f"{variant.path}: '{variant.lang}' variant of '{variant.id}' has no Spanish original ({variant.id}.md)")
        elif variant.country != original.country:
            problems.append(f"{variant.path}: country '{variant.country}' differs from the Spanish original's '{original.country}'")
    for article in [*articles.values(), *(v for by_id in variants.values() for v in by_id.values())]:
        for _, target in article.links:
            if target not in articles:
                problems.append(f"{article.path}: link to missing article '{target}'")
    if problems:
        raise KnowledgeError(problems)
    return KnowledgeBase(articles, variants)
