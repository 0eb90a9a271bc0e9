""" "La voz del migrante": the suggestion form, its submission, and "borrar mis datos".

The form asks one short question at a time (domain: `utter_ask_vm_*`). Each slot is extracted
here, so that a question the form does not expect (a knowledge question, "asesor", "cancelar")
is not taken as an answer: the form is then rejected, a rule answers, and the form resumes. The
person is thanked with a reference only after the suggestion is committed; the submit is keyed
by `vm_key`, set once per form, so a retried or duplicated submit stores one suggestion.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot import countries, suggestions
from bot.knowledge.base import intent_for_topic
from bot.privacy.erase import ERASE_ACTION, erase_person
from bot.store.db import get_engine
from bot.suggestions.service import per_day
from bot.text import fold

from .actions import KB

FORM_SLOTS = ("vm_kind", "vm_country", "vm_city", "vm_topic", "vm_message", "vm_contact", "vm_consent", "vm_confirm", "vm_key")
# Intents that leave the form (rules handle them) instead of answering the question asked.
LEAVING = {"cancelar", "menu", "pedir_asesor", "borrar_datos", "valorar_respuesta"}
SKIP = {"no", "omitir", "ninguno", "ninguna", "no gracias", "prefiero no", "no quiero", "no dejar contacto", "-", "nada"}
YES = {"si", "sí", "si acepto", "sí acepto", "acepto", "claro", "ok", "dale", "de acuerdo", "enviar", "si, enviar"}
NO = {"no", "no acepto", "no, gracias", "no gracias", "nop", "cancelar"}
TOPIC_INTENTS = {intent_for_topic(topic) for topic in KB.topics} - {"dejar_sugerencia"}

# The form's questions, asked by `action_ask_<slot>` (the summary before sending is its own action).
QUESTIONS: dict[str, dict[str, Any]] = {
    "vm_kind": {
        "text": "¿Qué nos quieres dejar?",
        "buttons": [
            {"title": "Sugerencia", "payload": "sugerencia"},
            {"title": "Inquietud", "payload": "inquietud"},
            {"title": "Queja", "payload": "queja"},
            {"title": "Reconocimiento", "payload": "reconocimiento"},
        ],
    },
    "vm_country": {
        "text": "¿En qué país vives?",
        "buttons": [
            {"title": "Estados Unidos", "payload": '/informar_pais{"country":"eeuu"}'},
            {"title": "España", "payload": '/informar_pais{"country":"espana"}'},
            {"title": "Italia", "payload": '/informar_pais{"country":"italia"}'},
            {"title": "Chile", "payload": '/informar_pais{"country":"chile"}'},
            {"title": "Argentina", "payload": '/informar_pais{"country":"argentina"}'},
            {"title": "Otro país", "payload": '/informar_pais{"country":"otro"}'},
        ],
    },
    "vm_city": {"text": "¿En qué ciudad? (Si prefieres no decirlo, escribe «omitir».)"},
    "vm_topic": {
        "text": "¿Sobre qué tema es? Elige uno o escríbelo.",
        "buttons": [
            {"title": "Trabajo en el extranjero", "payload": "Trabajo en el extranjero"},
            {"title": "Retorno al Perú", "payload": "Retorno al Perú"},
            {"title": "Consulados y atención", "payload": "Consulados y atención"},
            {"title": "Derechos laborales", "payload": "Derechos laborales"},
            {"title": "Otro tema", "payload": "Otro tema"},
        ],
    },
    "vm_message": {
        "text": "Escribe tu mensaje en uno solo (hasta 2.000 caracteres). "
        "No incluyas datos que no sean necesarios, como tu número de documento."
    },
    "vm_contact": {
        "text": "Si quieres una respuesta, déjanos un correo electrónico o un teléfono con código de país "
        "(por ejemplo +34 612 345 678). Si no, escribe «no».",
        "buttons": [{"title": "No dejar contacto", "payload": "no"}],
    },
    "vm_consent": {
        "text": "Para guardar tu mensaje necesitamos tu permiso. Lo usaremos solo para atender y mejorar el servicio, "
        "lo verá personal del MTPE y podrás pedir que lo borremos escribiendo «borrar mis datos». "
        "¿Aceptas que guardemos tu mensaje y tus datos de contacto?",
        "buttons": [
            {"title": "Sí, acepto", "payload": "sí acepto"},
            {"title": "No acepto", "payload": "no acepto"},
            {"title": "Ver política de privacidad", "payload": '/elegir_articulo{"article":"info/privacidad"}'},
        ],
    },
}


def _text(tracker: Tracker) -> str:
    return (tracker.latest_message.get("text") or "").strip()


def _intent(tracker: Tracker) -> str:
    return tracker.latest_message.get("intent", {}).get("name") or ""


def _answers(tracker: Tracker, slot: str) -> bool:
    return tracker.get_slot("requested_slot") == slot


def _looks_like_contact(text: str) -> bool:
    """An e-mail address or a phone number, even a mistyped one ("ana@@example", "+51 98 76"):
    validation then says what is wrong with it, instead of the NLU taking it for a question."""
    return "@" in text or sum(c.isdigit() for c in text) >= 6


def _loose(text: str) -> str:
    return " ".join(fold(text).strip(" .!¡¿?").split())


def _answered(validate: Callable[..., Awaitable[dict[str, Any]]]) -> Callable[..., Awaitable[dict[str, Any]]]:
    """A slot emptied since the last message (action_vm_reset at the start, a refused answer) is
    handed to validation too (Rasa validates every slot set in the turn): it is not an answer."""

    @functools.wraps(validate)
    async def checked(self: Any, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Any) -> dict[str, Any]:
        if value is None:
            return {}
        return await validate(self, value, dispatcher, tracker, domain)

    return checked


class ValidateVozDelMigranteForm(FormValidationAction):
    def name(self) -> str:
        return "validate_voz_del_migrante_form"

    def _leaves(self, tracker: Tracker, *, questions_too: bool = True) -> bool:
        intent = _intent(tracker)
        # An article button ("Ver más" of an answer given during the form, the privacy policy…) carries
        # its article: the rule shows it, then the form asks its question again.
        pressed = intent == "elegir_articulo" and next(tracker.get_latest_entity_values("article"), None)
        return intent in LEAVING or bool(pressed) or (questions_too and intent in TOPIC_INTENTS)

    # extraction: what counts as an answer to the question asked ------------------------------
    async def extract_vm_kind(self, dispatcher, tracker: Tracker, domain) -> dict[str, Any]:
        if not _answers(tracker, "vm_kind") or self._leaves(tracker):
            return {}
        return {"vm_kind": _text(tracker)}

    async def extract_vm_country(self, dispatcher, tracker: Tracker, domain) -> dict[str, Any]:
        if not _answers(tracker, "vm_country") or self._leaves(tracker):
            return {}
        entity = next(tracker.get_latest_entity_values("country"), None)
        return {"vm_country": entity or _text(tracker)}

    async def extract_vm_city(self, dispatcher, tracker: Tracker, domain) -> dict[str, Any]:
        if not _answers(tracker, "vm_city") or self._leaves(tracker):
            return {}
        return {"vm_city": _text(tracker)}

    async def extract_vm_topic(self, dispatcher, tracker: Tracker, domain) -> dict[str, Any]:
        if not _answers(tracker, "vm_topic") or self._leaves(tracker, questions_too=False):
            return {}
        return {"vm_topic": _text(tracker)}

    async def extract_vm_message(self, dispatcher, tracker: Tracker, domain) -> dict[str, Any]:
        # The message is free text about anything: only an explicit way out is not an answer.
        if not _answers(tracker, "vm_message") or self._leaves(tracker, questions_too=False):
            return {}
        found: dict[str, Any] = {"vm_message": _text(tracker)}
        if not tracker.get_slot("vm_key"):
            found["vm_key"] = f"{tracker.sender_id}:{uuid.uuid4().hex}"
        return found

    async def extract_vm_contact(self, dispatcher, tracker: Tracker, domain) -> dict[str, Any]:
        if not _answers(tracker, "vm_contact"):
            return {}
        # An e-mail address or a phone number is the answer whatever the NLU made of it (to the
        # intent classifier "ana.perez@example.org" is noise, and noise can look like a question).
        if (_intent(tracker) == "dar_contacto" or _looks_like_contact(_text(tracker))) and _intent(tracker) not in LEAVING:
            return {"vm_contact": _text(tracker)}
        if self._leaves(tracker):
            return {}
        return {"vm_contact": _text(tracker)}

    async def extract_vm_consent(self, dispatcher, tracker: Tracker, domain) -> dict[str, Any]:
        if not _answers(tracker, "vm_consent") or self._leaves(tracker, questions_too=False) or _intent(tracker) == "elegir_articulo":
            return {}
        return {"vm_consent": _text(tracker)}

    async def extract_vm_confirm(self, dispatcher, tracker: Tracker, domain) -> dict[str, Any]:
        if not _answers(tracker, "vm_confirm") or self._leaves(tracker):
            return {}
        return {"vm_confirm": _text(tracker)}

    # validation: is the answer usable ---------------------------------------------------------------
    @staticmethod
    def _refuse(dispatcher: CollectingDispatcher, error: suggestions.InvalidInput, slot: str) -> dict[str, Any]:
        dispatcher.utter_message(text=error.message)
        return {slot: None}

    @_answered
    async def validate_vm_kind(self, value, dispatcher, tracker, domain) -> dict[str, Any]:
        try:
            return {"vm_kind": suggestions.validate_kind(value)}
        except suggestions.InvalidInput as error:
            return self._refuse(dispatcher, error, "vm_kind")

    @_answered
    async def validate_vm_country(self, value, dispatcher, tracker, domain) -> dict[str, Any]:
        try:
            return {"vm_country": suggestions.validate_country(value)}
        except suggestions.InvalidInput as error:
            return self._refuse(dispatcher, error, "vm_country")

    @_answered
    async def validate_vm_city(self, value, dispatcher, tracker, domain) -> dict[str, Any]:
        if _loose(value) in SKIP:
            return {"vm_city": "-"}
        try:
            return {"vm_city": suggestions.validate_city(value) or "-"}
        except suggestions.InvalidInput as error:
            return self._refuse(dispatcher, error, "vm_city")

    @_answered
    async def validate_vm_topic(self, value, dispatcher, tracker, domain) -> dict[str, Any]:
        try:
            return {"vm_topic": suggestions.validate_topic(value)}
        except suggestions.InvalidInput as error:
            return self._refuse(dispatcher, error, "vm_topic")

    @_answered
    async def validate_vm_message(self, value, dispatcher, tracker, domain) -> dict[str, Any]:
        try:
            return {"vm_message": suggestions.validate_text(value)}
        except suggestions.InvalidInput as error:
            return self._refuse(dispatcher, error, "vm_message")

    @_answered
    async def validate_vm_contact(self, value, dispatcher, tracker, domain) -> dict[str, Any]:
        if _loose(value) in SKIP:
            return {"vm_contact": "-"}
        try:
            return {"vm_contact": suggestions.validate_contact(value) or "-"}
        except suggestions.InvalidInput as error:
            return self._refuse(dispatcher, error, "vm_contact")

    @_answered
    async def validate_vm_consent(self, value, dispatcher, tracker, domain) -> dict[str, Any]:
        answer = _loose(value)
        if answer in YES or _intent(tracker) == "afirmar":
            return {"vm_consent": dt.datetime.now(dt.timezone.utc).isoformat()}
        if answer in NO or _intent(tracker) == "negar":
            return {"vm_consent": "no", "vm_confirm": False}  # nothing more to ask: nothing is stored
        dispatcher.utter_message(text="Responde «sí acepto» o «no acepto», por favor.")
        return {"vm_consent": None}

    @_answered
    async def validate_vm_confirm(self, value, dispatcher, tracker, domain) -> dict[str, Any]:
        answer = _loose(value)
        if answer in YES or _intent(tracker) == "afirmar":
            return {"vm_confirm": True}
        if answer in NO or _intent(tracker) == "negar":
            return {"vm_confirm": False}
        dispatcher.utter_message(text="Responde «enviar» para mandarlo o «cancelar» para no enviarlo.")
        return {"vm_confirm": None}


class AskQuestion(Action):
    """Asks the question of one slot of the form."""

    slot = ""

    def name(self) -> str:
        return f"action_ask_{self.slot}"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        dispatcher.utter_message(**QUESTIONS[self.slot])
        return []


# One registered action per question (rasa-sdk registers every Action subclass by its name()).
ASK_ACTIONS = [type(f"AskQuestion_{slot}", (AskQuestion,), {"slot": slot}) for slot in QUESTIONS]


class ActionAskVmConfirm(Action):
    """The summary of what will be sent, before the person confirms."""

    def name(self) -> str:
        return "action_ask_vm_confirm"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        slot = tracker.get_slot
        country = countries.name(slot("vm_country")) if slot("vm_country") != countries.OTHER else "otro país"
        lines = [
            "Revisa tu mensaje antes de enviarlo:",
            f"- Tipo: {slot('vm_kind')}",
            f"- Lugar: {slot('vm_city') if slot('vm_city') not in (None, '-') else 'sin ciudad'}, {country}",
            f"- Tema: {slot('vm_topic')}",
            f"- Contacto: {slot('vm_contact') if slot('vm_contact') not in (None, '-') else 'ninguno'}",
            f"- Mensaje: {slot('vm_message')}",
        ]
        dispatcher.utter_message(
            text="\n".join(lines), buttons=[{"title": "Enviar", "payload": "enviar"}, {"title": "Cancelar", "payload": "cancelar"}]
        )
        return []


def _reset() -> list[EventType]:
    return [SlotSet(slot, None) for slot in FORM_SLOTS]


class ActionVmReset(Action):
    """Forget the answers of an earlier, unfinished form (at a new start and when cancelled)."""

    def name(self) -> str:
        return "action_vm_reset"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        return _reset()


class ActionSubmitSuggestion(Action):
    """Store the suggestion (only with consent and confirmation) and give its reference."""

    def name(self) -> str:
        return "action_submit_suggestion"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        slot = tracker.get_slot
        if slot("vm_consent") in (None, "no"):
            dispatcher.utter_message(
                text="Entendido: sin tu permiso no guardamos tu mensaje, y no quedó registrado. "
                "Si cambias de opinión, escribe «quiero dejar una sugerencia»."
            )
            return _reset()
        if not slot("vm_confirm"):
            dispatcher.utter_message(response="utter_vm_cancelled")
            return _reset()
        channel = (tracker.get_latest_input_channel() or "rest")[:20]
        try:
            reference, _ = await asyncio.to_thread(
                suggestions.submit,
                get_engine(),
                client_key=slot("vm_key") or f"{tracker.sender_id}:{slot('vm_message')}",
                channel=channel,
                sender_id=tracker.sender_id,
                kind=slot("vm_kind"),
                country=slot("vm_country"),
                city=None if slot("vm_city") == "-" else slot("vm_city"),
                topic=slot("vm_topic"),
                text=slot("vm_message"),
                contact=None if slot("vm_contact") == "-" else slot("vm_contact"),
                consent_at=slot("vm_consent"),
                max_per_day=per_day(),
            )
        except suggestions.InvalidInput as error:
            dispatcher.utter_message(text=error.message if error.field == "daily_limit"
                                     else f"No pude guardar tu mensaje: {error.message}")
            return _reset()
        dispatcher.utter_message(
            text=f"¡Gracias! Guardamos tu mensaje con el código {reference}. Guárdalo si quieres consultar por él. "
            "El equipo del MTPE lo revisará"
            + (" y te responderá al contacto que dejaste." if slot("vm_contact") not in (None, "-") else ".")
        )
        return _reset()


class ActionEraseMyData(Action):
    """ "Borrar mis datos", after the person confirmed: everything the service holds about them on this
    channel (bot.privacy.erase). This action, recorded in the conversation, is also what makes the
    tracker store delete the conversation itself, every session of it (bot/rasa/tracker_store.py),
    once this turn ends: the next message starts a new conversation."""

    def name(self) -> str:
        return ERASE_ACTION

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        erased = await asyncio.to_thread(erase_person, get_engine(), tracker.sender_id, requested_by="person")
        kept = []
        if erased.suggestions:
            kept.append(f"{erased.suggestions} mensaje(s) a «la voz del migrante»")
        if erased.tickets:
            kept.append(f"{erased.tickets} atención(es) con un asesor")
        dispatcher.utter_message(
            text="Listo: borramos tus datos de este canal: esta conversación, tu contacto y lo que escribiste."
            + (f" De {' y '.join(kept)} solo quedan, sin nada que te identifique, el tipo, el país, el tema y las "
               "fechas, para las estadísticas." if kept else "")
            + " Si vuelves a escribirnos, empezará una conversación nueva."
        )
        if tracker.get_latest_input_channel() == "web":  # the widget forgets the conversation's token
            dispatcher.utter_message(json_message={"infomigra": "forget_session"})
        return _reset()
