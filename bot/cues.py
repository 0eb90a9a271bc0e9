"""Intents that who the person is and where they are decide, when the words alone leave DIET unsure.

Two questions look alike to a classifier trained on a few dozen examples per intent, yet the
countries in them settle the answer:

- a foreign national asking about work or papers in Peru ("soy colombiano, ¿cómo trabajo legal en
  el Perú?", "I'm a foreigner, what status do I need to work in Peru?") is line 4 of the service:
  `peru_andinos` for the Andean Community (Bolivia, Colombia, Ecuador: Decisión 545), else
  `peru_extranjeros`; not "emigrar" (Peruvians leaving) nor the general tips for living in Peru;
- a Peruvian consulate in a named foreign place ("el consulado del Perú en Nueva York", "consolato
  del Perù a Milano") is `exterior_instituciones`, not the ministry's own contact;
- the number of the police or the ambulance in a named foreign place ("¿qué número es la ambulancia
  en Capital Federal?") is `seguridad_emergencia`, that country's emergency guide;
- someone who has just arrived in a named foreign place ("acabo de aterrizar en Andalucía, ¿qué
  pasos siguen?") asks for the first steps there, `emigrar_primeros_pasos`;
- papers or a permit for one named foreign place, asked by nobody foreign and with nothing of Peru
  in it ("Italy, trabajo de badante, ¿cómo consigo el permiso?") is `emigrar_tramites`, not line 4.

`intent_for` returns the intent, or None when the cue is not there or is ambiguous (a second
foreign place: "soy venezolano, vivo en Lima y me quiero ir a Chile"). The NLU component
bot/rasa/nlu/cues.py applies it only where DIET is unsure or chose a neighbouring intent.
"""

from __future__ import annotations

import re

from bot import countries
from bot.signals.normalize import plain

ANDEAN_COMMUNITY = frozenset({"bolivia", "colombia", "ecuador"})
LINE_FOUR_ANDEAN, LINE_FOUR_OTHERS = "peru_andinos", "peru_extranjeros"
CONSULATES, EMERGENCIES = "exterior_instituciones", "seguridad_emergencia"
FIRST_STEPS, PERMITS_ABROAD = "emigrar_primeros_pasos", "emigrar_tramites"

# What line 4 answers: how to work legally (papers, permits, residence, the contract's registration).
PAPERS = re.compile(
    r"\b(papeles|documentos|tramite\w*|residencia|visa|visado|carne\w*|carnet|permiso\w*|formaliz\w*|legal\w*|contrato"
    r"|formal\w*|limite|status|permits?|residence|register\w*|paperwork)\b")
# ...or asked as "what do I need / how do I do it" about a job.
WORK = re.compile(r"\b(trabaj\w*|chamb\w*|emple\w*|contrat\w*|work\w*|jobs?|hired?)\b")
HOW = re.compile(r"\b(que (necesito|necesita|necesitamos|necesitan|hago|hace|hacemos)|como (hago|hace|hacemos)"
                 r"|what do (i|we) need|how (do|can) (i|we))\b")
# Wages, social security, rights at work: the tips for working in Peru (peru/otras-informaciones).
RIGHTS = re.compile(r"\b(essalud|minimo|sueldo|salario|cts|gratificacion\w*|vacaciones|despid\w*|afp|onp|wage|salary)\b")
# "soy de Bogotá", "vengo de Quito", "I'm from Spain": a place that says where the person comes from.
FROM = re.compile(r"\b(soy|somos|es|vengo|venimos|viene|llegue|llegamos|from)( de)?\s*$")
HERE = re.compile(r"\b(aqui|aca|here)\b")
FOREIGNER = re.compile(r"\b(foreigners?|extranjer[oa]s?|migrante extranjer[oa])\b")
EMERGENCY_SERVICE = re.compile(r"\b(ambulancia|policia|bomberos|emergencias?|carabineros|ambulance|police|emergency)\b")
PHONE = re.compile(r"\b(numero|telefono|fono|llamo|llamar|marco|marcar|number|call)\b")
CONSULATE = re.compile(r"\b(consulados?|consulates?|consolatos?|embajadas?|embassy)\b")
ARRIVED = re.compile(r"\b(acab[oa]s? de (llegar|aterrizar)|acabamos de (llegar|aterrizar)|recien (llegue|llegamos|llegad[oa]s?)"
                     r"|llegue|llegamos|aterrice|aterrizamos|just arrived|i arrived|we arrived)\b")
