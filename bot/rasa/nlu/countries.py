"""Rasa NLU component: the countries of a message, as `country` entities whose value is the slug.

It replaces the lookup-table extraction (RegexEntityExtractor over data/nlu/paises.yml): the
finding itself is `bot.countries.find` (spelling variants, abbreviations, demonyms, cities and
regions, misspellings). A country where the person says they are ("vivo en Chile") gets the role
"location"; a destination or topic country has no role, so a `from_entity: country` slot mapping
without a role takes only those. Any `country` entity another extractor already put on the
message is dropped, so a country is never reported twice.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import (
    ENTITIES,
    ENTITY_ATTRIBUTE_CONFIDENCE,
    ENTITY_ATTRIBUTE_END,
    ENTITY_ATTRIBUTE_ROLE,
    ENTITY_ATTRIBUTE_START,
    ENTITY_ATTRIBUTE_TYPE,
    ENTITY_ATTRIBUTE_VALUE,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot import countries

ENTITY = "country"


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=False)
class CountryExtractor(GraphComponent, EntityExtractorMixin):
    """Adds {"entity": "country", "value": <slug>, "start", "end"[, "role": "location"]} per country."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {}

    def __init__(self, config: dict[str, Any]) -> None:
        self.component_config = {**self.get_default_config(), **config}

    @classmethod
    def create(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> CountryExtractor:
        return cls(config)

    @classmethod
    def load(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> CountryExtractor:
        return cls.create(config, model_storage, resource, execution_context)  # nothing was trained

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data  # the annotated examples keep their own entities

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            if text.lstrip().startswith("/"):  # a button's "/intent{...}": RegexMessageHandler's job
                continue
            others = [e for e in message.get(ENTITIES, []) if e.get(ENTITY_ATTRIBUTE_TYPE) != ENTITY]
            found = self.add_extractor_name([self.entity(m) for m in countries.find(text)])
            message.set(ENTITIES, others + found, add_to_output=True)
        return messages

    @staticmethod
    def entity(mention: countries.Mention) -> dict[str, Any]:
        entity: dict[str, Any] = {
            ENTITY_ATTRIBUTE_TYPE: ENTITY,
            ENTITY_ATTRIBUTE_START: mention.start,
            ENTITY_ATTRIBUTE_END: mention.end,
            ENTITY_ATTRIBUTE_VALUE: mention.slug,
            ENTITY_ATTRIBUTE_CONFIDENCE: mention.confidence,
        }
        if mention.role:  # no "role" key at all otherwise: Rasa featurizes "country#None" for a None
            entity[ENTITY_ATTRIBUTE_ROLE] = mention.role
        return entity
