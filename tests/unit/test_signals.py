"""The protection and person lexicons (bot/signals): every listed example is caught, every listed
counter-example is left alone, and the training data's ordinary questions raise no alarm."""

import re
from pathlib import Path

import pytest
import yaml

from bot import signals
from bot.signals.normalize import plain

ROOT = Path(__file__).resolve().parents[2]
KINDS = ("danger", "person", "hypothetical", "out_of_scope")


def test_plain_form_spells_out_chat_spanish():
    assert plain("Me QUITARON el pasaporteee!!! xq???") == "me quitaron el pasaporte porque"
    assert plain("q hago pa q me paguen, el dueño dice q mañana") == "que hago para que me paguen el dueno dice que manana"
    assert plain("") == ""


@pytest.mark.parametrize("kind", KINDS)
def test_every_category_has_examples_and_counter_examples(kind):
    lexicon = signals.lexicon(kind)
    for category in lexicon.examples:
        assert lexicon.examples[category], f"{kind}/{category} has no examples"
        assert lexicon.counter_examples[category], f"{kind}/{category} has no counter-examples"


@pytest.mark.parametrize("kind", KINDS)
def test_examples_match_their_own_category_or_another_of_the_same_kind(kind):
    lexicon = signals.lexicon(kind)
    missed = [(c, e) for c, examples in lexicon.examples.items() for e in examples if lexicon.match(e) is None]
    assert missed == []


@pytest.mark.parametrize("kind", KINDS)
def test_counter_examples_are_left_alone(kind):
    """A danger or person counter-example raises no signal at all; a hypothetical one (a danger
    happening now) is not taken for a question asked just in case."""
    lexicon = signals.lexicon(kind)
    check = signals.detect if kind in ("danger", "person") else lexicon.match
    raised = [(c, e, check(e)) for c, examples in lexicon.counter_examples.items() for e in examples if check(e) is not None]
    assert raised == []


def test_detect_puts_danger_before_a_request_for_a_person():
    found = signals.detect("quiero hablar con una persona, el patron me quito el pasaporte")
    assert found.kind == "danger" and found.category == "documents"
    assert signals.detect("pasame con un asesor").kind == "person"
    assert signals.detect("que papeles necesito para trabajar en chile") is None


def test_accents_and_enye_are_optional():
    assert signals.danger("me dijeron que le van a hacer daño a mis hijos")
    assert signals.danger("me dijeron que le van a hacer dano a mis hijos")
    assert signals.danger("Mi patrón se quedó con mi pasaporte")


def test_a_bad_pattern_or_an_unknown_word_list_fails_naming_the_file(tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text(yaml.safe_dump({"categories": {"x": {"patterns": ["{NOPE} foo"]}}}))
    with pytest.raises(ValueError, match="bad.yml.*NOPE"):
        signals.load_lexicon("danger", bad)
    bad.write_text(yaml.safe_dump({"categories": {"x": {"patterns": ["(unclosed"]}}}))
    with pytest.raises(ValueError, match="bad.yml"):
        signals.load_lexicon("danger", bad)


def _training_examples():
    for path in sorted((ROOT / "data" / "nlu").glob("*.yml")):
        for block in yaml.safe_load(path.read_text(encoding="utf-8")).get("nlu", []):
            if "intent" not in block:
                continue
            for line in block["examples"].splitlines():
                text = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", line.strip().removeprefix("- ").strip())
                if text:
                    yield block["intent"], text


def test_training_data_of_other_intents_raises_no_alarm():
    """A pattern that catches an ordinary training question would turn that question into an alarm."""
    wrong = [(intent, text, signals.detect(text).category) for intent, text in _training_examples()
             if signals.detect(text) is not None and intent not in ("senal_de_peligro", "pedir_asesor")
             and not (intent.startswith("seguridad_") and signals.detect(text).kind == "danger")]
    assert wrong == []


def test_no_training_question_of_the_service_is_called_out_of_scope():
    """The out-of-scope lexicon must leave every question the service answers to the NLU."""
    wrong = [(intent, text) for intent, text in _training_examples()
             if signals.out_of_scope(text) is not None and intent != "fuera_de_alcance"]
    assert wrong == []
