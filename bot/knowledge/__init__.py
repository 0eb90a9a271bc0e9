"""The knowledge engine: articles in `knowledge/`, checked at load, searched and rendered."""

from bot.knowledge.base import KnowledgeBase, intent_for_topic, load
from bot.knowledge.model import LINES, Article, KnowledgeError, Source
from bot.knowledge.render import MAX_BUBBLES, MAX_CHARS, Message, has_more, page, parse_more, render

__all__ = [
    "LINES",
    "MAX_BUBBLES",
    "MAX_CHARS",
    "Article",
    "KnowledgeBase",
    "KnowledgeError",
    "Message",
    "Source",
    "intent_for_topic",
    "has_more",
    "load",
    "page",
    "parse_more",
    "render",
]
