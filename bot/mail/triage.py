"""What the desk shows beside an e-mail, from the same understanding as the chat (issue 16).

`triage(mail, kb)` reads the subject and the person's text with the assistant's own pieces: the
protection lexicon (bot/signals: a withheld passport, unpaid wages, threats… make the conversation
`safety` and put it first in the queue, as in the chats), a request for a person (`asked`), the
countries mentioned (bot/countries: the destination and where the person is), and the articles the
knowledge search finds for the text, for the advisor to insert in the answer.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot import countries, signals
from bot.knowledge.base import KnowledgeBase
from bot.mail.inbound import InboundMail

SUGGESTIONS = 3
QUERY_CHARS = 2000  # the search reads the start of a long message: where people put their question


@dataclass(frozen=True)
class Triage:
    reason: str  # the ticket's reason: "safety" (a danger signal) or "asked" (a person wrote to the service)
    signal: str | None  # the lexicon category that matched ("danger:…", "person:…"), for the advisor and the report
    countries: tuple[str, ...]  # slugs, in the order they are mentioned
    articles: tuple[str, ...]  # article ids the assistant would answer with, best first

    @property
    def urgent(self) -> bool:
        return self.reason == "safety"


def triage(mail: InboundMail, kb: KnowledgeBase) -> Triage:
    text = "\n".join(part for part in (mail.subject, mail.text) if part)
    found = signals.detect(text)
    danger = found is not None and found.kind == "danger"  # the lexicon always wins, as in the chat
    mentioned = tuple(dict.fromkeys(m.slug for m in countries.find(text)))
    hits = kb.search(text[:QUERY_CHARS], limit=SUGGESTIONS) if text.strip() else []
    return Triage(
        reason="safety" if danger else "asked",
        signal=f"{found.kind}:{found.category}" if found is not None else None,
        countries=mentioned,
        articles=tuple(hit.article_id for hit in hits),
    )
