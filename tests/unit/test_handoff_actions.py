"""The handoff's custom actions on real rasa-sdk trackers, with the tickets in a real SQLite database."""

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import actions, handoff
from bot.handoff import escalation
from bot.handoff import messages as say


def user(text, intent, ts, message_id=None, metadata=None, channel="web"):
    return {"event": "user", "text": text, "timestamp": ts, "message_id": message_id or f"m{ts}", "input_channel": channel,
            "parse_data": {"intent": {"name": intent, "confidence": 0.95}}, "metadata": metadata or {}}


def action(name, ts):
    return {"event": "action", "name": name, "timestamp": ts}


def bot(text, ts, buttons=None, metadata=None):
    return {"event": "bot", "text": text, "timestamp": ts, "data": {"buttons": buttons or []}, "metadata": metadata or {}}


CONVERSATION = [
    action("action_listen", 1.0),
    user("q papeles necesito pa chambear en españa", "emigrar_tramites", 2.0),
    {"event": "slot", "name": "country", "value": "espana", "timestamp": 2.1},
    action("action_answer_topic", 2.2),
    bot("Trabajar en España: visados y permisos", 2.3, [{"title": "Volver al menú", "payload": "/menu"}]),
    {"event": "slot", "name": "topic", "value": "emigrar/tramites", "timestamp": 2.4},
    {"event": "slot", "name": "article_id", "value": "emigrar/tramites/espana", "timestamp": 2.4},
    action("action_listen", 2.5),
    user("/pedir_asesor", "pedir_asesor", 3.0, metadata={"button_title": "Hablar con un asesor"}),
]


def tracker(intent="pedir_asesor", text="quiero hablar con una persona", events=None, sender="web:ana", loop=None,
            entities=(), **slots):
    events = CONVERSATION if events is None else events
    last_user = next((e for e in reversed(events) if e["event"] == "user"), {})
    latest = {"intent": {"name": intent, "confidence": 0.95}, "entities": list(entities), "text": text,
              "message_id": last_user.get("message_id"), "metadata": {}}
    return Tracker(sender, {"handoff": False, **slots}, latest, events, False, None, {"name": loop} if loop else {},
                   "action_listen")


async def run(action_, trk):
    dispatcher = CollectingDispatcher()
    events = await action_.run(dispatcher, trk, {})
    return dispatcher.messages, events


async def test_asking_for_a_person_opens_a_ticket_pauses_and_says_what_happens(store):
    messages, events = await run(handoff.ActionHandoff(), tracker(topic="emigrar/tramites", country="espana",
                                                                  article_id="emigrar/tramites/espana"))
    assert {"event": "slot", "name": "handoff", "value": True, "timestamp": None} in events
    assert [e["event"] for e in events] == ["slot", "active_loop", "pause"] and events[1]["name"] == "handoff_form"
    assert messages[0]["text"].startswith(say.INTRO["asked"]) and "en la cola" in messages[0]["text"]
    assert messages[1]["buttons"] == [say.BACK_BUTTON] and "volver al asistente" in messages[1]["text"]
    ticket = store.open_for("web:ana")
    assert (ticket.channel, ticket.reason, ticket.priority, ticket.line, ticket.country) == ("web", "asked", 0, "emigrar", "espana")
    transcript = store.messages(ticket.id)
    assert [(m.role, m.text) for m in transcript] == [
        ("person", "q papeles necesito pa chambear en españa"),
        ("bot", "Trabajar en España: visados y permisos\n[Opciones: Volver al menú]"),
        ("person", "Hablar con un asesor")]  # the button's title, not its payload
    assert transcript[1].article_id == "emigrar/tramites/espana"
    again, _ = await run(handoff.ActionHandoff(), tracker())
    assert store.waiting()[0].id == ticket.id and len(store.waiting()) == 1 and again[0]["text"] == messages[0]["text"]


async def test_a_safety_topic_is_queued_with_priority_and_the_emergency_advice(store):
    await run(handoff.ActionHandoff(), tracker(sender="web:otro"))
    messages, _ = await run(handoff.ActionHandoff(), tracker("seguridad_trata_y_fraude", "me quitaron el pasaporte",
                                                                 sender="web:riesgo", topic="seguridad/trata-y-fraude"))
    ticket = store.open_for("web:riesgo")
    assert ticket.reason == "safety" and ticket.priority == 1 and ticket.line == "seguridad"
    assert [t.sender_id for t in store.waiting()] == ["web:riesgo", "web:otro"]
    assert messages[0]["text"].startswith(say.INTRO["safety"]) and say.DANGER in messages[0]["text"]
    assert "primera persona en la cola" in messages[0]["text"]


