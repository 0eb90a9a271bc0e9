"""Our tracker store (bot/rasa/tracker_store.py) stores and reads back exactly what Rasa's SQL store does.

Checked in the Rasa venv, against Rasa's own `SQLTrackerStore` reading the same SQLite file: the rows
written, the trackers read back (from the cache and after it), a new session, evictions and a
failed write.
"""

import textwrap

from tests.rasa_venv import run_in_rasa

SCRIPT = textwrap.dedent('''
    import asyncio, sqlite3, sys
    import sqlalchemy as sa
    from rasa.core.tracker_store import SQLTrackerStore as RasaStore
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import (ActionExecuted, BotUttered, SessionStarted, SlotSet, UserUttered)
    from bot.rasa.tracker_store import SQLTrackerStore

    path = sys.argv[1]
    domain = Domain.load("domain.yml")
    from tests.rasa_venv import Stamps

    at = Stamps()

    def turn(text, intent, country=None):
        parse = {"intent": {"name": intent, "confidence": 0.93}, "entities": [], "text": text}
        events = [at(UserUttered(text, parse["intent"], [], parse)), at(ActionExecuted("action_answer")),
                  at(BotUttered("respuesta a " + text, {"buttons": [{"title": "Sí", "payload": "/si"}]}))]
        if country:
            events.append(at(SlotSet("country", country)))
        return events + [at(ActionExecuted("action_listen"))]

    def new_session():
        started = at(SessionStarted())
        return [at(ActionExecuted("action_session_start")), started, at(ActionExecuted("action_listen"))]

    def rows(sender):
        with sqlite3.connect(path) as db:
            return db.execute("SELECT type_name, timestamp, intent_name, action_name, data FROM events "
                              "WHERE sender_id = ? ORDER BY id", (sender,)).fetchall()

    def dump(tracker):
        return None if tracker is None else ([e.as_dict() for e in tracker.events], tracker.current_state())

    async def main():
        ours = SQLTrackerStore(domain, dialect="sqlite", db=path, cache_size=1)
        rasa = RasaStore(domain, dialect="sqlite", db=path)

        # One conversation written by each store, event for event: the same rows.
        script = [turn("hola", "saludo"), turn("trabajo en espana", "emigrar_tramites", "espana"), new_session(),
                  turn("y para chile?", "cambiar_pais", "chile")]
        for sender, store in (("ours", ours), ("rasa", rasa)):
            at.now = 1_700_000_000.0
            tracker = await store.get_or_create_tracker(sender, append_action_listen=False)
            for events in script:
                for event in events:
                    tracker.update(event)
                await store.save(tracker)
                tracker = await store.retrieve(sender)  # as the processor does: read back at each message
                assert dump(tracker) == dump(await rasa.retrieve(sender)), sender
        assert rows("ours") == rows("rasa") and len(rows("ours")) == sum(map(len, script))
        # After a new session both read back only that session (what the processor works on).
        assert [e.type_name for e in (await ours.retrieve("ours")).events][:2] == ["action", "session_started"]
        assert dump(await ours.retrieve("ours"))[0] == dump(await rasa.retrieve("rasa"))[0]

        # The cache is what answers: a remembered conversation is read with no SQL at all, and saved
        # with the new events' INSERT alone (no read-back, no count).
        statements = []
        sa.event.listen(ours.engine, "before_cursor_execute",
                        lambda conn, cursor, statement, *rest: statements.append(statement.split()[0].upper()))
        tracker = await ours.retrieve("ours")
        assert statements == []
        for event in turn("otra pregunta", "saludo"):
            tracker.update(event)
        await ours.save(tracker)
        assert statements == ["INSERT"], statements
        assert dump(await ours.retrieve("ours")) == dump(await rasa.retrieve("ours")) and statements == ["INSERT"]

        # Two conversations taking turns through a cache of one: every read is still the database's.
        for n in range(3):
            for sender in ("ana", "beto"):
                tracker = await ours.get_or_create_tracker(sender)
                for event in turn(f"mensaje {n} de {sender}", "saludo"):
                    tracker.update(event)
                await ours.save(tracker)
                assert len(ours.cache) == 1
                assert dump(await ours.retrieve(sender)) == dump(await rasa.retrieve(sender))
        assert dump(await ours.retrieve("ana")) == dump(await rasa.retrieve("ana"))  # evicted, read from the file
        assert len(rows("ana")) == 1 + 3 * 4  # action_listen of a new tracker, then three turns of four events

        # A write that fails: nothing stored, nothing remembered; the next read is the database's.
        tracker = await ours.retrieve("beto")
        before = dump(tracker)
        for event in turn("esto no se guarda", "saludo"):
            tracker.update(event)
        with sqlite3.connect(path) as db:
            db.execute("CREATE TRIGGER full BEFORE INSERT ON events BEGIN SELECT RAISE(ABORT, 'disk full'); END")
        try:
            await ours.save(tracker)
            raise AssertionError("the save should have failed")
        except sa.exc.IntegrityError as error:
            assert "disk full" in str(error)
        with sqlite3.connect(path) as db:
            db.execute("DROP TRIGGER full")
        assert ours.cache.get("beto") is None
        assert dump(await ours.retrieve("beto")) == before == dump(await rasa.retrieve("beto"))

        # Unknown conversations: nothing, from either store. A new one is then saved without counting
        # its stored events: the read that found none is remembered.
        assert await ours.retrieve("nadie") is None and await rasa.retrieve("nadie") is None
        statements.clear()
        tracker = await ours.get_or_create_tracker("nueva")
        assert statements == ["SELECT", "INSERT"], statements
        for event in turn("hola", "saludo"):
            tracker.update(event)
        await ours.save(tracker)
        assert statements == ["SELECT", "INSERT", "INSERT"], statements
        assert dump(await ours.retrieve("nueva")) == dump(await rasa.retrieve("nueva"))

        # SQLite connections are pooled and in WAL mode.
        assert type(ours.engine.pool).__name__ == "QueuePool"
        with ours.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        print("same")

    asyncio.run(main())
''')


