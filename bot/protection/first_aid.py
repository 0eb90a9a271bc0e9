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
                                    "fees_to_keep"})

COUNTRY_QUESTION = "¿En qué país estás? Así te doy los números de allí."
UNKNOWN = "unknown"


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
def contacts() -> dict[str, Contacts]:
    """The countries with contacts of their own (the five destinations and Peru)."""
    return {slug: Contacts(slug, spec["name"], spec["article"], str(spec["emergency"]), tuple(spec.get("lines") or ()),
                           spec.get("trafficking"))
            for slug, spec in _data().items() if slug != UNKNOWN}


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


def where_buttons() -> list[dict[str, str]]:
    """Buttons answering "¿En qué país estás?"."""
    return [{"title": c.name[0].upper() + c.name[1:], "payload": f'/informar_pais{{"country":"{c.slug}"}}'}
            for c in contacts().values()]


def first_aid(country: str | None, category: str | None) -> str:
    """The message, at most MAX_CHARS: numbers first, the consulate, and what happens next."""
    known = contacts().get(country or "")
    if known is None:
        steps = [f"Si corres peligro, llama a emergencias: {_data()[UNKNOWN]['emergency']}.",
                 "El consulado del Perú te ayuda aunque no tengas papeles."]
        text = "🆘 Qué hacer ahora:\n" + "\n".join(f"{i}. {s}" for i, s in enumerate(steps, 1)) + "\n" + COUNTRY_QUESTION
        return _fit(text)
    steps = [f"Si corres peligro, llama al {known.emergency}."]
    if category in TRAFFICKING_CATEGORIES and known.trafficking:
        steps.append(known.trafficking + ".")
    steps += [line + "." for line in known.lines]
    if known.slug != "peru":
        steps.append("El consulado del Perú te ayuda aunque no tengas papeles.")
    text = f"🆘 Qué hacer ahora en {known.name}:\n" + "\n".join(f"{i}. {s}" for i, s in enumerate(steps, 1))
    return _fit(text)


def _fit(text: str) -> str:
    if len(text) > MAX_CHARS:  # a contacts.yml entry too long: a test catches it; never send more
        raise ValueError(f"first-aid message of {len(text)} characters (max {MAX_CHARS}): shorten contacts.yml")
    return text
