"""The "qué hacer ahora" message for a person in danger, per country (data: contacts.yml)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

CONTACTS_FILE = Path(__file__).resolve().parent / "contacts.yml"

# The first message must be read at a glance on a phone, before anything else arrives.
MAX_CHARS = 400

# Signals of trafficking or forced labour: the message adds the trafficking line.
TRAFFICKING_CATEGORIES = frozenset({"documents", "confinement", "debt", "sexual_exploitation", "minors", "forced_labour",
                                    "fees_to_keep", "recruitment_fees"})

UNKNOWN = "unknown"
ENGLISH = "en"

# The words of the message, per language of the conversation (the slot `lang`).
WORDING = {
    "es": {"title": "🆘 Qué hacer ahora", "in": "en", "call": "Si corres peligro, llama al {number}.",
           "call_any": "Si corres peligro, llama a emergencias: {numbers}.",
           "consulate": "El consulado del Perú te ayuda aunque no tengas papeles.",
           "question": "¿En qué país estás? Así te doy los números de allí."},
    "en": {"title": "🆘 What to do now", "in": "in", "call": "If you are in danger, call {number}.",
           "call_any": "If you are in danger, call the emergency number: {numbers}.",
           "consulate": "The Peruvian consulate helps you even without papers.",
           "question": "Which country are you in? I will give you its numbers."},
}
COUNTRY_QUESTION = WORDING["es"]["question"]


@dataclass(frozen=True)
class Contacts:
    slug: str
    name: str
    article: str
    emergency: str
    lines: tuple[str, ...]
    trafficking: str | None


@cache
def _data() -> dict:
    return yaml.safe_load(CONTACTS_FILE.read_text(encoding="utf-8"))


@cache
def contacts(lang: str = "es") -> dict[str, Contacts]:
    """The countries with contacts of their own (the five destinations and Peru), in the language
    of the conversation (English entries fall back to the Spanish one for what they leave out)."""
    result = {}
    for slug, spec in _data().items():
        if slug == UNKNOWN:
            continue
        if lang == ENGLISH:
            spec = {**spec, **(spec.get(ENGLISH) or {})}
        result[slug] = Contacts(slug, spec["name"], spec["article"], str(spec["emergency"]),
                                tuple(spec.get("lines") or ()), spec.get("trafficking"))
    return result


def article_for(country: str | None, category: str | None) -> str:
    """The article sent after the first message: the country's emergency guide, or, with no
    country of its own, the trafficking article for trafficking signals and the general guide."""
    known = contacts().get(country or "")
    if known and known.article.startswith("seguridad/"):
        return known.article
    if category in TRAFFICKING_CATEGORIES:
        return "seguridad/trata-y-fraude"
    if known:
        return known.article
    return "seguridad/emergencia"


def where_buttons(lang: str = "es") -> list[dict[str, str]]:
    """Buttons answering "¿En qué país estás?"."""
    return [{"title": c.name.removeprefix("the ")[0].upper() + c.name.removeprefix("the ")[1:],
             "payload": f'/informar_pais{{"country":"{c.slug}"}}'}
            for c in contacts(lang).values()]


def first_aid(country: str | None, category: str | None, lang: str = "es") -> str:
    """The message, at most MAX_CHARS: numbers first, the consulate, and what happens next; in
    English for a conversation in English, in Spanish otherwise."""
    lang = ENGLISH if lang == ENGLISH else "es"
    words = WORDING[lang]
    known = contacts(lang).get(country or "")
    if known is None:
        unknown = _data()[UNKNOWN]
        numbers = (unknown.get(ENGLISH) or {}).get("emergency", unknown["emergency"]) if lang == ENGLISH else unknown["emergency"]
        steps = [words["call_any"].format(numbers=numbers), words["consulate"]]
        return _fit(f"{words['title']}:\n" + _numbered(steps) + "\n" + words["question"])
    steps = [words["call"].format(number=known.emergency)]
    if category in TRAFFICKING_CATEGORIES and known.trafficking:
        steps.append(known.trafficking + ".")
    steps += [line + "." for line in known.lines]
    if known.slug != "peru":
        steps.append(words["consulate"])
    return _fit(f"{words['title']} {words['in']} {known.name}:\n" + _numbered(steps))


def _numbered(steps: list[str]) -> str:
    return "\n".join(f"{i}. {step}" for i, step in enumerate(steps, 1))


def _fit(text: str) -> str:
    if len(text) > MAX_CHARS:  # a contacts.yml entry too long: a test catches it; never send more
        raise ValueError(f"first-aid message of {len(text)} characters (max {MAX_CHARS}): shorten contacts.yml")
    return text
