"""Rasa NLU component: the intent that the countries of a message decide (bot/cues.py).

Runs after DIET, the FallbackClassifier and the SignalIntentClassifier. Where DIET is unsure (the
fallback, or a confidence below `max_confidence`) or chose one of the intents a cue tells apart
(`overrules`: the menus and the contact; `also_overrules`: the line-4 intents, for the intents the
countries tell apart from them), the cue of bot/cues.py decides: line 4 for a foreign national asking about work in Peru, a
Peruvian consulate or the emergency number in a named foreign place, the first steps or the permit
for one named foreign place.
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
from bot.rasa.nlu.intents import decide

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
            # ...and, for some decided intents, these too: the three intents of line 4 look alike, and
            # only the countries tell a Peruvian's permit abroad from a foreigner's papers in Peru.
            "also_overrules": {
                "peru_andinos": ["peru_extranjeros", "peru_otras_informaciones"],
                "peru_extranjeros": ["peru_andinos", "peru_otras_informaciones"],
                "emigrar_tramites": ["peru_andinos", "peru_extranjeros", "peru_otras_informaciones"],
            },
        }

    def __init__(self, config: dict[str, Any]) -> None:
        self.component_config = config
        self.keeps = frozenset(config["keeps"])
        self.overrules = frozenset(config["overrules"])
        self.max_confidence = float(config["max_confidence"])
        self.also_overrules = {decided: frozenset(names) for decided, names in (config.get("also_overrules") or {}).items()}
        self.overruled_by_some = frozenset().union(*self.also_overrules.values())

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
            if name in self.keeps or (sure and name not in self.overrules and name not in self.overruled_by_some):
                continue
            decided = cues.intent_for(text)
            if decided is None or decided == name:
                continue
            if sure and name not in self.overrules and name not in self.also_overrules.get(decided, ()):
                continue
            decide(message, decided)
            message.set(CUE_KEY, {"intent": decided, "instead_of": name}, add_to_output=True)
        return messages
