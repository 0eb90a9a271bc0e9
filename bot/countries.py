"""Country slugs, their display names, and the countries people mention however they write them.

What people write for a country ("EEUU", "gringolandia", "Milán", "Lombardía", "chilenos") is
listed once, in the NLU data (`data/nlu/paises.yml`: the synonyms of the `country` lookup). Two
readers share it:

- `find(text)` finds every country mentioned in a message: case, accents, dots and spaces ignored
  ("E.E.U.U.", "EE. UU.", "bs as"), near misspellings by fuzzy matching ("argentna", "itaia",
  "estados unidso"), and the role "location" when the person says where they are ("vivo en
  Chile"). The NLU component `bot.rasa.nlu.countries.CountryExtractor` turns the mentions into
  `country` entities; the action server may call it on raw text too.
- `normalize(value)` maps one value (a slug, a button value, a country as written) to its slug.

The few rules that do not fit the NLU format (which names need a capital or a preposition, first
names that are also places, "LA", where the person is) are the small tables below, each with
its reason. No Rasa import here: this module runs in both virtual environments.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml
from rapidfuzz.distance import OSA

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

# The role of a mention of the country where the person is ("estoy en Chile"); a destination or
# a topic country has no role.
LOCATION = "location"

PAISES_FILE = Path(__file__).resolve().parent.parent / "data" / "nlu" / "paises.yml"


@dataclass(frozen=True)
class Mention:
    """A country mentioned in a text: its slug and where it is (`text[start:end] == surface`)."""

    slug: str
    start: int
    end: int
    surface: str
    role: str | None = None  # LOCATION when the person says they are there
    confidence: float = 1.0  # below 1 for a misspelling found by fuzzy matching
    demonym: bool = False  # "colombiano", "los ches": who the person is, not where


# --- Decisions on ambiguous names (folded surfaces of paises.yml, unless said otherwise) ---------
#
# Córdoba → argentina (paises.yml): for Peruvian migrants Córdoba is above all the Argentine city,
# one of the largest Peruvian communities there; Córdoba in Spain is a minor destination. Written
# with its country ("Córdoba, España", "Córdoba (España)") the country wins, see `_qualified`.
# Santiago → chile (Santiago de Compostela is rare); Valencia → espana (not Venezuela); Los Ángeles
# → eeuu (not the Chilean city); Santa Cruz → bolivia; Palermo, Cartagena, La Rioja, León, San Juan,
# Georgia are left out (two countries, or a word or name first). "gallegos" (any Spaniard, or a
# Galician) and "gringo" in the singular (any fair foreigner in Peru) are left out; "gringos" →
# eeuu; "los tanos" (Argentine slang for Italians) → italia only with the article. "español" (the
# language) is left out, "españoles"/"española" kept; "peruano(s)" too is left out: everyone here is
# one, and a demonym would pull the destination slot to Peru.

# Place names that are also ordinary words: they count only when written with a capital inside a
# sentence ("vivo en Salta", not "me salta un error"), right after a preposition of place, or as
# the whole message (the answer to "¿en qué ciudad?").
_WORD_LIKE: frozenset[str] = frozenset({
    "la paz", "el alto", "santa cruz", "quito", "cuenca", "salta", "rosario", "concepcion", "granada",
    "lacio", "la serena", "santa fe", "puente alto", "ginebra", "las palmas", "estacion central", "chillan",
    "tumbes", "huacho", "usa",  # "la empresa usa el sistema", "los niños chillan", "un huacho de la lotería"
})
# Stricter: only with a capital inside a sentence ("la mitad de la plata" is money in Peru).
_CAPITAL_ONLY: frozenset[str] = frozenset({"la plata"})
# Place names that are also first names or surnames: not a place right after a name cue ("mi hija
# Florencia", "el señor Mendoza", "me llamo Rosario") or next to another capitalised name.
_PERSON_NAMES: frozenset[str] = frozenset({
    "santiago", "florencia", "rosario", "mendoza", "trujillo", "virginia", "concepcion", "cordoba",
    "valdivia", "magallanes", "toledo", "cuenca", "burgos", "granada", "aragon",
    "valencia", "zaragoza", "medellin", "santa cruz", "washington", "paterson", "sidney", "asuncion",
    "salamanca", "victoria",
})
_NAME_CUES: frozenset[str] = frozenset({
    "llamo", "llama", "llaman", "llamada", "llamado", "apellido", "apellida", "senor", "señor", "senora",
    "señora", "senorita", "señorita", "sr", "sra", "srta", "don", "doña", "dona", "dr", "dra", "lic", "ing",
    "doctor", "doctora", "licenciado", "licenciada", "ingeniero", "ingeniera", "profesor", "profesora",
    "abogado", "abogada",
    "hijo", "hija", "esposo", "esposa", "hermano", "hermana", "mama", "mamá", "papa", "madre", "padre",
    "tio", "tia", "primo", "prima", "abuelo", "abuela", "sobrino", "sobrina", "nieto", "nieta", "amigo",
    "amiga", "novio", "novia", "pareja", "jefe", "jefa", "vecino", "vecina", "companero", "compañero",
    "companera", "compañera", "cunado", "cuñado", "cunada", "cuñada", "suegro", "suegra", "yerno", "nuera",
})
# Upper case only: "US" (not the English "us"); "LA" (Los Ángeles) is not in paises.yml at all,
# since the lookup would then fire on every article "la": it counts only as "LA" in a message that
# is not all capitals, after a preposition and before the end of a clause ("me voy a LA el lunes"
# does not count; "vivo en LA y ..." does).
_UPPER_ONLY: frozenset[str] = frozenset({"us", "la"})
_CODE_ONLY_SURFACES: dict[str, str] = {"la": "eeuu"}
# "PERÚ INFOMIGRA" is the service, not the country.
_NOT_A_COUNTRY_AFTER: dict[str, frozenset[str]] = {"peru": frozenset({"infomigra"})}

# Where the person is: one of these verbs, then at most a few filler words, then "en" (and an
# article) right before the country ("vivo en Chile", "estoy hace dos años en Italia", "llevo
# más de 10 años en España"); or "desde", "aquí en", "acá en" right before it. Not after a
# negation ("ya no vivo en Chile").
_LOCATION_VERBS: frozenset[str] = frozenset({
    "estoy", "estamos", "vivo", "vivimos", "resido", "residimos", "radico", "radicamos", "trabajo",
    "trabajamos", "estudio", "estudiamos", "ando", "andamos", "sigo", "seguimos", "llevo", "llevamos",
    "encuentro", "encontramos",
    # a state rather than a verb: "soy peruano radicado en Italia", "residente en Chile"
    "radicado", "radicada", "radicados", "radicadas", "residente", "residentes", "establecido", "establecida",
    "establecidos", "establecidas", "instalado", "instalada", "instalados", "instaladas",
})
# "trabajo"/"estudio" are nouns too ("busco trabajo en Chile"): verbs only at the start of a
# clause or after one of these words. "encuentro"/"encontramos" only reflexive ("me encuentro en").
_NOUN_LIKE_VERBS: dict[str, frozenset[str]] = {
    "trabajo": frozenset({"yo", "actualmente", "ahora", "ahorita", "hoy", "ya", "tambien", "aun", "todavia",
                          "aqui", "aca", "y", "pero", "porque", "pues", "solo", "legalmente"}),
    "encuentro": frozenset({"me"}),
    "encontramos": frozenset({"nos"}),
}
_NOUN_LIKE_VERBS["estudio"] = _NOUN_LIKE_VERBS["trabajo"]
_FILLERS: frozenset[str] = frozenset({
    "actualmente", "ahora", "ahorita", "aqui", "aca", "alli", "alla", "ya", "todavia", "aun", "hoy",
    "temporalmente", "legalmente", "ilegalmente", "viviendo", "trabajando", "residiendo", "radicando",
    "estudiando", "hace", "desde", "mas", "de", "un", "una", "unos", "unas", "dos", "tres", "cuatro",
    "cinco", "seis", "siete", "ocho", "nueve", "diez", "varios", "varias", "muchos", "pocos", "años",
    "anos", "año", "ano", "meses", "mes", "semanas", "semana", "dias", "tiempo", "mucho", "poco",
    "bastante", "casi", "como", "medio",
})
_NEGATIONS: frozenset[str] = frozenset({"no", "nunca", "jamas"})
_ARTICLES: frozenset[str] = frozenset({"el", "la", "los", "las"})
_PLACE_PREPOSITIONS: frozenset[str] = frozenset({
    "en", "a", "al", "de", "del", "desde", "para", "hacia", "hasta", "por",
})
# What may follow a clause-final place ("vivo en LA y ...", "Córdoba, España, desde 2019").
_CLAUSE_WORDS: frozenset[str] = frozenset({
    "y", "e", "o", "u", "pero", "porque", "para", "con", "desde", "hace", "ahora", "actualmente",
    "donde", "que", "como", "cuando", "hasta", "por", "pues",
})

# Fuzzy matching (near misspellings): only words of 5 letters or more, against the names of
# `_fuzzy_source` with the same first letter; 1 edit (a transposition is one) up to 11 letters, 2
# from 12. Two-word names ("estados unidso") compare both words at once: 1 edit up to 13 letters,
# 2 from 14, and only in the words of 5 letters or more. The words below are Spanish words within
# that reach of a name, never read as one (the last lines: near a word of a two-word name): every
# lower-case form of Debian's Spanish dictionaries (`wspanish`, and `hunspell-es` es_PE expanded
# with `unmunch`, 1.3 million forms) and every word of the assistant's own texts (data/nlu,
# tests/nlu, knowledge) that `find` read as a misspelt country. After adding names to paises.yml,
# run the same check again and add what it finds here (or add the word to paises.yml when it
# does mean the country, as "brasilero" does).
_NOT_PLACES_TEXT = """
ademanes alamana alamanas alamanes albicante alcorcen aledaña aledañas alegana aleganas aleganes aleman alemanda
alemandas alemanesa alemanica alicantes alicanto alicate alimania alimaña alimañas almejia amancay american araucana
araucaria arequipe armeria astucias atacaba atacada atacala atacamas atacame atacara atalanta atizona atlante
babeares badajo badajos bajeares balares baldares baldeares baleales balearas baleare baleareis balearen balearles
balearos balearse baleases balsares balseares barranquillera barraquillo basilia bateares boleares bolivian bolonio
boronia bracil brazal bresca bretanica bretanico cagada cagarias calada calarias californianas californianos
californias californica californico californio camada campana campanea campanil camparia campaña canaca canado
canana canaria canariense canarienses canarios canda candada candarias caneada canearias cangada cangarias canida
cansada cansarias cantabra cantabrica cantabrio cantada cantaria cantarias canuda capada caparias carabas caraca
caracal carachas carada carajas carapas carcas cardena cardeña careanos carnada carracas casacas casada casarias
castellan catada catalan catalina catalinas catalufa cataluja catana catanga cataraña cataria catarias cavada
cavarias cayada cazada cazarias cañaba cañad cañadas cañado cañama cañara cañarais cañaras cañaria cañariais
cañarian cañeada cañearias cañerias cenada cenarias cercena cerdea cerdean cereña cermeña ceñada ceñarias chale
challan chanada chancha chencha chibcha chicano chicha chiclan chicle chiflan chifle chiflenos child chilera
chileras chilero chileros chiles chilla chillad chillar chillas chille chillen chillon chilpe chinchad chinchan
chinchar chinchas chinche chincho chine chipe chirlan chirle chite chive chule cincha codeanos colombian colombina
colombinas colombino colombinos compañia copiado copialo cordoban cordobas coreabas coreadas coreadnos coreados
corealas corealos coreamos coreana coreano coreaos corearas corearnos corearos coreenos corneanos cortanos creanos
cremosa cretona cunada cunarias cuñada cuñarias echador ecuator ecuatoriales empana empaña escaña escoca escoci
escocian escocias escocida escocio escofia escogia escolia escomia escoria espacia espada espala espanta espata
español españolad españolais españolan españolar españolase españole españolea españoleas españolee españolees
españoleis españolen españoleo españolo espina estaña filadelfa filadelfias filadelfio florada florecia floridas
florido franca frances frangia froncia fruncia galica griegos gringas gringo hospitales idalia ingles ingletes
ingresa ingresas ingreses itala italiani italica italo japonenses japones juliana landres lasaña legales leganos
legares legases legañas ligaria ligurina lombarda lombardea lombardica londresa mallorcas medicanos medico mejido
mejio melico mendosa mexica navarca navarras navarro norteafricana norteafricanas norteafricano norteafricanos
otario pamplina panada panamas paraguas patagona patagonica pensilvana piamente piamontes salamancas salero saleron
santiagos semilla servilla sicigia sultana tarragonas tocana tocanas tocano tocanos torondo toronjo tostanos triaste
triente triste tucumanas tucumanos valencias valentia vejezuela vencia venencia veneruela venezuelan virginea
virginias
abres acenas acres ajenas amenas apenas areas arena banca blanco blanda bueno capita capitan capitel centra centre
centros digo ente entra entro estadios estamos estrados federa isla islam monta monte monto nuevas nueve
nuevo palo puerco puerta puesto punto puntas regio reina reno roman romano romina rumana unico unicos unida unidas
unio unios vaso vasto
"""
_NOT_PLACES: frozenset[str] = frozenset(_NOT_PLACES_TEXT.split())
# Other names of a country itself (besides NAMES, the slugs and abbreviations in capitals): after a
# city they say which country it is in ("Córdoba, Spain").
_OTHER_COUNTRY_NAMES: frozenset[str] = frozenset({
    "estados unidos de america", "united states", "norteamerica", "espania", "spain", "italy", "japan",
    "brazil", "mejico", "inglaterra", "england", "gran bretaña", "united kingdom", "corea",
})
_TWO_EDITS_FROM = 12
_FUZZY_STOPWORDS: frozenset[str] = frozenset({"el", "la", "los", "las", "de", "del", "y", "e", "o", "a", "en"})

_TOKEN = re.compile(r"[a-z0-9ñ]+")
_EMAIL_OR_URL = re.compile(r"\S+@\S+|(?:https?://|www\.)\S+|\b[\w.-]+\.(?:com|org|net|gob|edu)\b\S*")
_REPEATS = re.compile(r"([a-zñ])\1{2,}")
_JOINERS = re.compile(r"[\s.'’\-]*")  # between the words of one name ("EE. UU.", "Castilla-La Mancha")
_CLAUSE_START = re.compile(r"(^|[.,;:!?¡¿()\n\-])\s*$")


@dataclass(frozen=True)
class _Entry:
    slug: str
    key: str  # folded surface, words joined by one space
    country_name: bool  # the country itself ("Chile", "EEUU"), not a city, region or demonym
    place: bool  # capitalised in paises.yml: a place ("Córdoba"), not a demonym ("chilenos")


@dataclass
class _Index:
    exact: dict[tuple[str, ...], _Entry]
    compact: dict[str, _Entry]  # "eeuu", "usa", "bsas": for runs of one- or two-letter words
    fuzzy1: dict[str, list[_Entry]]  # one-word names by first letter
    fuzzy2: list[tuple[tuple[str, str], _Entry]]  # two-word names
    longest: int
    starts: frozenset[str]  # the first words of the names


def _surfaces() -> dict[str, str]:
    """Every surface of paises.yml (as written) → its slug."""
    data = yaml.safe_load(PAISES_FILE.read_text(encoding="utf-8"))
    found: dict[str, str] = {}
    for block in data.get("nlu", []):
        slug = block.get("synonym")
        if not slug:
            continue
        for line in block["examples"].splitlines():
            surface = line.strip().removeprefix("- ").strip()
            if surface:
                found[surface] = slug
    return found


_fold_char = lru_cache(maxsize=4096)(fold)


def _words(text: str) -> list[str]:
    return _TOKEN.findall(fold(text))


def _plain(word: str) -> str:
    return word.replace("ñ", "n")


@lru_cache(maxsize=1)
def _aliases() -> dict[str, str]:
    aliases: dict[str, str] = {fold(slug): slug for slug in NAMES}
    aliases.update((fold(surface), slug) for surface, slug in _surfaces().items())
    return aliases


@lru_cache(maxsize=1)
def _index() -> _Index:
    names = {" ".join(_words(n)) for n in NAMES.values()} | {slug.replace("-", " ") for slug in NAMES} | _OTHER_COUNTRY_NAMES
    entries: dict[str, _Entry] = {}
    initials: dict[str, _Entry] = {}
    for surface, slug in [*_surfaces().items(), *_CODE_ONLY_SURFACES.items()]:
        words = _words(surface)
        key = " ".join(words)
        if not words:
            continue
        abbreviation = surface.isupper() and len("".join(words)) <= 4  # EEUU, EE.UU., USA, UK
        entry = entries.setdefault(key, _Entry(slug, key, key in names or abbreviation, surface[:1].isupper()))
        if abbreviation or (len(words) > 1 and all(len(w) <= 2 for w in words)):  # also "Bs As"
            initials.setdefault("".join(words), entry)
    exact: dict[tuple[str, ...], _Entry] = {}
    fuzzy1: dict[str, list[_Entry]] = {}
    fuzzy2: list[tuple[tuple[str, str], _Entry]] = []
    for key, entry in entries.items():
        words = tuple(key.split())
        exact.setdefault(words, entry)
        exact.setdefault(tuple(_plain(w) for w in words), entry)
        if key in _WORD_LIKE or key in _CAPITAL_ONLY or key in _UPPER_ONLY:
            continue
        if len(words) == 1 and _fuzzy_source(entry):
            fuzzy1.setdefault(key[0], []).append(entry)
        elif len(words) == 2 and all(len(w) >= 3 and w not in _FUZZY_STOPWORDS for w in words):
            fuzzy2.append(((_plain(words[0]), _plain(words[1])), entry))
    return _Index(exact, initials, fuzzy1, fuzzy2, max(len(w) for w in exact), frozenset(w[0] for w in exact))


def _fuzzy_source(entry: _Entry) -> bool:
    """Misspellings are looked for of names of 7 letters or more, of countries of 6 ("brasil",
    "italia", "españa"), and of "chile": shorter names have too many Spanish words around them."""
    if entry.country_name:
        return len(entry.key) >= 6 or (len(entry.key) == 5 and entry.slug in DESTINATIONS)
    return len(entry.key) >= 7


@dataclass(frozen=True)
class _Token:
    word: str  # folded, runs of 3+ equal letters cut to 2 ("eeuuu" → "eeuu")
    start: int  # in the folded text
    end: int


class _Text:
    """A message folded for matching, with the way back to the positions of the original."""

    def __init__(self, text: str) -> None:
        self.text = text
        chars: list[str] = []
        self.origin: list[int] = []
        for i, ch in enumerate(text):
            for c in _fold_char(ch):
                chars.append(c)
                self.origin.append(i)
        self.folded = "".join(chars)
        masked = _EMAIL_OR_URL.sub(lambda m: " " * len(m.group()), self.folded)
        self.tokens = [_Token(_REPEATS.sub(r"\1\1", m.group()), m.start(), m.end()) for m in _TOKEN.finditer(masked)]

    def shouting(self, first: int, last: int) -> bool:
        """The rest of the message (outside tokens first..last) is written mostly in capitals."""
        start, end = self.span(first, last)
        letters = [c for c in self.text[:start] + self.text[end:] if c.isalpha()]
        return sum(c.isupper() for c in letters) > len(letters) / 2

    def span(self, first: int, last: int) -> tuple[int, int]:
        """Original (start, end) of tokens first..last."""
        start = self.origin[self.tokens[first].start]
        end = self.origin[self.tokens[last].end - 1] + 1
        while end < len(self.text) and fold(self.text[end]) == "":  # combining accents
            end += 1
        return start, end

    def original(self, i: int) -> str:
        start, end = self.span(i, i)
        return self.text[start:end]

    def gap(self, i: int) -> str:
        """The folded text between token i-1 and token i (from the start for i == 0)."""
        before = self.tokens[i - 1].end if i > 0 else 0
        return self.folded[before:self.tokens[i].start]

    def joined(self, first: int, last: int) -> bool:
        """Tokens first..last are written as one name: only spaces, dots, hyphens, apostrophes between."""
        return all(_JOINERS.fullmatch(self.gap(k)) for k in range(first + 1, last + 1))

    def word(self, i: int) -> str | None:
        return self.tokens[i].word if 0 <= i < len(self.tokens) else None

    def capitalised_inside(self, i: int) -> bool:
        """Token i starts with a capital and is not the first word of a sentence."""
        if not self.original(i)[:1].isupper():
            return False
        before = self.folded[:self.tokens[i].start]
        return not re.search(r"(^|[.!?¡¿\n])\s*$", before)


@dataclass
class _Found:
    first: int
    last: int
    entry: _Entry
    confidence: float = 1.0


def _allowed(text: _Text, first: int, last: int, entry: _Entry) -> bool:
    """The constraints of the tables above, for an exact match of tokens first..last."""
    key = entry.key
    if key in _UPPER_ONLY:
        start, end = text.span(first, last)
        if any(c.islower() for c in text.text[start:end]):
            return False
        if key == "la":
            following = text.word(last + 1)
            return (not text.shouting(first, last) and text.word(first - 1) in _PLACE_PREPOSITIONS
                    and (following is None or following in _CLAUSE_WORDS or bool(re.search(r"[,.;:!?)]", text.gap(last + 1)))))
    if key in _CAPITAL_ONLY:
        return text.capitalised_inside(last)
    alone = first == 0 and last == len(text.tokens) - 1  # the whole message: an answer to "¿dónde?"
    if key in _WORD_LIKE and not (alone or text.capitalised_inside(last) or text.word(first - 1) in _PLACE_PREPOSITIONS
                                  or (not text.shouting(first, last) and text.original(last).isupper())):
        return False
    if key in _PERSON_NAMES:
        before, after = text.word(first - 1), text.word(last + 1)
        if before in _NAME_CUES and re.fullmatch(r"\s+", text.gap(first)):
            return False
        if text.original(first)[:1].isupper():
            exact = _index().exact
            if (before is not None and text.gap(first) == " " and text.original(first - 1)[:1].isupper()
                    and (before in _PERSON_NAMES or (before not in _PLACE_PREPOSITIONS and before not in _LOCATION_VERBS
                                                     and (before,) not in exact))):
                return False  # "Juan Mendoza", "Rosario Mendoza"
            if (after is not None and text.gap(last + 1) == " " and text.original(last + 1)[:1].isupper()
                    and (after in _PERSON_NAMES or ((after,) not in exact and after not in _CLAUSE_WORDS))):
                return False  # "Santiago Quispe"
    return True


def _exact_at(text: _Text, i: int, index: _Index) -> _Found | None:
    n_tokens = len(text.tokens)
    longest = index.longest if text.tokens[i].word in index.starts or _plain(text.tokens[i].word) in index.starts else 0
    for n in range(min(longest, n_tokens - i), 0, -1):
        last = i + n - 1
        if n > 1 and not text.joined(i, last):
            continue
        words = tuple(t.word for t in text.tokens[i:last + 1])
        entry = index.exact.get(words) or index.exact.get(tuple(_plain(w) for w in words))
        if entry and _allowed(text, i, last, entry):
            return _Found(i, last, entry)
    # Initials written apart: "E.E.U.U.", "EE. UU.", "U.S.A.", "Bs. As."
    run = 0
    while i + run < n_tokens and len(text.tokens[i + run].word) <= 2 and (run == 0 or re.fullmatch(r"[\s.]{0,3}", text.gap(i + run))):
        run += 1
    for n in range(min(run, 6), 1, -1):
        entry = index.compact.get("".join(t.word for t in text.tokens[i:i + n]))
        if entry and _allowed(text, i, i + n - 1, entry):
            return _Found(i, i + n - 1, entry)
    return None


def _edits_allowed(length: int, two_words: bool) -> int:
    if two_words:
        return 1 if length < 14 else 2
    return 1 if length < _TWO_EDITS_FROM else 2


def _fuzzy_word(word: str) -> bool:
    return len(word) >= 5 and word.isalpha() and word not in _NOT_PLACES


def _fuzzy_at(text: _Text, i: int, index: _Index) -> _Found | None:
    first = text.tokens[i].word
    if not first.isalpha() or (first,) in index.exact or (_plain(first),) in index.exact:
        return None  # a name as written, refused by `_allowed`, is not a misspelling of another
    second = text.word(i + 1)
    if (second and second.isalpha() and re.fullmatch(r"\s+", text.gap(i + 1)) and len(first) >= 3 and len(second) >= 3
            and len(first) + len(second) >= 8 and (second,) not in index.exact):
        one, two = _plain(first), _plain(second)
        found = _best(f"{one} {two}", [(f"{a} {b}", e) for (a, b), e in index.fuzzy2
                                       if _near(one, a) and _near(two, b)], two_words=True)
        if found:
            entry, confidence = found
            return _Found(i, i + 1, entry, confidence)
    if not _fuzzy_word(first):
        return None
    found = _best(_plain(first), [(_plain(e.key), e) for e in index.fuzzy1.get(first[0], [])], two_words=False)
    if found:
        entry, confidence = found
        return _Found(i, i, entry, confidence)
    return None


def _near(word: str, name_word: str) -> bool:
    """A word of a two-word name may be misspelt if it has 5 letters or more ("sin Diego" is not
    "San Diego") and what is written is no Spanish word ("estamos unidos" is not "Estados Unidos")."""
    if word == name_word:
        return True
    return len(name_word) >= 5 and word[0] == name_word[0] and word not in _NOT_PLACES


def _best(word: str, candidates: list[tuple[str, _Entry]], two_words: bool) -> tuple[_Entry, float] | None:
    """The one slug within the allowed edits of `word` (None when none, or two slugs tie)."""
    best: dict[str, tuple[int, _Entry]] = {}
    for key, entry in candidates:
        limit = _edits_allowed(len(key), two_words)
        if abs(len(key) - len(word)) > limit:
            continue
        distance = OSA.distance(word, key, score_cutoff=limit)
        if distance <= limit and (entry.slug not in best or distance < best[entry.slug][0]):
            best[entry.slug] = (distance, entry)
    if not best:
        return None
    ranked = sorted(best.values(), key=lambda pair: pair[0])
    if len(ranked) > 1 and ranked[0][0] == ranked[1][0]:
        return None
    distance, entry = ranked[0]
    return entry, round(1 - distance / max(len(entry.key), 1), 3)


def _role(text: _Text, first: int) -> str | None:
    """LOCATION when the words before token `first` say the person is there."""
    k = first - 1
    if text.word(k) in _ARTICLES:
        k -= 1
    word = text.word(k)
    if word == "desde":
        return LOCATION
    if word != "en":
        return None
    if text.word(k - 1) in ("aqui", "aca"):
        return LOCATION
    k -= 1
    skipped = 0
    while text.word(k) is not None and text.word(k) not in _LOCATION_VERBS and (text.word(k) in _FILLERS or text.word(k).isdigit()):
        k -= 1
        skipped += 1
        if skipped > 6:
            return None
    verb = text.word(k)
    if verb not in _LOCATION_VERBS:
        return None
    before = text.word(k - 1)
    if verb in _NOUN_LIKE_VERBS:
        clause_start = _CLAUSE_START.search(text.folded[:text.tokens[k].start]) is not None
        if not (before in _NOUN_LIKE_VERBS[verb] or (clause_start and verb in ("trabajo", "estudio"))):
            return None
        if verb in ("encuentro", "encontramos"):
            k -= 1  # the negation comes before "me"/"nos"
            before = text.word(k - 1)
    if before in _NEGATIONS and text.gap(k).isspace():  # "no vivo en Chile", not "no, vivo en Chile"
        return None
    return LOCATION


def _qualified(text: _Text, found: list[_Found]) -> list[_Found]:
    """Join a city to the country written right after it: "Córdoba, España", "Córdoba (España)" →
    espana, one mention. (Demonyms are not joined: "venezolanos, Perú" stays two mentions.)"""
    joined: list[_Found] = []
    for item in found:
        if joined:
            city = joined[-1]
            between = text.folded[text.tokens[city.last].end:text.tokens[item.first].start]
            following = text.word(item.last + 1)
            clause_ends = following is None or following in _CLAUSE_WORDS or bool(re.match(r"\s*[,.;:!?)]", text.gap(item.last + 1)))
            if (item.entry.country_name and city.entry.place and not city.entry.country_name and re.fullmatch(r"\s*[,(\-]?\s*", between)
                    and (city.entry.slug == item.entry.slug or clause_ends)):
                joined[-1] = _Found(city.first, item.last, item.entry, min(city.confidence, item.confidence))
                continue
        joined.append(item)
    return joined


def find(text: str) -> list[Mention]:
    """Every country mentioned in `text`, in order, with its slug and its original span."""
    if not text:
        return []
    folded = _Text(text)
    index = _index()
    found: list[_Found] = []
    i = 0
    while i < len(folded.tokens):
        hit = _exact_at(folded, i, index) or _fuzzy_at(folded, i, index)
        if hit:
            after = _NOT_A_COUNTRY_AFTER.get(hit.entry.key)
            if not (after and folded.word(hit.last + 1) in after):
                found.append(hit)
            i = hit.last + 1
        else:
            i += 1
    mentions = []
    for item in _qualified(folded, found):
        start, end = folded.span(item.first, item.last)
        if item.last > item.first and all(len(t.word) <= 2 for t in folded.tokens[item.first:item.last + 1]):
            end += text[end:end + 1] == "."  # the last dot of "E.E.U.U.", "Bs. As."
        if "(" in text[start:end] and text[end:end + 1] == ")":
            end += 1  # "Córdoba (España)"
        mentions.append(Mention(item.entry.slug, start, end, text[start:end], _role(folded, item.first), item.confidence,
                                demonym=not item.entry.place))
    return mentions


def normalize(value: str | None) -> str | None:
    """Map a country as written (or a slug) to its slug; `OTHER` for "otro país"; None if unknown.

    A value that is one country however written ("E.E.U.U.", "itaia", "Córdoba, España") maps
    too; a sentence or several countries do not.
    """
    if not value:
        return None
    key = fold(str(value).strip())
    if key in (OTHER, "otro pais"):
        return OTHER
    slug = _aliases().get(key)
    if slug:
        return slug
    mentions = find(str(value))
    if len(mentions) == 1 and not _TOKEN.search(fold(str(value).replace(mentions[0].surface, " "))):
        return mentions[0].slug
    return None


def name(slug: str) -> str:
    """Display name of a slug ("espana" → "España")."""
    return NAMES.get(slug, slug.replace("-", " ").title())
