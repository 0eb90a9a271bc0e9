"""Rasa NLU component: the intent that the countries of a message decide (bot/cues.py).

Runs after DIET, the FallbackClassifier and the SignalIntentClassifier. Where DIET is unsure (the
fallback, or a confidence below `max_confidence`) or chose one of the intents a cue tells apart
(`overrules`), a foreign national asking about work in Peru gets line 4 (`peru_andinos` or
`peru_extranjeros`) and a Peruvian consulate in a named foreign place gets `exterior_instituciones`.
A danger signal or a request for a person (SignalIntentClassifier) is never touched, nor a button's
"/intent{...}".
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, PREDICTED_CONFIDENCE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot import cues
from bot.rasa_nlu.intents import decide

CUE_KEY = "cue"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class CueIntentClassifier(GraphComponent, IntentClassifier):
    """Sets the intent that who the person is and where they are decide, where DIET is unsure."""

    @classmethod
    def required_components(cls) -> list[type]:
        return [IntentClassifier]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            # DIET's intent stands when at least this sure, unless it is one of `overrules`.
            "max_confidence": 0.8,
            # Never changed: the protection layer's and the person's own choices.
            "keeps": ["senal_de_peligro", "pedir_asesor"],
            # Intents a cue tells apart from its own, however sure DIET is.
            "overrules": ["nlu_fallback", "linea_emigrar", "linea_exterior", "info_contacto"],
        }

    def __init__(self, config: dict[str, Any]) -> None:
        self.component_config = config
        self.keeps = frozenset(config["keeps"])
        self.overrules = frozenset(config["overrules"])
        self.max_confidence = float(config["max_confidence"])

    @classmethod
    def create(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> CueIntentClassifier:
        return cls(config)

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            if not text or text.lstrip().startswith("/"):
                continue
            current = message.get(INTENT) or {}
            name = current.get(INTENT_NAME_KEY)
            sure = float(current.get(PREDICTED_CONFIDENCE_KEY) or 0.0) >= self.max_confidence
            if name in self.keeps or (sure and name not in self.overrules):
                continue
            decided = cues.intent_for(text)
            if decided is None or decided == name:
                continue
            decide(message, decided)
            message.set(CUE_KEY, {"intent": decided, "instead_of": name}, add_to_output=True)
        return messages