# ...and asks what comes first, not who can help (exterior_instituciones) or what the state offers.
FIRST = re.compile(r"\b(q|que) (hago|hacemos)( primero)?\b|\b(pasos|primero|q sigue|que sigue|siguen|first)\b")
# A permit asked for: "¿cómo consigo el permiso?", "¿qué visa necesito?" (not a contract offered: fraud looks so).
PERMIT = re.compile(r"\b(permiso|permisos|visa|visado|papeles|permits?)\b")
ASKS = re.compile(r"\b(como (consigo|saco|obtengo|tramito|pido|hago)|necesito|necesita|necesitamos|piden|pide|requisitos|how|what)\b")


def intent_for(text: str, mentions: list[countries.Mention] | None = None) -> str | None:
    """The intent the countries of `text` decide, or None."""
    folded = plain(text)
    if mentions is None:
        mentions = countries.find(text)
    return (_line_four(text, folded, mentions) or _consulate_abroad(folded, mentions) or _emergency_abroad(folded, mentions)
            or _abroad_only(text, folded, mentions))


def _line_four(text: str, folded: str, mentions: list[countries.Mention]) -> str | None:
    asks_how_to_work = bool(PAPERS.search(folded)) or bool(WORK.search(folded) and HOW.search(folded))
    if not asks_how_to_work or RIGHTS.search(folded):
        return None
    in_peru = any(m.slug == countries.HOME for m in mentions) or bool(HERE.search(folded))
    origins = [m for m in mentions if m.slug != countries.HOME and (m.demonym or FROM.search(plain(text[:m.start])))]
    nationalities = {m.slug for m in origins}
    places_abroad = {m.slug for m in mentions if m not in origins and m.slug != countries.HOME}
    if not in_peru or len(nationalities) > 1 or places_abroad - nationalities:
        return None  # not in Peru, or another destination is in play
    if nationalities:
        return LINE_FOUR_ANDEAN if nationalities <= ANDEAN_COMMUNITY else LINE_FOUR_OTHERS
    if FOREIGNER.search(folded) and any(m.slug == countries.HOME for m in mentions):
        return LINE_FOUR_OTHERS
    return None


def _consulate_abroad(folded: str, mentions: list[countries.Mention]) -> str | None:
    if not CONSULATE.search(folded) or any(m.demonym and m.slug != countries.HOME for m in mentions):
        return None  # a foreign national's own consulate ("soy boliviano, ¿dónde está mi consulado?") is not ours
    places_abroad = [m for m in mentions if not m.demonym and m.slug != countries.HOME]
    return CONSULATES if places_abroad else None


def _emergency_abroad(folded: str, mentions: list[countries.Mention]) -> str | None:
    if not (EMERGENCY_SERVICE.search(folded) and PHONE.search(folded)):
        return None
    places_abroad = [m for m in mentions if not m.demonym and m.slug != countries.HOME]
    return EMERGENCIES if places_abroad else None


def _abroad_only(text: str, folded: str, mentions: list[countries.Mention]) -> str | None:
    """Arrived in, or papers for, one named foreign place, with nothing of Peru or of a foreign origin."""
    if HERE.search(folded) or any(m.slug == countries.HOME for m in mentions):
        return None
    if any(m.demonym or FROM.search(plain(text[:m.start])) for m in mentions):
        return None  # "soy venezolano", "vengo de Chile": where the person comes from is in play
    if len({m.slug for m in mentions}) != 1 or RIGHTS.search(folded) or CONSULATE.search(folded):
        return None  # two places, wages and rights, or a consulate: left to the classifier and the other cues
    if ARRIVED.search(folded):
        return FIRST_STEPS if FIRST.search(folded) else None
    return PERMITS_ABROAD if PERMIT.search(folded) and ASKS.search(folded) else None

