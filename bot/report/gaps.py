"""Questions the assistant could not answer, grouped by similarity: content gaps for the editors.

Every text is scrubbed first (e-mails, phone numbers, document numbers: bot.suggestions.scrub);
only scrubbed text is compared, counted and shown. Grouping is deliberately simple and explainable:
the content words of each question (accents folded, Spanish stop words out, plural "s" dropped)
are compared by cosine similarity, and a question joins the most similar group when it shares
enough with it (SIMILARITY), else it starts a new one.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from bot.suggestions.scrub import scrub
from bot.text import words

SIMILARITY = 0.5
_MARK = re.compile(r"\[[^\]]* eliminado\]")  # what scrub() puts in place of personal data
EXAMPLES = 3
EXAMPLE_CHARS = 160
_STOP_TEXT = """
a al algo algun alguna alguno algunos ante antes aqui asi aun bien cada como con contra cual cuales cuando cuanto de del
desde donde dos el ella ellas ellos en entre era eres es esa ese eso esta estan estar este esto estoy fue ha hay hacer
hola la las le les lo los mas me mi mis mucho muy nada ni no nos o otra otro para pero poco por porque puede puedo que
quiero quisiera se ser si sin sobre solo son soy su sus tambien tengo ti tiene tu tus un una uno unos usted ustedes va
vamos y ya yo buenas buenos dias tardes noches gracias favor porfa pls saber informacion info necesito ayuda
"""
STOP_WORDS = frozenset(_STOP_TEXT.split())


def terms(text: str) -> list[str]:
    """The content words of a question, folded and singular-ish (the scrubbing marks left out)."""
    found = []
    for word in words(_MARK.sub(" ", text)):
        if word in STOP_WORDS or len(word) < 3 or word.isdigit():
            continue
        if len(word) > 4 and word.endswith("es") and not word.endswith("ies"):
            word = word[:-2]
        elif len(word) > 3 and word.endswith("s"):
            word = word[:-1]
        found.append(word)
    return found


def _cosine(a: Counter, b: Counter) -> float:
    if not a or not b:
        return 0.0
    dot = sum(v * b.get(k, 0) for k, v in a.items())
    return dot / (math.sqrt(sum(v * v for v in a.values())) * math.sqrt(sum(v * v for v in b.values())))


@dataclass
class Gap:
    count: int = 0
    centroid: Counter = field(default_factory=Counter)
    texts: Counter = field(default_factory=Counter)

    @property
    def keywords(self) -> list[str]:
        return [word for word, _ in self.centroid.most_common(4)]

    @property
    def examples(self) -> list[str]:
        """The most frequent distinct wordings, shortest first among equals, cut to EXAMPLE_CHARS."""
        chosen = sorted(self.texts.items(), key=lambda item: (-item[1], len(item[0]), item[0]))[:EXAMPLES]
        return [text if len(text) <= EXAMPLE_CHARS else text[: EXAMPLE_CHARS - 1].rstrip() + "…" for text, _ in chosen]


def group(questions: Iterable[str], similarity: float = SIMILARITY) -> list[Gap]:
    """Scrubbed questions grouped by similarity, biggest group first."""
    gaps: list[Gap] = []
    for raw in questions:
        text = " ".join((scrub(raw) or "").split())
        if not text:
            continue
        vector = Counter(terms(text))
        best, score = None, 0.0
        for gap in gaps:
            value = _cosine(vector, gap.centroid)
            if value > score:
                best, score = gap, value
        if best is None or score < similarity:
            best = Gap()
            gaps.append(best)
        best.count += 1
        best.centroid.update(vector)
        best.texts[text] += 1
    return sorted(gaps, key=lambda g: (-g.count, g.keywords))
