"""What a message signals, whatever the NLU makes of it: danger, or a wish to talk to a person.

Two curated lexicons (`danger.yml`, `person.yml`), a third (`hypothetical.yml`) that tells a
question asked "just in case" from a person in danger now, and a fourth (`out_of_scope.yml`) of
questions outside the service that sit near its words, of regular expressions over the message's plain
form (`normalize.plain`). Both sides use them: the Rasa server's `SignalIntentClassifier`
(bot/rasa/nlu/signals.py) sets the intent from them on every channel, and the action server checks
them again before the knowledge search offers articles. No Rasa import here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from bot.signals.normalize import plain

HERE = Path(__file__).resolve().parent
_MACRO = re.compile(r"\{([A-Z]+)\}")


@dataclass(frozen=True)
class Signal:
    kind: str        # "danger" or "person"
    category: str    # e.g. "documents", "wages", "person"
    pattern: str     # the pattern that matched (for logs and tests, never shown to the person)


@dataclass(frozen=True)
class Lexicon:
    kind: str
    patterns: tuple[tuple[str, re.Pattern[str]], ...]   # (category, compiled pattern)
    examples: dict[str, tuple[str, ...]]
    counter_examples: dict[str, tuple[str, ...]]

    def match(self, text: str) -> Signal | None:
        form = plain(text)
        for category, pattern in self.patterns:
            if pattern.search(form):
                return Signal(self.kind, category, pattern.pattern)
        return None


def _expand(pattern: str, words: dict[str, str]) -> str:
    def sub(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in words:
            raise ValueError(f"unknown word list {{{name}}} in pattern {pattern!r}")
        return words[name]

    return _MACRO.sub(sub, pattern)


def load_lexicon(kind: str, path: Path | None = None) -> Lexicon:
    """Read and compile a lexicon file; a bad pattern fails here, naming the file."""
    path = path or HERE / f"{kind}.yml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    words = data.get("words") or {}
    compiled: list[tuple[str, re.Pattern[str]]] = []
    examples: dict[str, tuple[str, ...]] = {}
    counter: dict[str, tuple[str, ...]] = {}
    for category, spec in data["categories"].items():
        for raw in spec["patterns"]:
            try:
                compiled.append((category, re.compile(_expand(raw, words))))
            except (re.error, ValueError) as exc:
                raise ValueError(f"{path.name}: category {category}: {exc}") from exc
        examples[category] = tuple(spec.get("examples") or ())
        counter[category] = tuple(spec.get("not") or ())
    return Lexicon(kind, tuple(compiled), examples, counter)


@cache
def lexicon(kind: str) -> Lexicon:
    return load_lexicon(kind)


def danger(text: str) -> Signal | None:
    """The protection red flag in a message, if any."""
    return lexicon("danger").match(text)


def person(text: str) -> Signal | None:
    """A request (direct, indirect or frustrated) to talk to a person, if any."""
    return lexicon("person").match(text)


def hypothetical(text: str) -> Signal | None:
    """A question asked "just in case" ("¿qué pasa si me accidento?"), not a danger happening now."""
    return lexicon("hypothetical").match(text)


def out_of_scope(text: str) -> Signal | None:
    """A question outside the service near its words (tourism, a bank, a "bono", homework), asked
    without any word of work or migration (`out_of_scope.yml`)."""
    return lexicon("out_of_scope").match(text)


def detect(text: str) -> Signal | None:
    """Danger first (it must never be missed), then a request for a person."""
    return danger(text) or person(text)
