"""The handoff's tables against real databases (SQLite and PostgreSQL): tickets, the queue order,
taking races, messages and their delivery states, timeouts' inputs, ratings, statistics, erasure."""

import datetime as dt
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import insert

from bot.desk.schema import desk_users
from bot.handoff.store import MAX_ATTEMPTS, HandoffError, HandoffStore
from bot.store.clock import now
from bot.store.schema import contacts
from tests.databases import migrated_engine

T0 = dt.datetime(2026, 11, 30, 15, 0, tzinfo=dt.timezone.utc)  # a Monday, 10:00 in Lima


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    with migrated_engine(request.param, tmp_path) as engine:
        with engine.begin() as conn:
            conn.execute(insert(desk_users), [
                {"id": i, "email": f"a{i}@example.org", "display_name": name, "password_hash": "x", "roles": roles,
                 "active": True, "created_at": now()}
                for i, name, roles in ((1, "Ana Quispe", "advisor"), (2, "Beto Ramos", "advisor supervisor"),
                                       (3, "Rolando Revisor", "reviewer"))])
        yield HandoffStore(engine)


def open_ticket(store, sender, at=T0, reason="asked", priority=0, transcript=()):
    return store.open_ticket(sender_id=sender, channel=sender.split(":")[0], reason=reason, priority=priority,
                             line="emigrar", country="espana", topic="emigrar/tramites", transcript=transcript, at=at)


def test_one_open_ticket_per_conversation_with_the_transcript(store):
    transcript = [{"role": "person", "text": "q papeles para españa", "source_key": "u:1", "at": T0},
                  {"role": "bot", "text": "Trabajar en España: visados", "article_id": "emigrar/tramites/espana", "at": T0},
                  {"role": "person", "text": "quiero hablar con una persona", "source_key": "u:2", "at": T0}]
    ticket, created = open_ticket(store, "web:ana", transcript=transcript)
    assert created and ticket.status == "waiting" and ticket.tags == [] and ticket.created_at == T0
    again, created_again = open_ticket(store, "web:ana", reason="safety", priority=1)
    assert not created_again and again.id == ticket.id and again.priority == 1 and again.reason == "safety"
    messages = store.messages(ticket.id)
    assert [(m.role, m.article_id) for m in messages] == [("person", None), ("bot", "emigrar/tramites/espana"), ("person", None)]
    store.close(ticket.id, "person")
    third, created_third = open_ticket(store, "web:ana")
    assert created_third and third.id != ticket.id  # a closed ticket does not block a new handoff


def test_simultaneous_escalations_of_one_conversation_make_one_ticket(store):
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: open_ticket(store, "telegram:42"), range(4)))
    assert len({t.id for t, _ in results}) == 1
    assert sum(created for _, created in results) == 1


def test_the_queue_serves_priority_first_then_the_oldest(store):
    a, _ = open_ticket(store, "web:a", at=T0)
    b, _ = open_ticket(store, "web:b", at=T0 + dt.timedelta(minutes=1))
    c, _ = open_ticket(store, "web:c", at=T0 + dt.timedelta(minutes=2), reason="safety", priority=1)
    assert [t.id for t in store.waiting()] == [c.id, a.id, b.id]
    assert [store.position(t) for t in (c, a, b)] == [1, 2, 3]
    store.take(c.id, 1)
    assert store.position(store.get(b.id)) == 2 and store.position(store.get(c.id)) == 0


def test_two_advisors_race_for_a_ticket_and_one_wins(store):
    ticket, _ = open_ticket(store, "whatsapp:+51911111111")

    def take(advisor):
        try:
            return store.take(ticket.id, advisor)[1]
        except HandoffError:
            return None

    with ThreadPoolExecutor(2) as pool:
        outcomes = list(pool.map(take, [1, 2]))
    assert outcomes.count(True) == 1 and outcomes.count(None) == 1
    owner = store.get(ticket.id).advisor_id
    assert store.take(ticket.id, owner)[1] is False  # taking one's own ticket again is harmless
    with pytest.raises(HandoffError, match="Otra persona ya tomó"):
        store.take(ticket.id, 3 - owner)


