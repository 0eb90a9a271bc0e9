"""The tracker our store keeps for a conversation (bot/rasa/tracker_store.py, issue 15) is the database's.

The store keeps the tracker of each cached conversation and applies each save's new events to it
instead of rebuilding it from every row at every message. Checked in the Rasa venv, against Rasa's own
`SQLTrackerStore` reading the same SQLite file, message after message of a long conversation (with the
patches of bot/rasa/patches.py applied, as in the server): the trackers read back are equal in events,
state, slots, loop, applied events and past states; a tracker changed but not saved (a failed turn)
leaves nothing behind; a new session, a failed write, an eviction and an erasure are read back as the
database has them; and without the cache (several Rasa processes) every read is the database's.
"""

import textwrap

from tests.rasa_venv import run_in_rasa

SCRIPT = textwrap.dedent('''
    import asyncio, logging, sqlite3, sys
    import structlog
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    import sqlalchemy as sa
    from rasa.core.tracker_store import SQLTrackerStore as RasaStore
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import (ActionExecuted, ActiveLoop, BotUttered, SessionStarted, SlotSet, UserUttered,
                                         UserUtteranceReverted)
    from rasa.shared.core.trackers import EventVerbosity
    from bot.rasa import patches as rasa_patches
    from bot.rasa.tracker_store import ERASE_ACTION, SQLTrackerStore

    rasa_patches.apply()
    path = sys.argv[1]
    domain = Domain.load("domain.yml")
    from tests.rasa_venv import Stamps

    at = Stamps()

    def turn(n):
        intent = ("saludo", "emigrar_tramites", "informar_pais", "menu")[n % 4]
        entities = [{"entity": "country", "value": "chile", "start": 0, "end": 5}] if n % 4 == 2 else []
        parse = {"intent": {"name": intent, "confidence": 0.93}, "entities": entities, "text": f"mensaje {n}"}
        events = [at(UserUttered(f"mensaje {n}", parse["intent"], entities, parse)), at(ActionExecuted("action_answer_topic")),
                  at(BotUttered(f"respuesta {n}", {"buttons": [{"title": "Sí", "payload": "/afirmar"}]}))]
        if n % 3 == 0:
            events.append(at(SlotSet("topic", f"tema-{n}")))
        if n % 17 == 5:
            events += [at(ActionExecuted("voz_del_migrante_form")), at(ActiveLoop("voz_del_migrante_form"))]
        if n % 17 == 7:
            events += [at(ActionExecuted("voz_del_migrante_form")), at(ActiveLoop(None))]
        if n % 23 == 11:
            events.append(at(UserUtteranceReverted()))
        return events + [at(ActionExecuted("action_listen"))]

    def dump(tracker):
        if tracker is None:
            return None
        return (tracker.current_state(EventVerbosity.ALL), [e.as_dict() for e in tracker.applied_events()],
                tracker.past_states(domain), tracker.past_states(domain, ignore_rule_only_turns=True),
                {k: (s.value, s.has_been_set) for k, s in tracker.slots.items()}, tracker.active_loop_name,
                tracker.is_paused(), tracker.latest_action, tracker.followup_action)

    async def main():
        ours = SQLTrackerStore(domain, dialect="sqlite", db=path, cache_size=10)
        rasa = RasaStore(domain, dialect="sqlite", db=path)
        sender = "largo"
        tracker = await ours.get_or_create_tracker(sender, append_action_listen=False)
        for event in (at(ActionExecuted("action_session_start")), at(SessionStarted()), at(ActionExecuted("action_listen"))):
            tracker.update(event)
        await ours.save(tracker)
        longest = 0
        for n in range(120):
            tracker = await ours.retrieve(sender)  # as the processor: read, add the message's events, save
            longest = max(longest, len(tracker.events))
            assert dump(tracker) == dump(await rasa.retrieve(sender)), n
            if n % 10 == 4:  # a turn that fails before its save: the kept tracker must not have its events
                for event in turn(n):
                    tracker.update(event)
                tracker.past_states(domain)
                tracker = await ours.retrieve(sender)
                assert dump(tracker) == dump(await rasa.retrieve(sender)), n
            if n == 100:  # a new session (carried slot), then only it is read back
                for event in (at(ActionExecuted("action_session_start")), at(SessionStarted()),
                              at(SlotSet("topic", "tema-100")), at(ActionExecuted("action_listen"))):
                    tracker.update(event)
            for event in turn(n):
                tracker.update(event)
            tracker.past_states(domain, ignore_rule_only_turns=True)  # the policies' states, carried to the kept one
            await ours.save(tracker)
            assert ours.cache.tracker(sender) is not None or n == 100, n  # the kept tracker took the new events
        kept = await ours.retrieve(sender)
        assert dump(kept) == dump(await rasa.retrieve(sender))
        assert longest > 400 and len(kept.events) < 150  # a long session, then only the new one

        # A write that fails: nothing kept, the next read is the database's.
        for event in turn(999):
            kept.update(event)
        with sqlite3.connect(path) as db:
            db.execute("CREATE TRIGGER full BEFORE INSERT ON events BEGIN SELECT RAISE(ABORT, 'disk full'); END")
        try:
            await ours.save(kept)
            raise AssertionError("the save should have failed")
        except sa.exc.IntegrityError:
            pass
        with sqlite3.connect(path) as db:
            db.execute("DROP TRIGGER full")
        assert ours.cache.tracker(sender) is None
        assert dump(await ours.retrieve(sender)) == dump(await rasa.retrieve(sender))

        # Evicted by other conversations, then read again from the file.
        for other in range(12):
            t = await ours.get_or_create_tracker(f"otro-{other}")
            await ours.save(t)
        assert ours.cache.tracker(sender) is None
        assert dump(await ours.retrieve(sender)) == dump(await rasa.retrieve(sender))

        # Erased: nothing comes back from memory.
        tracker = await ours.retrieve(sender)
        tracker.update(at(ActionExecuted(ERASE_ACTION)))
        await ours.save(tracker)
        assert await ours.retrieve(sender) is None and await rasa.retrieve(sender) is None

        # Without the cache (several Rasa processes): no tracker is kept, every read is the database's.
        plain = SQLTrackerStore(domain, dialect="sqlite", db=path, cache_size=0)
        tracker = await plain.get_or_create_tracker("sin-cache")
        for n in range(5):
            for event in turn(n):
                tracker.update(event)
            await plain.save(tracker)
            assert plain.cache.tracker("sin-cache") is None and len(plain.cache) == 0
            tracker = await plain.retrieve("sin-cache")
            assert dump(tracker) == dump(await rasa.retrieve("sin-cache"))
        print("same")

    asyncio.run(main())
''')


def test_the_kept_tracker_is_the_databases_message_after_message(tmp_path):
    out = run_in_rasa(SCRIPT, str(tmp_path / "tracker.db"), timeout=300)
    assert out.strip().endswith("same")
