"""'Borrar mis datos' through the real assistant (Rasa + action server, REST channel): a person rates an
answer, leaves a suggestion with their e-mail, talks to an advisor (ticket with their phone number),
then asks to erase their data and confirms. Afterwards no table of either database (Rasa's tracker
store, our service database) holds their conversation id, e-mail, phone or the phrase they wrote,
and their next message starts a new conversation."""

import json
import time
import uuid

import httpx
import pytest
from sqlalchemy import MetaData, create_engine, select

from bot.handoff.store import HandoffStore
from bot.store.db import get_engine
from tests.stack import running_stack

pytestmark = pytest.mark.e2e

ALWAYS_OPEN = "lun-dom 00:00-24:00"
TAG = uuid.uuid4().hex[:8]
EMAIL = f"rosa.{TAG}@example.org"
PHONE = "+51 987 001 122"
PHRASE = f"el contratista de la chacra me retiene el pasaporte {TAG}"


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    work = tmp_path_factory.mktemp("privacy")
    with running_stack(work, {"HANDOFF_OFFICE_HOURS": ALWAYS_OPEN}) as running:
        running.tracker_url = f"sqlite:///{work / 'tracker.db'}"
        yield running


def texts(replies: list[dict]) -> str:
    return "\n".join(r.get("text", "") for r in replies)


def leftovers(url: str, needles: list[str]) -> list[tuple[str, str]]:
    engine = create_engine(url)
    tables = MetaData()
    tables.reflect(engine)
    found = []
    with engine.connect() as conn:
        for table in tables.sorted_tables:
            for row in conn.execute(select(table)):
                blob = json.dumps([str(v) for v in row], ensure_ascii=False).lower()
                found += [(table.name, n) for n in needles if n.lower() in blob]
    engine.dispose()
    return found


def eventually(check, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError("timed out")


def test_erase_my_data_leaves_nothing_in_either_database(stack):
    who = f"rest-{TAG}"
    store = HandoffStore(get_engine(stack.database_url))
    # an answer, and its rating
    replies = stack.say(who, '/emigrar_tramites{"country":"espana"}')
    for _ in range(8):  # an answer in parts: read on until the "¿Te sirvió?" buttons
        buttons = [b for r in replies for b in r.get("buttons", [])]
        rating = [b for b in buttons if b["payload"].startswith("/valorar_respuesta")]
        more = [b for b in buttons if b["payload"].startswith("/elegir_articulo")]
        if rating or not more:
            break
        replies = stack.say(who, more[0]["payload"])
    assert rating, replies
    stack.say(who, rating[0]["payload"])
    # a suggestion with their e-mail and the phrase
    for text in ["quiero dejar una sugerencia", "queja", "España", "Murcia", "Derechos laborales", PHRASE, EMAIL,
                 "sí acepto", "enviar"]:
        replies = stack.say(who, text)
    assert "código" in texts(replies)
    # an advisor: the ticket gets the phrase and the phone number; the advisor closes it and the desk
    # gives the conversation back to the assistant (as bot.handoff.service does)
    stack.say(who, "quiero hablar con un asesor")
    ticket = eventually(lambda: store.open_for(who))
    stack.say(who, f"{PHRASE}. Mi número es {PHONE}")
    eventually(lambda: any(PHONE in m.text for m in store.messages(ticket.id)))
    store.close(ticket.id, "person")
    events = [{"event": "session_started"}, {"event": "slot", "name": "handoff", "value": False},
              {"event": "action", "name": "action_listen"}]
    httpx.post(f"{stack.rasa_url}/conversations/{who}/tracker/events", json=events, headers=stack.api_headers(),
               params={"include_events": "NONE"}, timeout=30).raise_for_status()
    store.mark_resumed(ticket.id, False)
    needles = [who, EMAIL, "987001122", PHONE, TAG]
    assert leftovers(stack.tracker_url, needles) and leftovers(stack.database_url, needles)

    assert "¿Quieres que borremos" in texts(stack.say(who, "borrar mis datos"))
    replies = stack.say(who, "sí")

    assert "borramos tus datos" in texts(replies), replies
    assert leftovers(stack.tracker_url, needles) == []
    assert leftovers(stack.database_url, needles) == []
    # the next message is a new conversation, with nothing carried over
    stack.say(who, "hola")
    tracker = stack.tracker(who)
    assert not any(e.get("text") and TAG in e["text"] for e in tracker["events"])
    assert tracker["slots"].get("handoff") in (None, False)
