"""Peru's regions as people write them: the region's name, its capital and its larger cities.

`find(text)` gives the slug of the first region a text names ("soy de Juliaca" → "puno"), for routing a
conversation to the office that serves it. Words that are also common words or places abroad (Pisco,
Jaén) are left out: a wrong region sends a person to the wrong office, no region sends them to the
main office, which serves everyone.
"""

from __future__ import annotations

from bot.text import words

REGIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "amazonas": ("Amazonas", ("amazonas", "chachapoyas", "bagua")),
    "ancash": ("Áncash", ("ancash", "huaraz", "chimbote")),
    "apurimac": ("Apurímac", ("apurimac", "abancay", "andahuaylas")),
    "arequipa": ("Arequipa", ("arequipa",)),
    "ayacucho": ("Ayacucho", ("ayacucho", "huamanga")),
    "cajamarca": ("Cajamarca", ("cajamarca",)),
    "callao": ("Callao", ("callao",)),
    "cusco": ("Cusco", ("cusco", "cuzco")),
    "huancavelica": ("Huancavelica", ("huancavelica",)),
    "huanuco": ("Huánuco", ("huanuco", "tingo maria")),
    "ica": ("Ica", ("ica", "chincha", "nasca", "nazca")),
    "junin": ("Junín", ("junin", "huancayo")),
    "la-libertad": ("La Libertad", ("la libertad", "trujillo")),
    "lambayeque": ("Lambayeque", ("lambayeque", "chiclayo")),
    "lima": ("Lima", ("lima", "san martin de porres")),  # a district of Lima, not the region San Martín
    "loreto": ("Loreto", ("loreto", "iquitos")),
    "madre-de-dios": ("Madre de Dios", ("madre de dios", "puerto maldonado")),
    "moquegua": ("Moquegua", ("moquegua", "ilo")),
    "pasco": ("Pasco", ("pasco",)),
    "piura": ("Piura", ("piura", "sullana", "talara")),
    "puno": ("Puno", ("puno", "juliaca")),
    "san-martin": ("San Martín", ("san martin", "tarapoto", "moyobamba")),
    "tacna": ("Tacna", ("tacna",)),
    "tumbes": ("Tumbes", ("tumbes",)),
    "ucayali": ("Ucayali", ("ucayali", "pucallpa")),
}

_BY_WORDS: dict[tuple[str, ...], str] = {tuple(words(alias)): slug for slug, (_, aliases) in REGIONS.items() for alias in aliases}
_LONGEST = max(len(key) for key in _BY_WORDS)


def name(slug: str) -> str:
    return REGIONS[slug][0] if slug in REGIONS else slug


def normalize(values: str | list[str] | tuple[str, ...]) -> list[str]:
    """Region slugs from names or slugs ("Cusco, Madre de Dios" or ["cusco", "puno"]); unknown ones raise ValueError."""
    items = [v for v in values.split(",") if v.strip()] if isinstance(values, str) else list(values)
    found: list[str] = []
    for item in items:
        slug = item.strip().lower()
        if slug not in REGIONS:  # a name or a city, whole ("Cusco Puno" is not one region)
            slug = _BY_WORDS.get(tuple(words(item)), "")
        if not slug:
            raise ValueError(f"región desconocida: {item.strip()[:60]!r}")
        if slug not in found:
            found.append(slug)
    return found


def find(text: str) -> str | None:
    """The first region the text names, or None."""
    tokens = words(text or "")
    for start in range(len(tokens)):
        for size in range(min(_LONGEST, len(tokens) - start), 0, -1):
            slug = _BY_WORDS.get(tuple(tokens[start:start + size]))
            if slug:
                return slug
    return None
