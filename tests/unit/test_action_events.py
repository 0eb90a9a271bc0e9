"""The events the action server receives (bot/rasa/action_events.py): the session's start and the last
ACTION_WINDOW_MESSAGES person messages, and what the actions read of them is what they read of the
whole session (the advisor's transcript, the rating's conversation, the turn before)."""

from actions.feedback import conversation_of
from bot.feedback import offer
from bot.handoff import escalation
from bot.handoff.store import TRANSCRIPT_LIMIT
from bot.rasa.action_events import ACTION_WINDOW_MESSAGES, events_for_actions


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


def session(turns: int, clock: Clock, unsure_last: bool = False) -> list[dict]:
    """A session as Rasa stores it: its start, then `turns` questions each answered with an article."""
    events = [{"event": "action", "name": "action_session_start", "timestamp": clock()},
              {"event": "session_started", "timestamp": clock()},
              {"event": "slot", "name": "country", "value": "chile", "timestamp": clock()},
              {"event": "action", "name": "action_listen", "timestamp": clock()}]
    for n in range(turns):
        article = f"emigrar/tramites/{'chile' if n % 2 else 'espana'}"
        events += [
            {"event": "user", "text": f"pregunta {n}", "message_id": f"m{n}", "timestamp": clock(),
             "parse_data": {"intent": {"name": "emigrar_tramites", "confidence": 0.9}}},
            {"event": "action", "name": "action_answer_topic", "timestamp": clock()},
            {"event": "bot", "text": f"resumen {n}", "timestamp": clock()},
            {"event": "bot", "text": f"detalles {n}", "timestamp": clock(),
             "data": {"buttons": [{"title": "Sí", "payload": offer.payload(article, offer.YES)}]}},
            {"event": "slot", "name": "article_id", "value": article, "timestamp": clock()},
            {"event": "action", "name": "action_listen", "timestamp": clock()},
        ]
    if unsure_last:
        events += [{"event": "user", "text": "algo raro", "message_id": "u1", "timestamp": clock(),
                    "parse_data": {"intent": {"name": "nlu_fallback", "confidence": 0.3}}},
                   {"event": "action", "name": "action_kb_search", "timestamp": clock()},
                   {"event": "bot", "text": "No estoy seguro", "timestamp": clock()},
                   {"event": "action", "name": "action_listen", "timestamp": clock()},
                   {"event": "user", "text": "otra cosa rara", "message_id": "u2", "timestamp": clock(),
                    "parse_data": {"intent": {"name": "nlu_fallback", "confidence": 0.3}}}]
    return events


class TrackerLike:
    def __init__(self, events: list[dict]) -> None:
        self.events = events


def users(events: list[dict]) -> int:
    return sum(e["event"] == "user" for e in events)


def test_a_short_session_is_sent_whole_from_its_start():
    events = session(10, Clock())
    sent = events_for_actions(events)
    assert sent == events[1:]  # from `session_started` on: the action before it is not needed


def test_a_long_session_sends_its_start_and_the_last_person_messages():
    events = session(300, Clock(), unsure_last=True)
    sent = events_for_actions(events)
    assert sent[0]["event"] == "session_started" and sent[1]["event"] == "user"
    assert users(sent) == ACTION_WINDOW_MESSAGES
    assert sent[1:] == events[-len(sent) + 1:]  # one piece, up to the newest event
    assert len(sent) < len(events) / 5


def test_nothing_from_before_the_latest_session_start():
    clock = Clock()
    earlier, current = session(30, clock), session(5, clock)
    sent = events_for_actions(earlier + current)
    assert sent == current[1:]


def test_rasa_events_are_windowed_the_same_way():
    from types import SimpleNamespace

    events = session(120, Clock())
    as_objects = [SimpleNamespace(type_name=e["event"], source=e) for e in events]
    assert [o.source for o in events_for_actions(as_objects)] == events_for_actions(events)


def test_what_the_actions_read_is_the_same_in_the_window():
    events = session(200, Clock(), unsure_last=True)
    sent = events_for_actions(events)
    # the advisor's transcript: its last TRANSCRIPT_LIMIT rows
    whole, windowed = escalation.transcript(events), escalation.transcript(sent)
    assert len(windowed) >= TRANSCRIPT_LIMIT
    assert windowed[-TRANSCRIPT_LIMIT:] == whole[-TRANSCRIPT_LIMIT:]
    # the rating's conversation: when the session started
    assert conversation_of(TrackerLike(sent)) == conversation_of(TrackerLike(events)) != "0"
    # the turn before, and the slot extraction call
    assert escalation.previous_turn_unsure(sent) is escalation.previous_turn_unsure(events) is True
    assert escalation.is_extraction_call(sent) is escalation.is_extraction_call(events) is True
    # a rating offered within the window is still known
    assert offer.offered_before(sent, "emigrar/tramites/espana") and offer.offered_before(sent, "emigrar/tramites/chile")


def test_a_rating_offered_only_before_the_window_may_be_offered_again():
    clock = Clock()
    events = session(ACTION_WINDOW_MESSAGES + 5, clock)
    # the first answer was about Italy; since then only Spain and Chile
    first_bot = next(i for i, e in enumerate(events) if e["event"] == "bot" and e.get("data"))
    events[first_bot]["data"] = {"buttons": [{"title": "Sí", "payload": offer.payload("emigrar/tramites/italia", offer.YES)}]}
    assert offer.offered_before(events, "emigrar/tramites/italia")
    assert not offer.offered_before(events_for_actions(events), "emigrar/tramites/italia")


def test_a_known_session_start_is_taken_instead_of_looked_for():
    events = session(100, Clock())
    start = events[1]
    assert events_for_actions(events, session_start=start) == events_for_actions(events)
    # the caller's knowledge is what is sent (the scan before the window is skipped)
    marker = {"event": "session_started", "timestamp": 0.0}
    assert events_for_actions(events, session_start=marker)[0] is marker
    assert events_for_actions(events, session_start=None)[0]["event"] == "user"
    # a start inside the window is found there, whatever the caller says
    assert events_for_actions(session(5, Clock()), session_start=marker)[0]["event"] == "session_started"
