"""Whether a question about a per-country topic is asked in general or needs one country.

"¿Con qué países tiene convenios el Perú?" or "¿quién me ayuda si estoy afuera?" are answered with
the topic's overview (and the country buttons). A question about one country it does not name
("¿cuál es el número de la policía allá?", "ya llegué, ¿qué trámites hago?") cannot be answered
without it, and neither can a procedure (visas and permits) unless the question says it is general:
then the assistant asks "¿Para qué país?". The other per-country topics have an overview that
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


# "This country", "over there", "where I live", "I just arrived": one country, not named.
ONE_COUNTRY = re.compile(
    r"\b(este pais|ese pais|el pais (donde|en (el )?que)|pais en (el )?que|alla|alli|aca|aqui|donde (vivo|estoy|trabajo|resido)"
    r"|mas cercano|mas cercana|ya llegue|recien (llegue|llego)|acabo de llegar|apenas llegue)\b"
)


def is_general(text: str) -> bool:
    """The question asks in general (several countries, "afuera", "en general")."""
    return bool(GENERAL.search(plain(text)))


def points_to_one_country(text: str) -> bool:
    """The question is about one country it does not name ("allá", "este país", "ya llegué")."""
    return bool(ONE_COUNTRY.search(plain(text)))


def needs_country(topic: str, text: str) -> bool:
    """Ask "¿Para qué país?" instead of answering with the overview."""
    if is_general(text):
        return False
    return topic in COUNTRY_FIRST_TOPICS or points_to_one_country(text)
