"""Rasa NLU component: the intent a message signals, decided by the curated lexicons.

Runs after DIET and the FallbackClassifier on every message of every channel. A protection red
flag (bot/signals/danger.yml) makes the intent `senal_de_peligro` whatever DIET predicted, so a
withheld passport or unpaid wages are never answered "no estoy seguro"; a request for a person
(bot/signals/person.yml) makes it `pedir_asesor`; a question outside the service near its words,
asked without a word of work or migration (bot/signals/out_of_scope.yml), `fuera_de_alcance`. When DIET alone took a question asked "just in
case" (bot/signals/hypothetical.yml) for a danger signal, its next intent answers instead. What matched is kept in the parse data under
`signal` (kind and category) for the actions and the report. Button payloads ("/intent{...}") are
left to Rasa's RegexMessageHandler.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot import signals
from bot.rasa.nlu.intents import decide

DANGER_INTENT = "senal_de_peligro"
PERSON_INTENT = "pedir_asesor"
OUT_OF_SCOPE_INTENT = "fuera_de_alcance"
INTENT_OF = {"danger": DANGER_INTENT, "person": PERSON_INTENT, "out_of_scope": OUT_OF_SCOPE_INTENT}
SIGNAL_KEY = "signal"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class SignalIntentClassifier(GraphComponent, IntentClassifier):
    """Sets the intent of a message that carries a danger signal or asks for a person."""

    @classmethod
    def required_components(cls) -> list[type]:
        return [IntentClassifier]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {}

    def __init__(self, config: dict[str, Any]) -> None:
        self.component_config = config
        # Compile both lexicons when the model loads, not at the first message.
        signals.lexicon("danger")
        signals.lexicon("person")

    @classmethod
    def create(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> SignalIntentClassifier:
        return cls(config)

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            if not text or text.lstrip().startswith("/"):
                continue
            found = signals.detect(text) or signals.out_of_scope(text)
            if found is None:
                self._overrule_hypothetical_danger(message, text)
                continue
            decide(message, INTENT_OF[found.kind])
            message.set(SIGNAL_KEY, {"kind": found.kind, "category": found.category}, add_to_output=True)
        return messages

    @staticmethod
    def _overrule_hypothetical_danger(message: Message, text: str) -> None:
        """DIET alone took a question asked "just in case" ("¿qué pasa si me accidento?") for a danger
        signal: the next intent of its ranking answers it (the information, not the alarm)."""
        intent = message.get(INTENT) or {}
        if intent.get(INTENT_NAME_KEY) != DANGER_INTENT or not signals.hypothetical(text):
            return
        ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get(INTENT_NAME_KEY) != DANGER_INTENT]
        if ranking:
            message.set(INTENT, ranking[0], add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