def test_person_messages_are_recorded_once_with_email_and_wish_to_leave(store):
    ticket, _ = open_ticket(store, "web:p")
    first, recorded = store.record_person_message("web:p", "mi correo es Ana.Q@Example.com", source_key="u:abc",
                                                  at=T0 + dt.timedelta(seconds=5))
    assert recorded and first.contact_email == "ana.q@example.com" and first.last_person_at == T0 + dt.timedelta(seconds=5)
    _, again = store.record_person_message("web:p", "mi correo es Ana.Q@Example.com", source_key="u:abc")
    assert not again  # a retried action call
    photo = [{"type": "image", "content_type": "image/jpeg", "url": "https://api.twilio.com/x"}]
    store.record_person_message("web:p", "[Imagen]", source_key="u:def", attachments=photo)
    left, _ = store.record_person_message("web:p", "/volver_al_asistente", source_key="u:ghi", wants_assistant=True)
    assert left.end_requested_at is not None and [t.id for t in store.end_requested()] == [ticket.id]
    person = [m for m in store.messages(ticket.id) if m.role == "person"]
    assert len(person) == 3 and person[1].attachments == photo
    assert store.record_person_message("web:nadie", "hola", source_key="u:1") == (None, False)


def test_replies_are_delivered_retried_held_and_released(store):
    ticket, _ = open_ticket(store, "whatsapp:+51922222222")
    store.take(ticket.id, 1, at=T0)
    reply = store.add_message(ticket.id, "advisor", "  Hola, soy Ana.  ", author_id=1, author_name="Ana Quispe", at=T0)
    assert reply.text == "Hola, soy Ana." and reply.delivery == "pending"
    assert store.get(ticket.id).first_response_at == T0
    assert [m.id for m in store.claim_due(T0)] == [reply.id]
    assert store.claim_due(T0) == [] and not store.claim(reply.id)  # claimed once
    assert store.failed(reply.id, "Rasa answered 503", at=T0) == "pending"
    assert store.claim_due(T0) == []  # tried again after a delay
    assert [m.id for m in store.claim_due(T0 + dt.timedelta(minutes=10))] == [reply.id]
    store.hold(reply.id)
    assert [t.id for t in store.held_tickets()] == [ticket.id] and store.undelivered(ticket.id) == 1
    assert store.release_held(ticket.id, T0) == 1
    store.claim(reply.id)
    store.delivered(reply.id, T0)
    assert store.message(reply.id).delivery == "sent" and store.undelivered(ticket.id) == 0
    other = store.add_message(ticket.id, "advisor", "otra", author_id=1, at=T0)
    states = [store.failed(other.id, "caído") for _ in range(MAX_ATTEMPTS)]
    assert states[-2:] == ["pending", "failed"]
    with pytest.raises(HandoffError):
        store.add_message(ticket.id, "advisor", "   ")


def test_last_inbound_comes_from_the_channel_contacts(store):
    with store.engine.begin() as conn:
        conn.execute(insert(contacts).values(sender_id="whatsapp:+51933333333", channel="whatsapp", last_inbound_at=T0,
                                             opted_out=False, created_at=T0))
    assert store.last_inbound("whatsapp:+51933333333") == T0
    assert store.last_inbound("whatsapp:+51900000000") is None


def test_transfer_give_back_and_close_need_the_owner(store):
    ticket, _ = open_ticket(store, "telegram:7")
    with pytest.raises(HandoffError, match="tómela primero"):
        store.require_owner(ticket.id, 1)
    store.take(ticket.id, 1)
    with pytest.raises(HandoffError, match="otra persona"):
        store.require_owner(ticket.id, 2)
    moved = store.transfer(ticket.id, 1, 2)
    assert moved.advisor_id == 2 and moved.accepted_at is None
    assert store.accept(ticket.id, 2).accepted_at is not None
    assert store.require_owner(ticket.id, 1, supervisor=True).id == ticket.id
    back = store.return_to_queue(ticket.id, "given back", 2, expect_advisor=2)
    assert back.status == "waiting" and back.advisor_id is None
    assert store.return_to_queue(ticket.id, "again") is None  # not active any more
    store.take(ticket.id, 1)
    store.set_tags(ticket.id, ["Trata", " trata ", "Pasaporte  retenido"], 1)
    assert store.get(ticket.id).tags == ["trata", "pasaporte retenido"]
    store.add_note(ticket.id, "Llamar al consulado", 1, "Ana Quispe")
    closed = store.close(ticket.id, "advisor", 1, expect_advisor=1)
    assert closed.status == "closed" and closed.closed_by == "advisor"
    with pytest.raises(HandoffError, match="ya está cerrada"):
        store.close(ticket.id, "advisor")
    actions = [e["action"] for e in store.events(ticket.id)]
    assert actions == ["created", "taken", "transferred", "accepted", "returned", "taken", "tags", "note", "closed"]


