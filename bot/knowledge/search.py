"""Lexical search over the knowledge base: BM25 over title, keywords and body.

Accent- and case-insensitive, with a light Spanish stemmer (plural stripping and a five-letter
prefix), so "tramites", "trámite" and "TRAMITAR" meet. Used when the NLU is unsure: the
assistant offers the best matches instead of guessing an article.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot import countries
from bot.text import words

if TYPE_CHECKING:
    from bot.knowledge.model import Article

STOPWORDS = frozenset(
    """
    a al algo algun alguna algunos ante antes aqui asi aun bien cada como con cual cuales cuando
    cuanto de del desde donde dos el ella ellos en entre era eres es esa ese eso esta estan este
    esto estoy fue ha hace hacer hay he hola info informacion la las le les lo los mas me mi mis
    mucho muy necesito ni no nos o otra otro para pero poco por porfa porque puede puedo pues que
    quiero quisiera saber se sea ser si sin sobre solo somos son soy su sus tal tambien te tengo ti
    tiene tienen todo tu tus un una uno unos ya yo q k xq pq x pa pls gracias ayuda hay favor hacer
    buenas buenos dias tardes noches oye consulta pregunta dime decir sabes
    """.split()  # noqa: SIM905 - a word list reads better as text
)

# Field weights: a word in the title or keywords says more than one in the body.
TITLE_WEIGHT, KEYWORD_WEIGHT, BODY_WEIGHT = 3.0, 3.0, 1.0
K1, B = 1.2, 0.75
# Below this score a match is noise, not an answer to offer.
MIN_SCORE = 1.2


def stem(word: str) -> str:
    if len(word) > 4 and word.endswith("es"):
        word = word[:-2]
    elif len(word) > 3 and word.endswith("s"):
        word = word[:-1]
    return word[:5]


def terms(text: str) -> list[str]:
    return [stem(w) for w in words(text) if w not in STOPWORDS and len(w) > 1]


@dataclass(frozen=True)
class Hit:
    article_id: str
    title: str
    score: float


class SearchIndex:
    def __init__(self, articles: Iterable[Article]):
        self._docs: dict[str, Counter[str]] = {}
        self._titles: dict[str, str] = {}
        self._countries: dict[str, str | None] = {}
        for article in articles:
            doc: Counter[str] = Counter()
            for term in terms(article.title):
                doc[term] += TITLE_WEIGHT
            for term in terms(" ".join(article.keywords)):
                doc[term] += KEYWORD_WEIGHT
            for term in terms(article.body):
                doc[term] += BODY_WEIGHT
            self._docs[article.id] = doc
            self._titles[article.id] = article.title
            self._countries[article.id] = article.country
        n = len(self._docs) or 1
        df: Counter[str] = Counter()
        for doc in self._docs.values():
            df.update(doc.keys())
        self._idf = {t: math.log(1 + (n - f + 0.5) / (f + 0.5)) for t, f in df.items()}
        self._avg_len = sum(sum(d.values()) for d in self._docs.values()) / n

    def search(self, query: str, limit: int = 3) -> list[Hit]:
        query_terms = set(terms(query))
        mentioned = {countries.normalize(w) for w in words(query)} - {None, countries.OTHER}
        hits: list[Hit] = []
        for article_id, doc in self._docs.items():
            length = sum(doc.values())
            score = 0.0
            for term in query_terms:
                tf = doc.get(term, 0.0)
                if tf:
                    norm = tf * (K1 + 1) / (tf + K1 * (1 - B + B * length / self._avg_len))
                    score += self._idf[term] * norm
            country = self._countries[article_id]
            if country and mentioned:
                score *= 1.5 if country in mentioned else 0.5
            if score >= MIN_SCORE:
                hits.append(Hit(article_id, self._titles[article_id], round(score, 3)))
        hits.sort(key=lambda h: (-h.score, h.article_id))
        return hits[:limit]
