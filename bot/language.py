"""Which language a message is written in: Spanish, English, or not clear (short or mixed).

Line 4 of the service serves foreign workers in Peru; most speak Spanish, and English is the common
second language of the rest. A message counts as English when its English function words clearly
outnumber its Spanish ones (word lists below: words that exist in both languages, like "no", "me"
or "a", count for neither). One-word greetings and thanks are recognised too. No Rasa import: the
NLU component (bot/rasa/nlu/language.py) and the actions both use it.
"""

from __future__ import annotations

from bot.signals.normalize import plain

_ENGLISH_WORDS = """
the is are am was were be been i im i'm my mine you your yours we our they their it its this that these those
what how where when why who which can could would should will do does did dont doesnt have has had not and or
but with for from to of about into at on by an any some there here please thanks thank hello hi hey help
work working job jobs permit visa need want get find someone person talk speak advisor contact rights
foreigner foreign peru employer boss pay paid salary if as just also than then so very much many
"""
ENGLISH = frozenset(_ENGLISH_WORDS.split())

_SPANISH_WORDS = """
el la los las de del que y en un una unos unas por para con mi mis es son soy estoy esta estan eres fue
como cuando donde porque pero tambien muy mas ya hay tengo tiene tienen quiero necesito puedo puede se su
sus al lo le les nos hola gracias buenas buenos dias tardes noches si sin sobre trabajo trabajar chamba
cual cuanto cuanta cuantos que ayuda ayudame favor papeles visa hacer sacar ir voy vamos mi peru pais
"""
SPANISH = frozenset(_SPANISH_WORDS.split()) - ENGLISH

GREETINGS_EN = frozenset({"hello", "hi", "hey", "thanks", "thank you", "good morning", "good afternoon", "good evening",
                          "help", "hello there", "thanks a lot", "thank you very much"})


def detect(text: str) -> str | None:
    """"en", "es", or None when the message does not say (one word, a number, mixed)."""
    form = plain(text)
    if not form:
        return None
    if form in GREETINGS_EN:
        return "en"
    words = form.split()
    english = sum(w in ENGLISH for w in words)
    spanish = sum(w in SPANISH for w in words)
    if english >= 2 and english >= 2 * spanish:
        return "en"
    if spanish >= 2 and spanish >= english:
        return "es"
    if len(words) <= 3 and spanish >= 1 and english == 0:
        return "es"
    return None
