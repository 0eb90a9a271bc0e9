"""Rasa NLU component: the language of a message, as the entity `language` ("en" or "es").

The slot `lang` is filled from it (domain.yml), so a conversation that switches to English gets
English menus and the English articles until it writes Spanish again; a message that does not say
(one word, a number) leaves the slot as it was. The decision itself is bot/language.py.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot import language

ENTITY = "language"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False)
class LanguageDetector(GraphComponent, EntityExtractorMixin):
    """Adds {"entity": "language", "value": "en"|"es"} to messages whose language is clear."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {}

    def __init__(self, config: dict[str, Any]) -> None:
        self.component_config = config

    @classmethod
    def create(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> LanguageDetector:
        return cls(config)

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            if not text or text.lstrip().startswith("/"):
                continue
            found = language.detect(text)
            if found is None:
                continue
            entity = {"entity": ENTITY, "value": found, "start": 0, "end": len(text), "confidence": 1.0}
            entities = [e for e in message.get(ENTITIES, []) if e.get("entity") != ENTITY]
            message.set(ENTITIES, entities + self.add_extractor_name([entity]), add_to_output=True)
        return messages
