"""Several Rasa processes on one database (bot/rasa/tracker_store.py, `shared: true`, issue 15): each keeps
its cache and its kept trackers, and what it reads is still the database's.

Two of our stores (two Rasa processes) and Rasa's own `SQLTrackerStore` on the same database, SQLite and
PostgreSQL: one conversation served three messages by one process, then three by the other, for a long
session, a new session, rows deleted behind their backs (the retention job), an erasure saved by one of
them. Every read equals Rasa's own store's, and a process that takes the conversation back applies the
other's turns to the tracker it kept instead of rebuilding it. Checked in the Rasa venv.
"""

import json
import textwrap
import uuid

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bot.store.db import database_url
from tests.databases import ADMIN_URL, ensure_postgres
from tests.rasa_venv import run_in_rasa

SCRIPT = textwrap.dedent('''
    import asyncio, json, logging, sys
    import structlog
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    import sqlalchemy as sa
    from rasa.core.tracker_store import SQLTrackerStore as RasaStore
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, SlotSet, UserUttered
    from rasa.shared.core.trackers import EventVerbosity
    from bot.rasa import patches as rasa_patches
    from bot.rasa.tracker_store import ERASE_ACTION, SQLTrackerStore

    rasa_patches.apply()
    config = json.loads(sys.argv[1])
    domain = Domain.load("domain.yml")
    from tests.rasa_venv import Stamps

    at = Stamps()

    def turn(n):
        intent = ("saludo", "emigrar_tramites", "informar_pais", "menu")[n % 4]
        parse = {"intent": {"name": intent, "confidence": 0.93}, "entities": [], "text": f"mensaje {n}"}
        events = [at(UserUttered(f"mensaje {n}", parse["intent"], [], parse)), at(ActionExecuted("action_answer_topic")),
                  at(BotUttered(f"respuesta {n}"))]
        if n % 3 == 0:
            events.append(at(SlotSet("topic", f"tema-{n}")))
        return events + [at(ActionExecuted("action_listen"))]

    def start():
        return [at(ActionExecuted("action_session_start")), at(SessionStarted()), at(ActionExecuted("action_listen"))]

    def dump(tracker):
        if tracker is None:
            return None
        return (tracker.current_state(EventVerbosity.ALL), [e.as_dict() for e in tracker.applied_events()],
                tracker.past_states(domain), {k: s.value for k, s in tracker.slots.items()}, tracker.latest_action)

    async def serve(store, rasa, sender, events):
        """One turn on `store`: read (equal to Rasa's own read), add the events, save."""
        tracker = await store.retrieve(sender)
        assert dump(tracker) == dump(await rasa.retrieve(sender))
        if tracker is None:
            tracker = await store.get_or_create_tracker(sender, append_action_listen=False)
        for event in events:
            tracker.update(event)
        tracker.past_states(domain)
        await store.save(tracker)

    async def main():
        one = SQLTrackerStore(domain, cache_size=10, shared=True, **config)
        other = SQLTrackerStore(domain, cache_size=10, shared="true", **config)  # from ${VAR}: text
        rasa = RasaStore(domain, **config)
        sender = "dos-procesos"
        await serve(one, rasa, sender, start())
        taken_back = applied = 0
        for n in range(150):
            store = (one, other)[(n // 3) % 2]  # three messages on one process, three on the other
            kept = store.cache.tracker(sender)
            events = turn(n) if n != 100 else [*start(), at(SlotSet("topic", "tema-100")), *turn(n)]
            await serve(store, rasa, sender, events)
            if n % 3 == 0 and n >= 6 and n != 102:
                taken_back += 1
                applied += kept is not None and store.cache.tracker(sender) is kept
        assert taken_back > 40 and applied == taken_back, (taken_back, applied)
        for store in (one, other):
            assert dump(await store.retrieve(sender)) == dump(await rasa.retrieve(sender))

        # The retention job deletes the conversation behind both; it starts again on the other process.
        engine = sa.create_engine(rasa.engine.url)
        with engine.begin() as db:
            db.execute(sa.text("DELETE FROM events WHERE sender_id = :s"), {"s": sender})
        assert await one.retrieve(sender) is None and await other.retrieve(sender) is None
        await serve(other, rasa, sender, [*start(), *turn(1)])
        for n in range(2, 8):
            await serve((one, other)[n % 2], rasa, sender, turn(n))

        # Erased on one process ("borrar mis datos"): the other reads nothing either.
        tracker = await one.retrieve(sender)
        tracker.update(at(ActionExecuted(ERASE_ACTION)))
        await one.save(tracker)
        assert await other.retrieve(sender) is None and await rasa.retrieve(sender) is None
        await serve(other, rasa, sender, [*start(), *turn(9)])
        await serve(one, rasa, sender, turn(10))
        print("same")

    asyncio.run(main())
''')


def run(config: dict) -> None:
    out = run_in_rasa(SCRIPT, json.dumps(config), timeout=600)
    assert out.strip().endswith("same")


def test_two_processes_on_one_sqlite_file(tmp_path):
    run({"dialect": "sqlite", "db": str(tmp_path / "tracker.db")})


def test_two_processes_on_one_postgresql_database():
    ensure_postgres()
    name = f"infomigra_trackers_{uuid.uuid4().hex[:10]}"
    admin = create_engine(database_url(ADMIN_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(ADMIN_URL)
    try:
        run({"dialect": "postgresql", "host": url.host, "port": url.port, "db": name,
             "username": url.username, "password": url.password})
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
