"""Flood limits of the handoff: one open ticket per person, and priority (safety) escalations capped per
person and day — beyond the cap the ticket still opens and the person still gets the numbers."""

import datetime as dt
from concurrent.futures import ThreadPoolExecutor

import pytest

from bot.handoff import messages as say
from bot.handoff.escalation import escalate
from bot.handoff.settings import HandoffSettings
from bot.handoff.store import HandoffStore
from tests.databases import migrated_engine

T0 = dt.datetime(2026, 11, 30, 15, 0, tzinfo=dt.timezone.utc)  # a Monday, 10:00 in Lima
SETTINGS = HandoffSettings(priority_per_day=3)


@pytest.fixture
def store(tmp_path):
    with migrated_engine("sqlite", tmp_path) as engine:
        yield HandoffStore(engine)


def ask(store, sender, reason="asked", at=T0, slots=None, numbers_given=False):
    return escalate(store, SETTINGS, sender_id=sender, channel=sender.split(":")[0], reason=reason, slots=slots or {},
                    events=[], at=at, numbers_given=numbers_given)


def test_a_person_has_at_most_one_open_ticket_however_often_they_ask(store):
    first = ask(store, "whatsapp:+51900000001")
    repeats = [ask(store, "whatsapp:+51900000001", reason=r, at=T0 + dt.timedelta(seconds=i))
               for i, r in enumerate(["asked", "unsure", "safety"] * 10)]
    assert first.created and not any(r.created for r in repeats)
    assert {r.ticket.id for r in repeats} == {first.ticket.id}
    assert len(store.waiting()) == 1
    with ThreadPoolExecutor(4) as pool:  # at the same time, too
        racing = list(pool.map(lambda i: ask(store, f"telegram:{i % 2}"), range(8)))
    assert len({r.ticket.id for r in racing}) == 2 and sum(r.created for r in racing) == 2


def test_priority_escalations_are_capped_per_person_and_day(store):
    sender = "web:alarmas"
    priorities = []
    for i in range(5):  # each time: a safety handoff, then the advisor closes it
        result = ask(store, sender, reason="safety", at=T0 + dt.timedelta(hours=i))
        assert result.created
        priorities.append(result.ticket.priority)
        # never blocked from the numbers, with or without priority
        assert say.DANGER in result.messages[0]["text"]
        store.close(result.ticket.id, "person")
    assert priorities == [1, 1, 1, 0, 0]
    assert store.priority_escalations(sender, T0 - dt.timedelta(hours=1)) == 3
    # Someone else is not affected, and the next day the person gets priority again.
    assert ask(store, "web:otra", reason="safety", at=T0 + dt.timedelta(hours=5)).ticket.priority == 1
    assert ask(store, sender, reason="safety", at=T0 + dt.timedelta(days=1, hours=1)).ticket.priority == 1


def test_raising_an_open_ticket_counts_and_is_capped_too(store):
    sender = "telegram:7"
    for i in range(3):
        ticket = ask(store, sender, at=T0 + dt.timedelta(hours=i)).ticket
        assert ask(store, sender, reason="safety", at=T0 + dt.timedelta(hours=i, minutes=1)).ticket.priority == 1
        store.close(ticket.id, "person")
    ticket = ask(store, sender, at=T0 + dt.timedelta(hours=4)).ticket
    raised = ask(store, sender, reason="safety", at=T0 + dt.timedelta(hours=4, minutes=1))
    assert raised.ticket.id == ticket.id and raised.ticket.priority == 0
    assert say.DANGER in raised.messages[0]["text"]
    # an open priority ticket keeps its priority whatever the count
    assert ask(store, "web:x", reason="safety").ticket.priority == 1
    for i in range(5):
        assert ask(store, "web:x", reason="safety", at=T0 + dt.timedelta(minutes=i + 1)).ticket.priority == 1


def test_the_cap_comes_from_the_environment():
    assert HandoffSettings.from_env({}).priority_per_day == 3
    assert HandoffSettings.from_env({"HANDOFF_PRIORITY_PER_DAY": "5"}).priority_per_day == 5