async def test_without_the_handoff_store_the_person_is_told_how_to_reach_the_service(monkeypatch):
    def broken():
        raise RuntimeError("database down")

    monkeypatch.setattr(handoff, "store", broken)
    monkeypatch.setenv("INFOMIGRA_CONTACT_EMAIL", "consultas@example.org")
    monkeypatch.setattr(handoff, "settings", lambda: __import__("bot.handoff.settings", fromlist=["x"]).HandoffSettings.from_env())
    messages, events = await run(handoff.ActionHandoff(), tracker())
    assert "consultas@example.org" in messages[0]["text"] and "problema técnico" in messages[0]["text"]
    assert [e["event"] for e in events] == ["slot"] and events[0]["value"] is False  # not paused


async def test_messages_written_during_the_handoff_reach_the_ticket(store):
    await run(handoff.ActionHandoff(), tracker())
    inbox = handoff.ActionHandoffInbox()
    events = [*CONVERSATION, user("estoy en Madrid, mi correo es ana@example.com", "informar_pais", 9.0, "w1")]
    assert await run(inbox, tracker("informar_pais", "estoy en Madrid, mi correo es ana@example.com", events,
                                    loop="handoff_form")) == ([], [])
    photo = {"attachments": [{"type": "image", "content_type": "image/jpeg", "url": "https://api.twilio.com/m/1"}]}
    events2 = [*events, user("[Imagen]", "nlu_fallback", 10.0, "w2", metadata=photo)]
    trk = tracker("nlu_fallback", "[Imagen]", events2, loop="handoff_form")
    trk.latest_message["metadata"] = photo
    await run(inbox, trk)
    await run(inbox, trk)  # the same message twice (a retry) is recorded once
    await run(inbox, tracker("informar_pais", "hola", [*events2, user("hola", "saludo", 11.0, "w3")]))  # loop not active
    ticket = store.open_for("web:ana")
    recorded = store.messages(ticket.id)
    person = [m for m in recorded if m.role == "person"][2:]
    assert [m.text for m in person] == ["estoy en Madrid, mi correo es ana@example.com", "[Imagen]"]
    assert person[1].attachments == photo["attachments"]
    assert ticket.contact_email == "ana@example.com" and ticket.end_requested_at is None
    system = [(m.kind, m.delivery) for m in recorded if m.role == "system"]
    assert system == [("received", "pending"), ("email", "pending")]  # acknowledgements the desk sends


@pytest.mark.parametrize(("text", "intent", "confidence", "leaves"), [
    ("/volver_al_asistente", "volver_al_asistente", 1.0, True),
    ("/menu", "menu", 1.0, True),
    ("volver al asistente", "volver_al_asistente", 0.93, True),
    ("menú", "menu", 0.97, True),
    ("no entiendo el menú de la página del consulado, ¿me ayuda?", "menu", 0.95, False),
    ("volver al asistente", "volver_al_asistente", 0.5, False),
    ("quiero hablar con el asesor", "pedir_asesor", 0.99, False),
])
def test_going_back_to_the_assistant_needs_a_clear_request(text, intent, confidence, leaves):
    assert escalation.wants_assistant(text, intent, confidence) is leaves


async def test_the_back_button_during_the_handoff_is_a_request_the_desk_carries_out(store):
    await run(handoff.ActionHandoff(), tracker())
    events = [*CONVERSATION, user("/volver_al_asistente", "volver_al_asistente", 9.0, "b1")]
    trk = tracker("volver_al_asistente", "/volver_al_asistente", events, loop="handoff_form")
    assert await run(handoff.ActionHandoffInbox(), trk) == ([], [])  # nothing is resumed here
    assert store.open_for("web:ana").end_requested_at is not None


async def test_a_new_session_keeps_a_handed_over_conversation_paused(store):
    await run(handoff.ActionHandoff(), tracker())
    _, events = await run(handoff.ActionSessionStart(), tracker(handoff=True, country="espana", requested_slot="x"))
    kinds = [e["event"] for e in events]
    assert kinds[0] == "session_started" and kinds[-3:] == ["active_loop", "pause", "action"]
    slots = {e["name"]: e["value"] for e in events if e["event"] == "slot"}
    assert slots == {"handoff": True, "country": "espana"}
    _, other = await run(handoff.ActionSessionStart(), tracker(sender="web:sin-ticket", handoff=True))
    assert "pause" not in [e["event"] for e in other]
    assert {"event": "slot", "name": "handoff", "value": False, "timestamp": None} in other


