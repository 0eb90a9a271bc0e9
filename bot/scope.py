"""Whether a question about a per-country topic is asked in general or needs one country.

"¿Con qué países tiene convenios el Perú?" or "¿quién me ayuda si estoy afuera?" are answered with
the topic's overview (and the country buttons); "¿qué papeles necesito?" cannot be answered without
a country, so the assistant asks for it. A procedure (visas and permits) always depends on the
country unless the question says it is general; the other per-country topics have an overview that
answers a question without a country.
"""

from __future__ import annotations

import re

from bot.signals.normalize import plain

# Topics whose question, without a country, cannot be answered: ask for the country.
COUNTRY_FIRST_TOPICS = frozenset({"emigrar/tramites"})

GENERAL = re.compile(
    r"\b(que|cuales|cuantos|varios|todos los|otros|cualquier|algun|en que|con que|a que|por) pais(es)?\b"
    r"|\bpaises\b|\ben general\b|\bgeneral(es|mente)?\b|\btipos? de\b|\bclases? de\b|\bque (visas|permisos) (hay|existen)\b"
    r"|\bcualquier (lugar|sitio|parte)\b|\bel (mundo|extranjero|exterior)\b|\bafuera\b|\bfuera del peru\b|\botro pais\b"
)


def is_general(text: str) -> bool:
    """The question asks in general (several countries, "afuera", "en general")."""
    return bool(GENERAL.search(plain(text)))


def needs_country(topic: str, text: str) -> bool:
    """Ask "¿Para qué país?" instead of answering with the overview."""
    return topic in COUNTRY_FIRST_TOPICS and not is_general(text)
