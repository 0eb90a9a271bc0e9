"""The protection answer: what a person in danger is told first, before anything else.

`first_aid(country, category, lang)` composes the short "qué hacer ahora" message (at most
`MAX_CHARS`) from `contacts.yml`: the emergency number of the country where the person is, the
labour line, the Peruvian consulate and the trafficking line where the signal is one of
trafficking; where the country is unknown, every destination's emergency number and a question
with country buttons; in English for a conversation in English. The action server (actions/protection.py) sends it, then opens the
priority handoff, then the full article.
"""

from bot.protection.first_aid import (
    COUNTRY_QUESTION,
    MAX_CHARS,
    TRAFFICKING_CATEGORIES,
    Contacts,
    article_for,
    contacts,
    first_aid,
    where_buttons,
)

__all__ = ["COUNTRY_QUESTION", "MAX_CHARS", "TRAFFICKING_CATEGORIES", "Contacts", "article_for", "contacts", "first_aid",
           "where_buttons"]
