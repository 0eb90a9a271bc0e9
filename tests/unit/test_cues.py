"""Who the person is and where they are decide the intent where DIET is unsure (bot/cues.py)."""

import pytest

from bot import cues


@pytest.mark.parametrize(("text", "intent"), [
    ("soy boliviana y me ofrecen chamba en una mina de Puno, q necesito", "peru_andinos"),
    ("somos de Guayaquil y queremos trabajar legalmente en el Perú", "peru_andinos"),
    ("mi primo es colombiano, puede trabajar aca con contrato?", "peru_andinos"),
    ("soy chileno y quiero trabajar formal en Lima", "peru_extranjeros"),
    ("soy extranjera, q permiso necesito pa trabajar en Arequipa", "peru_extranjeros"),
    ("I'm from Canada, what permit do I need to work in Peru?", "peru_extranjeros"),
    ("as a foreigner, how do I get a work visa for Peru", "peru_extranjeros"),
    ("dónde queda el consulado del Perú en Barcelona", "exterior_instituciones"),
    ("the Peruvian consulate in Miami, where is it", "exterior_instituciones"),
    ("a q numero llamo pa pedir una ambulancia en Valparaíso", "seguridad_emergencia"),
    ("cual es el telefono de la policia en Barcelona", "seguridad_emergencia"),
    ("acabo de aterrizar en Milán con mi contrato, q hago primero", "emigrar_primeros_pasos"),
    ("recien llegue a the states con la h2a, q hago", "emigrar_primeros_pasos"),
    ("Italy, trabajo de cuidadora, como consigo el permiso", "emigrar_tramites"),
    ("q papeles necesito pa trabajar en España", "emigrar_tramites"),   # a Peruvian going abroad
])
def test_the_countries_decide(text, intent):
    assert cues.intent_for(text) == intent


@pytest.mark.parametrize("text", [
    "soy colombiano y quiero ir a trabajar a España",          # another destination
    "soy venezolano, vivo en Lima y me quiero ir a Chile a trabajar",
    "soy boliviano y vivo en Lima, donde esta el consulado de Bolivia",  # their own consulate
    "llegue a Lima desde Chile, q hago",                       # arrived in Peru
    "soy venezolano y llegue a Chile, q papeles necesito",     # a foreign national: not a Peruvian's permit
    "tengo visa de Chile, puedo trabajar aqui?",               # here
    "q papeles necesito pa trabajar en España o en Italia",    # two places
    "llegue a España y cuanto es el sueldo minimo",            # wages: left to the classifier
    "quiero trabajar en el Perú",                              # nobody foreign
    "soy peruano y trabajo en Chile",
    "soy colombiano, cuál es la capital del Perú",             # not about work or papers
    "dónde queda el consulado",                                # no place abroad
    "cual es el numero de la policia en Lima",                 # Peru: left to the classifier
    "soy ecuatoriano y colombiano, trabajo en Lima",           # two nationalities: ambiguous
])
def test_no_cue_no_decision(text):
    assert cues.intent_for(text) is None


@pytest.mark.parametrize("text", [
    "soy boliviano y trabajo en Lima, cuánto es el sueldo mínimo",   # wages: the tips for working in Peru
    "soy extranjera con contrato en Lima, me tienen que dar vacaciones?",
    "soy extranjero y trabajo aca en peru",                          # no question about papers
])
def test_wages_and_rights_are_left_to_the_classifier(text):
    assert cues.intent_for(text) is None
