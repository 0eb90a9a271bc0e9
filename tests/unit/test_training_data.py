"""The NLU data, the domain, the rules and the knowledge base agree with each other."""

import re
from pathlib import Path

import yaml

from bot import countries, knowledge
from bot.text import fold
from tests.conftest import ROOT

GENERAL = {"saludo", "despedida", "agradecer", "afirmar", "negar", "menu", "pedir_asesor", "informar_pais",
           "elegir_articulo", "ninguna", "fuera_de_alcance", "linea_emigrar", "linea_retorno", "linea_exterior",
           "linea_peru", "cancelar", "borrar_datos", "volver_al_asistente", "calificar", "valorar_respuesta", "dar_contacto",
           "senal_de_peligro"}
ANNOTATION = re.compile(r"\[([^\]]+)\]\((\w+)\)")


def examples(folder: Path) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path in sorted(folder.glob("*.yml")):
        for block in yaml.safe_load(path.read_text(encoding="utf-8")).get("nlu", []):
            if "intent" in block:
                lines = [ln.strip()[2:] for ln in block["examples"].splitlines() if ln.strip().startswith("- ")]
                found.setdefault(block["intent"], []).extend(lines)
    return found


def lookup_surfaces() -> set[str]:
    data = yaml.safe_load((ROOT / "data/nlu/paises.yml").read_text(encoding="utf-8"))
    block = next(b for b in data["nlu"] if b.get("lookup") == "country")
    return {ln.strip()[2:].lower() for ln in block["examples"].splitlines() if ln.strip()}


def plain(example: str) -> str:
    return " ".join(fold(ANNOTATION.sub(r"\1", example)).split())


DOMAIN = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
TRAIN = examples(ROOT / "data/nlu")
HELDOUT = examples(ROOT / "tests/nlu")
KB = knowledge.load()


def test_every_domain_intent_has_enough_training_examples():
    for intent in DOMAIN["intents"]:
        assert len(TRAIN.get(intent, [])) >= 8, intent


def test_topic_intents_and_knowledge_topics_match():
    topic_intents = set(DOMAIN["intents"]) - GENERAL
    assert topic_intents == set(KB.topic_by_intent), (
        topic_intents ^ set(KB.topic_by_intent)
    )


def test_every_topic_intent_is_answered_by_a_rule():
    ruled = set()
    for path in (ROOT / "data/rules").glob("*.yml"):
        for rule in yaml.safe_load(path.read_text(encoding="utf-8"))["rules"]:
            steps = rule["steps"]
            if len(steps) >= 2 and "intent" in steps[0] and steps[1].get("action") == "action_answer_topic":  # safety: + advisor
                ruled.add(steps[0]["intent"])
    flows = set(knowledge.base.ENTRY_INTENTS.values())  # entered by a form, not answered with an article
    assert set(KB.topic_by_intent) - ruled - flows == set()


def test_every_annotated_country_is_in_the_lookup_table():
    surfaces = lookup_surfaces()
    for source in (TRAIN, HELDOUT):
        for lines in source.values():
            for line in lines:
                for text, entity in ANNOTATION.findall(line):
                    assert entity == "country", line
                    assert text.lower() in surfaces, f"'{text}' is annotated but not in the lookup: {line}"


def test_every_lookup_surface_maps_to_a_known_country():
    for surface in lookup_surfaces():
        assert countries.normalize(surface) in countries.NAMES, surface


def test_heldout_questions_are_never_in_training():
    training = {plain(e) for lines in TRAIN.values() for e in lines}
    leaked = [q for lines in HELDOUT.values() for q in lines if plain(q) in training]
    assert not leaked, leaked


def test_heldout_set_covers_every_topic_with_150_questions_or_more():
    assert sum(len(v) for v in HELDOUT.values()) >= 150
    for intent in KB.topic_by_intent:
        assert len(HELDOUT.get(intent, [])) >= 4, intent