def test_tracker_store_reads_and_writes_like_rasas(tmp_path):
    out = run_in_rasa(SCRIPT, str(tmp_path / "tracker.db"), timeout=180)
    assert out.strip().endswith("same")


ERASE_SCRIPT = textwrap.dedent('''
    import asyncio, sqlite3, sys
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, UserUttered
    from bot.rasa.tracker_store import ERASE_ACTION, LatestSessions, SQLTrackerStore

    path = sys.argv[1]
    domain = Domain.load("domain.yml")

    def rows(sender=None):
        with sqlite3.connect(path) as db:
            if sender is None:
                return db.execute("SELECT sender_id, data FROM events").fetchall()
            return db.execute("SELECT data FROM events WHERE sender_id = ?", (sender,)).fetchall()

    def turn(text):
        parse = {"intent": {"name": "saludo", "confidence": 0.9}, "entities": [], "text": text}
        return [UserUttered(text, parse["intent"], [], parse), BotUttered("respuesta"), ActionExecuted("action_listen")]

    async def talk(store, sender, *texts, new_session=False):
        tracker = await store.get_or_create_tracker(sender)
        if new_session:
            for event in (ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen")):
                tracker.update(event)
        for text in texts:
            for event in turn(text):
                tracker.update(event)
        await store.save(tracker)
        return tracker

    async def main():
        for size in (1000, 0):  # with the cache (endpoints.yml) and without it (several Rasa processes)
            store = SQLTrackerStore(domain=domain, dialect="sqlite", db=path, cache_size=size)
            ana, other = f"whatsapp:+5198765432{size % 10}", f"otra-{size}"
            await talk(store, ana, "frase unica de ana zq81")
            await talk(store, ana, "segunda sesion de ana", new_session=True)
            await talk(store, other, "hola")
            assert len(rows(ana)) > 6
            # "borrar mis datos", confirmed: the action's turn is saved, and nothing of the person remains
            tracker = await store.retrieve(ana)
            for event in (*turn("si"), ActionExecuted(ERASE_ACTION), BotUttered("Listo"), ActionExecuted("action_listen")):
                tracker.update(event)
            await store.save(tracker)
            assert rows(ana) == [], rows(ana)
            assert not any("zq81" in data for _, data in rows())
            assert await store.retrieve(ana) is None  # the next message starts a new conversation
            assert len(rows(other)) == 4  # the others are untouched
            # the same erasure appended by the desk through Rasa's HTTP API, on a conversation not in memory
            await talk(store, ana, "vuelve ana")
            store.cache.drop(ana)
            tracker = await store.retrieve(ana)
            tracker.update(ActionExecuted(ERASE_ACTION))
            await store.save(tracker)
            assert rows(ana) == [] and await store.retrieve(ana) is None
            # a new conversation after that is stored as usual
            await talk(store, ana, "hola de nuevo")
            assert len(rows(ana)) == 4
            store.engine.dispose()

        # A conversation left alone is read from the database again, and leaves memory.
        now = [0.0]
        cache = LatestSessions(10, idle_seconds=60, clock=lambda: now[0])
        cache.put("a", [])
        cache.put("b", [])
        now[0] = 30
        assert cache.get("a") == []
        now[0] = 70
        assert cache.get("b") is None and len(cache) == 1  # b idle for 70 s: gone; a used 40 s ago: kept
        now[0] = 200
        assert cache.get("a") is None and len(cache) == 0
        print("erased")

    asyncio.run(main())
''')


def test_erasure_deletes_every_session_of_the_conversation_and_the_cache_forgets(tmp_path):
    out = run_in_rasa(ERASE_SCRIPT, str(tmp_path / "tracker.db"), timeout=180)
    assert out.strip().endswith("erased")
