"""The knowledge engine: articles in `knowledge/`, checked at load, searched and rendered."""

from bot.knowledge.base import KnowledgeBase, intent_for_topic, load
from bot.knowledge.model import LINES, Article, KnowledgeError, Source
from bot.knowledge.render import MAX_CHARS, Message, render

__all__ = [
    "LINES",
    "MAX_CHARS",
    "Article",
    "KnowledgeBase",
    "KnowledgeError",
    "Message",
    "Source",
    "intent_for_topic",
    "load",
    "render",
]
