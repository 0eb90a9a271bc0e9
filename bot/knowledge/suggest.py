"""The articles the assistant would answer a text with, for an advisor to insert (issue 16).

`suggest(kb, text, parsed)` reads a person's words as the chat does:
- `parsed` is Rasa's NLU on the text (`RasaApi.parse`, the model the chat runs): a topic intent above
  the fallback threshold gives the topic's article for the country named (the chat's
  `action_answer_topic`, with its country rule: the country asked about before where the person is,
  never Peru);
- the knowledge search on the same text gives the rest (the chat's `action_kb_search`).
Without Rasa (`parsed` None: down, or the desk without its JWT secret) only the search answers, and
the result says so. Best first, no article twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot import countries
from bot.knowledge.base import KnowledgeBase

QUERY_CHARS = 2000  # the start of a long e-mail: where people put their question
LIMIT = 4
# config.yml's FallbackClassifier threshold: below it the chat does not trust the intent either.
CONFIDENCE = 0.45


@dataclass(frozen=True)
class Suggestion:
    article_id: str
    why: str  # "assistant" (the answer the chat would give) or "search" (the knowledge search)


def query_of(text: str) -> str:
    return (text or "").strip()[:QUERY_CHARS]


def country_of(parsed: dict[str, Any] | None, text: str) -> str | None:
    """The destination: the parse's country entities (asked about before located), else the text's."""
    entities = [e for e in (parsed or {}).get("entities") or [] if isinstance(e, dict) and e.get("entity") == "country"]
    values = [e.get("value") for e in sorted(entities, key=lambda e: e.get("role") == "location")]
    values += [m.slug for m in countries.find(text)]
    for value in values:
        slug = countries.normalize(value)
        if slug and slug not in (countries.HOME, countries.OTHER):
            return slug
    return None


def suggest(kb: KnowledgeBase, text: str, parsed: dict[str, Any] | None, limit: int = LIMIT) -> list[Suggestion]:
    query = query_of(text)
    if not query:
        return []
    found: list[Suggestion] = []
    intent = (parsed or {}).get("intent") or {}
    topic = kb.topic_by_intent.get(str(intent.get("name") or ""))
    if topic is not None and float(intent.get("confidence") or 0) >= CONFIDENCE:
        article = kb.for_topic(topic, country_of(parsed, query))
        if article is not None:
            found.append(Suggestion(article.id, "assistant"))
    for hit in kb.search(query, limit=limit):
        if all(s.article_id != hit.article_id for s in found):
            found.append(Suggestion(hit.article_id, "search"))
    return found[:limit]
