"""The cue component (bot/rasa/nlu/cues.py) overrules DIET only where it may: when DIET is unsure, when
DIET chose a menu or the contact, and, for the intents the countries tell apart, a line-4 intent;
never a danger signal, a request for a person or a button. Run in the Rasa venv, where it runs."""

import json
import textwrap

from tests.rasa_venv import run_in_rasa

SCRIPT = textwrap.dedent('''
    import json
    from rasa.shared.nlu.training_data.message import Message
    from bot.rasa.nlu.cues import CueIntentClassifier

    component = CueIntentClassifier({**CueIntentClassifier.get_default_config()})
    cases = json.loads(INPUT)
    out = []
    for text, intent, confidence in cases:
        message = Message(data={"text": text, "intent": {"name": intent, "confidence": confidence},
                                "intent_ranking": [{"name": intent, "confidence": confidence}]})
        component.process([message])
        out.append(message.get("intent")["name"])
    print(json.dumps(out))
''')

CASES = [
    # DIET unsure: the cue decides
    ("acabo de aterrizar en Andalucía con mi visado, q pasos siguen", "nlu_fallback", 0.3, "emigrar_primeros_pasos"),
    # DIET sure of a neighbouring line-4 intent: the countries tell them apart
    ("soy argentino y me ofrecieron trabajo en Lima, q tramite hago", "peru_otras_informaciones", 0.95, "peru_extranjeros"),
    ("Italy, trabajo de cuidadora, como consigo el permiso", "peru_extranjeros", 0.95, "emigrar_tramites"),
    # ...but a line-4 intent DIET is sure of is not taken by a cue that does not tell line 4 apart
    ("q tramite hago en el consulado peruano de Bogotá pa venirme a trabajar", "peru_andinos", 0.95, "peru_andinos"),
    # DIET sure of another intent: left alone
    ("acabo de llegar a Madrid, q hago primero pa buscar a los paisanos", "exterior_instituciones", 0.9,
     "exterior_instituciones"),
    # never the protection layer's or the person's choice, never a button
    ("llegue a España y q hago, mi jefe me quito el pasaporte", "senal_de_peligro", 1.0, "senal_de_peligro"),
    ("soy colombiano, q papeles necesito pa trabajar en Lima, quiero hablar con alguien", "pedir_asesor", 1.0,
     "pedir_asesor"),
    ('/emigrar_tramites{"country":"italia"}', "emigrar_tramites", 1.0, "emigrar_tramites"),
]


def test_the_cue_overrules_only_where_it_may():
    script = SCRIPT.replace("json.loads(INPUT)", repr(json.dumps([c[:3] for c in CASES])).join(["json.loads(", ")"]))
    got = json.loads(run_in_rasa(script, timeout=180).strip().splitlines()[-1])
    assert got == [c[3] for c in CASES]
