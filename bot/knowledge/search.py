"""Hybrid search over the knowledge base: BM25 over title, keywords and body, plus meaning.

Lexical part: accent- and case-insensitive BM25 with a light Spanish stemmer (plural stripping and
a five-letter prefix), so "tramites", "trámite" and "TRAMITAR" meet. Semantic part: the cosine of
the query's sentence vector (multilingual Universal Sentence Encoder, `bot.embeddings`) against
each article's title, keywords and first paragraph, encoded once when the index is built; it finds
the privacy article for "que informacion personal almacenan de mi", with no word in common.

Fusion by score, not by rank: each side is mapped to [0, 1] on an absolute scale (BM25 saturates
as bm25 / (bm25 + LEX_HALF); the cosine rises linearly from SEM_FLOOR to SEM_FULL) and the two are
added; with two query terms or more, the lexical side counts only as far as the meaning agrees
(LEX_GATE). Rank fusion (RRF) would rank well but forget how good the best match is, and "no hit"
for unrelated text needs that: an absolute minimum on the sum keeps it.

Measured on the NLU examples whose intent names a topic (tests/nlu, data/nlu, tests/understanding;
about 2,300) against BM25 alone: the right topic first 4-9 points more often (tests/nlu 62% vs
55%), out-of-scope questions ("precio del dolar hoy") offered something 17 times in 71 instead of
44 (data/nlu) and 26 in 52 instead of 47 (tests/understanding); an article's own keyword as the
query still finds it 98% of the time (first: 69% vs 73%).

Used when the NLU is unsure: the assistant offers the best matches instead of guessing an article.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from bot import countries, embeddings
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
# BM25 below this is noise, not an answer to offer.
MIN_BM25 = 1.2
# BM25 → [0, 1): half way at LEX_HALF, so a strong lexical match cannot swamp the meaning.
LEX_HALF = 5.0
# With two query terms or more, the lexical part counts in full once the cosine reaches LEX_GATE
# and in proportion below it: a shared word in an article about something else ("capital" of a
# business, "dolar" of a customs allowance) is no match. Out-of-scope questions score 0.0-0.2
# against every article. A one-term query keeps its BM25: the encoder knows little of a lone
# word or acronym ("sivitma", "oim", "essalud"), which BM25 finds.
LEX_GATE = 0.2
# Cosine → [0, 1]: nothing at or below SEM_FLOOR, all from SEM_FULL.
SEM_FLOOR, SEM_FULL = 0.2, 0.6
# Below this score a match is noise: the old BM25 minimum where the meaning agrees; on meaning
# alone a cosine of about 0.28 (0.36 for the article of a country other than the one named).
MIN_SCORE = MIN_BM25 / (MIN_BM25 + LEX_HALF)


def stem(word: str) -> str:
    if len(word) > 4 and word.endswith("es"):
        word = word[:-2]
    elif len(word) > 3 and word.endswith("s"):
        word = word[:-1]
    return word[:5]


def terms(text: str) -> list[str]:
    return [stem(w) for w in words(text) if w not in STOPWORDS and len(w) > 1]


def first_paragraph(body: str) -> str:
    for paragraph in body.split("\n\n"):
        if paragraph.strip():
            return " ".join(paragraph.split())
    return ""


def semantic_text(article: Article) -> str:
    """What an article's vector is made of: what it is about, not every detail of its body."""
    return f"{article.title}. {', '.join(article.keywords)}. {first_paragraph(article.body)}"


def lexical(bm25: float, cosine: float, gated: bool) -> float:
    weight = min(1.0, max(0.0, cosine / LEX_GATE)) if gated else 1.0
    return bm25 / (bm25 + LEX_HALF) * weight


def semantic(cosine: float) -> float:
    return min(1.0, max(0.0, (cosine - SEM_FLOOR) / (SEM_FULL - SEM_FLOOR)))


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
        texts: list[str] = []
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
            texts.append(semantic_text(article))
        # One row per article, in the order of self._docs.
        self._vectors = embeddings.encode(texts)
        n = len(self._docs) or 1
        df: Counter[str] = Counter()
        for doc in self._docs.values():
            df.update(doc.keys())
        self._idf = {t: math.log(1 + (n - f + 0.5) / (f + 0.5)) for t, f in df.items()}
        self._avg_len = sum(sum(d.values()) for d in self._docs.values()) / n

    def search(self, query: str, limit: int = 3) -> list[Hit]:
        query_terms = set(terms(query))
        mentioned = {countries.normalize(w) for w in words(query)} - {None, countries.OTHER}
        cosines = self._vectors @ embeddings.encode([query])[0] if query.strip() else np.zeros(len(self._docs))
        gated = len(query_terms) > 1
        hits: list[Hit] = []
        for (article_id, doc), cosine in zip(self._docs.items(), cosines.tolist(), strict=True):
            length = sum(doc.values())
            bm25 = 0.0
            for term in query_terms:
                tf = doc.get(term, 0.0)
                if tf:
                    norm = tf * (K1 + 1) / (tf + K1 * (1 - B + B * length / self._avg_len))
                    bm25 += self._idf[term] * norm
            factor = 1.0
            country = self._countries[article_id]
            if country and mentioned:
                factor = 1.5 if country in mentioned else 0.5
            score = lexical(bm25 * factor, cosine, gated) + semantic(cosine) * factor
            if score >= MIN_SCORE:
                hits.append(Hit(article_id, self._titles[article_id], round(score, 3)))
        hits.sort(key=lambda h: (-h.score, h.article_id))
        return hits[:limit]
