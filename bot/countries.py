"""Country slugs, their display names, and the mapping from what people write to a slug.

What people write ("EEUU", "gringolandia", "Milán") is listed once, in the NLU data
(`data/nlu/paises.yml`: the `country` lookup table and its synonyms). The NLU pipeline turns
it into a slug; `normalize` does the same on the action side for values that reach us raw.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml

from bot.text import fold

# The five destinations named by the directive, in the order the assistant offers them.
DESTINATIONS: tuple[str, ...] = ("eeuu", "espana", "italia", "chile", "argentina")

NAMES: dict[str, str] = {
    "eeuu": "Estados Unidos",
    "espana": "España",
    "italia": "Italia",
    "chile": "Chile",
    "argentina": "Argentina",
    "japon": "Japón",
    "canada": "Canadá",
    "colombia": "Colombia",
    "ecuador": "Ecuador",
    "bolivia": "Bolivia",
    "venezuela": "Venezuela",
    "brasil": "Brasil",
    "mexico": "México",
    "francia": "Francia",
    "alemania": "Alemania",
    "reino-unido": "Reino Unido",
    "australia": "Australia",
    "corea-del-sur": "Corea del Sur",
    "suiza": "Suiza",
    "paraguay": "Paraguay",
    "uruguay": "Uruguay",
    "panama": "Panamá",
    "peru": "Perú",
}

# Peru is where people leave from or return to, never a destination of a per-country article.
HOME = "peru"

# Button value meaning "a country that is not in the list".
OTHER = "otro"

PAISES_FILE = Path(__file__).resolve().parent.parent / "data" / "nlu" / "paises.yml"


@lru_cache(maxsize=1)
def _aliases() -> dict[str, str]:
    data = yaml.safe_load(PAISES_FILE.read_text(encoding="utf-8"))
    aliases: dict[str, str] = {fold(slug): slug for slug in NAMES}
    for block in data.get("nlu", []):
        slug = block.get("synonym")
        if not slug:
            continue
        for line in block["examples"].splitlines():
            surface = line.strip().removeprefix("- ").strip()
            if surface:
                aliases[fold(surface)] = slug
    return aliases


def normalize(value: str | None) -> str | None:
    """Map a country as written (or a slug) to its slug; `OTHER` for "otro país"; None if unknown."""
    if not value:
        return None
    key = fold(str(value).strip())
    if key in (OTHER, "otro pais"):
        return OTHER
    return _aliases().get(key)


def name(slug: str) -> str:
    """Display name of a slug ("espana" → "España")."""
    return NAMES.get(slug, slug.replace("-", " ").title())