async def test_the_rating_is_stored_once(store):
    ticket, _ = store.open_ticket(sender_id="web:r", channel="web", reason="asked", priority=0)
    store.close(ticket.id, "advisor")
    store.mark_resumed(ticket.id, rating_requested=True)
    messages, _ = await run(handoff.ActionHandoffRating(), tracker("calificar", '/calificar{"rating":"4"}', sender="web:r",
                                                                       entities=[{"entity": "rating", "value": "4"}]))
    assert messages[0]["text"] == say.RATED and store.get(ticket.id).rating == 4
    messages, _ = await run(handoff.ActionHandoffRating(), tracker("calificar", "le doy 5 estrellas", sender="web:r"))
    assert messages[0]["text"] == say.NOTHING_TO_RATE and store.get(ticket.id).rating == 4


async def test_going_back_outside_a_handoff_just_shows_the_menu(store):
    messages, events = await run(handoff.ActionHandoffLeave(), tracker("volver_al_asistente", "volver al asistente"))
    assert messages[0]["text"] == say.NOT_IN_HANDOFF and events == []


UNSURE = [action("action_listen", 1.0), user("blablabla", "nlu_fallback", 2.0), action("action_kb_search", 2.1),
          bot("No estoy seguro de haberte entendido.", 2.2), action("action_listen", 2.3)]


async def test_two_unsure_turns_in_a_row_hand_over(store):
    second = [*UNSURE, user("xyzzy zzz", "nlu_fallback", 3.0), {"event": "slot", "name": "kb_offer", "value": None}]
    messages, events = await run(actions.ActionKbSearch(), tracker("nlu_fallback", "xyzzy zzz", second))
    assert messages[0]["text"].startswith(say.INTRO["unsure"]) and "pause" in [e["event"] for e in events]
    assert store.open_for("web:ana").reason == "unsure"


async def test_slot_extraction_of_the_search_never_hands_over(store):
    extraction = [*UNSURE, user("xyzzy zzz", "nlu_fallback", 3.0)]  # the user's message is still the last event
    _, events = await run(actions.ActionKbSearch(), tracker("nlu_fallback", "xyzzy zzz", extraction))
    assert "pause" not in [e["event"] for e in events] and store.open_for("web:ana") is None


async def test_an_article_taken_from_the_offer_resets_the_count(store):
    chosen = [*UNSURE, user("/elegir_articulo", "elegir_articulo", 3.0), action("action_show_article", 3.1),
              action("action_listen", 3.2), user("otra cosa rara", "nlu_fallback", 4.0), {"event": "slot", "name": "kb_offer"}]
    _, events = await run(actions.ActionKbSearch(), tracker("nlu_fallback", "otra cosa rara", chosen))
    assert "pause" not in [e["event"] for e in events]


def test_the_transcript_marks_advisors_and_attachments():
    rows = escalation.transcript([
        user("[Nota de voz]", "nlu_fallback", 1.0, "a1", {"attachments": [{"type": "audio", "url": "https://x/y"}]}),
        bot("Hola, soy Ana", 2.0, metadata={"advisor_id": 3, "advisor_name": "Ana"}),
        user('/calificar{"rating":"5"}', "calificar", 3.0, "a2", {"whatsapp": {"reply": "5 · Excelente"}}),
        user('/informar_pais{"country":"chile"}', "informar_pais", 4.0, "a3"),
    ])
    assert [r["role"] for r in rows] == ["person", "advisor", "person", "person"]
    assert rows[0]["attachments"] == [{"type": "audio", "url": "https://x/y"}]
    assert rows[2]["text"] == "5 · Excelente" and rows[3]["text"] == "[eligió una opción: informar pais]"


def test_attachments_keep_what_each_channel_sends_for_the_advisor():
    from bot.handoff.escalation import attachments_of

    telegram = {"attachments": [{"type": "location", "latitude": -12.05, "longitude": -77.04},
                                {"type": "document", "file_id": "BQAC", "file_name": "contrato.pdf", "secret": "x"}]}
    assert attachments_of(telegram) == [{"type": "location", "latitude": "-12.05", "longitude": "-77.04"},
                                        {"type": "document", "file_id": "BQAC", "file_name": "contrato.pdf"}]
    whatsapp = {"attachments": [{"type": "image", "content_type": "image/jpeg", "url": "https://api.twilio.com/m/1"}],
                "location": {"latitude": "40.4", "longitude": "-3.7", "address": "Madrid"}}
    assert attachments_of(whatsapp)[1] == {"type": "location", "latitude": "40.4", "longitude": "-3.7", "address": "Madrid"}
    assert attachments_of({}) is None