def test_closing_waits_for_a_held_answer(store):
    ticket, _ = open_ticket(store, "whatsapp:+51944444444")
    store.take(ticket.id, 1)
    reply = store.add_message(ticket.id, "advisor", "Te respondo mañana", author_id=1)
    store.claim(reply.id)
    store.hold(reply.id)
    closing = store.close(ticket.id, "advisor", 1)
    assert closing.status == "closing" and closing.is_open
    store.release_held(ticket.id)
    store.claim(reply.id)
    store.delivered(reply.id)
    assert store.finish_closing(ticket.id) and store.get(ticket.id).status == "closed"
    assert [t.id for t in store.not_resumed()] == [ticket.id]
    store.mark_resumed(ticket.id, rating_requested=True)
    assert store.not_resumed() == []


def test_unanswered_messages_since_the_advisor_last_wrote(store):
    ticket, _ = open_ticket(store, "web:u", at=T0)
    store.record_person_message("web:u", "¿hay alguien?", source_key="u:1", at=T0 + dt.timedelta(minutes=1))
    store.take(ticket.id, 1, at=T0 + dt.timedelta(minutes=5))
    taken = store.get(ticket.id)
    assert taken.owes_reply and store.first_unanswered_at(taken) == T0 + dt.timedelta(minutes=5)  # counted from the take
    store.add_message(ticket.id, "advisor", "Hola", author_id=1, at=T0 + dt.timedelta(minutes=6))
    assert not store.get(ticket.id).owes_reply
    store.record_person_message("web:u", "gracias, otra pregunta", source_key="u:2", at=T0 + dt.timedelta(minutes=8))
    store.record_person_message("web:u", "¿sigue ahí?", source_key="u:3", at=T0 + dt.timedelta(minutes=9))
    assert store.first_unanswered_at(store.get(ticket.id)) == T0 + dt.timedelta(minutes=8)


def test_a_rating_is_taken_once_for_the_last_closed_ticket(store):
    ticket, _ = open_ticket(store, "web:r")
    store.take(ticket.id, 1)
    store.close(ticket.id, "advisor", 1)
    assert store.rate("web:r", 5) is None  # not asked yet
    store.mark_resumed(ticket.id, rating_requested=True)
    assert store.rate("web:r", 4).rating == 4
    assert store.rate("web:r", 1) is None
    with pytest.raises(HandoffError):
        store.rate("web:r", 9)


def test_statistics_for_supervisors(store):
    a, _ = open_ticket(store, "web:s1", at=T0)
    open_ticket(store, "web:s2", at=T0 + dt.timedelta(minutes=1), reason="safety", priority=1)
    store.take(a.id, 1, at=T0 + dt.timedelta(minutes=3))
    store.add_message(a.id, "advisor", "Hola", author_id=1, at=T0 + dt.timedelta(minutes=4))
    store.seen(1, T0 + dt.timedelta(minutes=5))
    store.seen(1, T0 + dt.timedelta(minutes=6))
    stats = store.stats(T0 - dt.timedelta(hours=1), dt.timedelta(minutes=2), at=T0 + dt.timedelta(minutes=7))
    assert stats["waiting"] == 1 and stats["waiting_priority"] == 1 and stats["longest_wait_seconds"] == 360
    assert stats["average_wait_taken_seconds"] == 180 and stats["active"] == 1 and stats["online"] == 1
    ana = next(e for e in stats["advisors"] if e["name"] == "Ana Quispe")
    assert ana == {"id": 1, "name": "Ana Quispe", "online": True, "active": 1, "closed": 0, "rating": None,
                   "first_response_seconds": 60}
    assert {e["name"] for e in stats["advisors"]} == {"Ana Quispe", "Beto Ramos"}  # reviewers are not advisors


def test_erasure_and_retention(store):
    old, _ = open_ticket(store, "web:e", transcript=[{"role": "person", "text": "hola", "at": T0}])
    store.close(old.id, "person", at=T0)
    open_ticket(store, "web:e")
    other, _ = open_ticket(store, "web:f")
    assert store.purge_closed_before(T0 + dt.timedelta(days=1)) == 1
    assert store.erase_sender("web:e") == 1
    assert store.open_for("web:e") is None and store.messages(old.id) == []
    assert store.get(other.id) is not None
