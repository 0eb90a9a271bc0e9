"""The erasure of one person (bot.privacy.erase) and the retention job (bot.privacy.retention),
against real databases (SQLite and the machine's PostgreSQL): after erasure no table holds the
person's id, phone, e-mail or anything they wrote, and the monthly figures do not change."""

import datetime as dt
import json

import pytest
from sqlalchemy import MetaData, create_engine, insert, select, text

from bot.desk.schema import desk_users
from bot.feedback import store as ratings
from bot.handoff.store import HandoffStore
from bot.privacy import erase, retention
from bot.privacy.schema import privacy_erasures, privacy_runs
from bot.report import handoff as handoff_figures
from bot.store.clock import now
from bot.store.schema import button_choices, contacts, seen_messages
from bot.suggestions import service as suggestions
from bot.suggestions.export import monthly_counts
from tests.databases import migrated_engine

T0 = dt.datetime(2026, 11, 10, 15, 0, tzinfo=dt.timezone.utc)
PHONE = "+51987001122"
ANA = f"whatsapp:{PHONE}"
EMAIL = "ana.quispe.zq@example.org"
PHRASE = "mi patron de la chacra en Murcia zq4471"
BETO = "telegram:5550001"


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request, tmp_path):
    with migrated_engine(request.param, tmp_path) as engine:
        with engine.begin() as conn:
            conn.execute(insert(desk_users), [{"id": 1, "email": "asesora@example.org", "display_name": "Asesora",
                                               "password_hash": "x", "roles": "advisor", "active": True, "created_at": now()}])
        yield engine


def person_data(engine, sender, phrase, email, at=T0):
    """What a person leaves across the service: a suggestion, a rating, two tickets, channel state."""
    suggestions.submit(engine, client_key=f"{sender}:1", channel=sender.split(":")[0], sender_id=sender, kind="queja",
                       country="espana", city="Murcia", topic="Trabajo de temporada", text=f"{phrase}. Escríbanme a {email}",
                       contact=email, consent_at=at, now=at)
    ratings.rate(engine, article_id="emigrar/tramites/espana", last_reviewed=dt.date(2026, 10, 1), useful=False,
                 channel=sender.split(":")[0], sender_id=sender, conversation="c1", at=at)
    store = HandoffStore(engine)
    transcript = [{"role": "person", "text": phrase, "source_key": "u:1", "at": at},
                  {"role": "bot", "text": "Trabajar en España", "article_id": "emigrar/tramites/espana", "at": at}]
    closed, _ = store.open_ticket(sender_id=sender, channel=sender.split(":")[0], reason="asked", priority=0,
                                  line="emigrar", country="espana", topic="emigrar/tramites", transcript=transcript, at=at)
    store.record_person_message(sender, f"mi correo es {email}", source_key="u:2", at=at)
    store.take(closed.id, 1, at=at + dt.timedelta(minutes=2))
    store.add_message(closed.id, "advisor", f"Hola, sobre «{phrase}»: le escribo a {email}", author_id=1,
                      author_name="Asesora", at=at + dt.timedelta(minutes=3))
    store.close(closed.id, "person", at=at + dt.timedelta(minutes=9))
    store.open_ticket(sender_id=sender, channel=sender.split(":")[0], reason="safety", priority=1,
                      transcript=[{"role": "person", "text": phrase, "source_key": "u:3", "at": at}],
                      at=at + dt.timedelta(days=25))  # still open, next month
    with engine.begin() as conn:
        conn.execute(insert(contacts).values(sender_id=sender, channel=sender.split(":")[0], last_inbound_at=at,
                                             opted_out=False, created_at=at))
        conn.execute(insert(button_choices).values(sender_id=sender, offer="ab12", position=1, ref=f"r-{sender[-4:]}",
                                                   title="España", payload='/informar_pais{"country":"espana"}', created_at=at))


def leftovers(engine, needles):
    """Every (table, needle) where a needle appears in any column of any row of any table."""
    found = []
    tables = MetaData()
    tables.reflect(engine)
    with engine.connect() as conn:
        for table in tables.sorted_tables:
            for row in conn.execute(select(table)):
                blob = json.dumps([str(v) for v in row], ensure_ascii=False).lower()
                found += [(table.name, n) for n in needles if n.lower() in blob]
    return found


def needles_of(sender, phrase, email):
    return [sender, sender.split(":", 1)[1], email, phrase, phrase.split()[-1]]


def test_erasure_leaves_nothing_of_the_person_and_keeps_the_figures(engine):
    person_data(engine, ANA, PHRASE, EMAIL)
    person_data(engine, BETO, "beto escribe zq9999", "beto@example.org")
    month = T0.date().replace(day=1)
    start, end = T0 - dt.timedelta(days=9), T0 + dt.timedelta(days=21)
    before = (monthly_counts(engine, month), ratings.counts(engine, start, end), handoff_figures.stats(engine, start, end))
    assert leftovers(engine, needles_of(ANA, PHRASE, EMAIL))  # the search finds them before

    done = erase.erase_person(engine, ANA, requested_by="person", at=T0 + dt.timedelta(days=26))

    counts = done.counts()
    assert counts.pop("ticket_messages") >= 4
    assert counts == {"suggestions": 1, "ratings": 1, "tickets": 2, "contacts": 1, "buttons": 1, "mail_threads": 0,
                      "window_contacts": 0}
    assert leftovers(engine, needles_of(ANA, PHRASE, EMAIL)) == []
    assert leftovers(engine, ["beto escribe zq9999", BETO])  # the other person is untouched
    after = (monthly_counts(engine, month), ratings.counts(engine, start, end), handoff_figures.stats(engine, start, end))
    # suggestions, ratings and advisor figures of the month are the same; a free topic (it may say
    # anything) counts as "otro" from then on
    assert before[0]["by_topic"] == {"Trabajo de temporada": 2} and after[0]["by_topic"] == {"Trabajo de temporada": 1, "otro": 1}
    assert {**after[0], "by_topic": None} == {**before[0], "by_topic": None} and after[1:] == before[1:]
    with engine.connect() as conn:
        audit = conn.execute(select(privacy_erasures)).mappings().one()
    assert audit["requested_by"] == "person" and audit["channel"] == "whatsapp" and audit["counts"]["tickets"] == 2
    assert HandoffStore(engine).open_for(ANA) is None
    again = erase.erase_person(engine, ANA, requested_by="desk", staff_id=1, staff_email="Asesora@Example.org")
    assert again.total == 0  # idempotent


def test_find_people_by_phone_email_or_id(engine, tmp_path):
    person_data(engine, ANA, PHRASE, EMAIL)
    person_data(engine, BETO, "beto escribe zq9999", "beto@example.org")
    tracker = create_engine(f"sqlite:///{tmp_path / 'tracker.db'}")
    with tracker.begin() as conn:
        conn.execute(text("CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id VARCHAR(255), type_name VARCHAR(255), "
                          "timestamp FLOAT, intent_name VARCHAR(255), action_name VARCHAR(255), data TEXT)"))
        conn.execute(text("INSERT INTO events (sender_id, type_name, timestamp, data) VALUES "
                          "('web:1f0c', 'user', 1, '{\"text\": \"mi correo: Ana.Quispe.ZQ@example.org\"}')"))
    assert [m.sender_id for m in erase.find_people(engine, "+51 987 001 122")] == [ANA]
    assert [m.sender_id for m in erase.find_people(engine, "987001122")] == [ANA]
    found = erase.find_people(engine, EMAIL.upper(), tracker)
    assert [m.sender_id for m in found] == ["web:1f0c", ANA] and found[0].found_in == ("conversación",)
    assert "sugerencias" in found[1].found_in and "atención por asesores" in found[1].found_in
    assert [m.sender_id for m in erase.find_people(engine, BETO)] == [BETO]
    assert erase.find_people(engine, "123") == []
    assert erase.delete_conversation(tracker, "web:1f0c") == 1
    erase.erase_person(engine, ANA)
    assert erase.find_people(engine, PHONE) == []


def tracker_with(path, conversations):
    tracker = create_engine(f"sqlite:///{path}")
    with tracker.begin() as conn:
        conn.execute(text("CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id VARCHAR(255), type_name VARCHAR(255), "
                          "timestamp FLOAT, intent_name VARCHAR(255), action_name VARCHAR(255), data TEXT)"))
        for sender, at in conversations:
            conn.execute(text("INSERT INTO events (sender_id, type_name, timestamp, data) VALUES (:s, 'user', :t, '{}')"),
                         {"s": sender, "t": at.timestamp()})
    return tracker


def test_retention_purges_what_is_old_and_writes_the_reports_first(engine, tmp_path, monkeypatch):
    at = T0 + dt.timedelta(days=400)
    person_data(engine, ANA, PHRASE, EMAIL)  # all of it 400 days old
    person_data(engine, BETO, "beto escribe zq9999", "beto@example.org", at=at - dt.timedelta(days=3))
    with engine.begin() as conn:
        conn.execute(insert(seen_messages).values(key="twilio:SMold", seen_at=at - dt.timedelta(days=8)))
    tracker = tracker_with(tmp_path / "tracker.db", [(ANA, T0), (ANA, T0 + dt.timedelta(days=1)), (BETO, at - dt.timedelta(days=200)),
                                                      (BETO, at - dt.timedelta(days=1))])
    generated = []
    result = retention.run_retention(engine, tracker, at=at, env={"SUGGESTIONS_RETENTION_MONTHS": "12"},
                                     generate=lambda month, **kw: generated.append(month))
    # first the report of every month from the oldest event to the cutoff (180 days before: June 2027)
    assert generated == result["reports_written"] == ["2026-11", "2026-12"] + [f"2027-0{m}" for m in range(1, 7)]
    assert result["conversation_events"] == 2
    with tracker.connect() as conn:
        assert conn.execute(text("SELECT DISTINCT sender_id FROM events")).scalars().all() == [BETO]
    assert result["tickets"] == 1 and result["contacts"] == 1 and result["buttons"] == 1 and result["seen_messages"] == 1
    assert result["suggestions"] == 1 and result["ratings"] == 1  # ANA's rating lost its sender at BETO's
    # ANA's open ticket (never closed) keeps its messages; her closed one and her contact data are gone;
    # an old suggestion keeps its text, with e-mails and phone numbers scrubbed
    assert set(leftovers(engine, [EMAIL, PHONE, "Murcia zq4471"])) == {
        ("handoff_messages", "Murcia zq4471"), ("handoff_tickets", PHONE), ("suggestions", "Murcia zq4471")}
    assert leftovers(engine, ["beto escribe zq9999"])  # recent: kept


def test_the_daily_run_happens_once_per_day(engine, tmp_path, monkeypatch):
    monkeypatch.setenv("TRACKER_DATABASE_URL", f"sqlite:///{tmp_path / 'none.db'}")
    first = retention.run_daily(engine, at=T0)
    assert first is not None and "error" not in first
    assert retention.run_daily(engine, at=T0 + dt.timedelta(hours=2)) is None
    assert retention.run_daily(engine, at=T0 + dt.timedelta(days=1)) is not None
    with engine.connect() as conn:
        rows = conn.execute(select(privacy_runs.c.day, privacy_runs.c.finished_at)).all()
    assert len(rows) == 2 and all(finished for _, finished in rows)
    assert not retention.enabled({"PRIVACY_RETENTION_JOB": "off"}) and retention.enabled({})
    with pytest.raises(ValueError):
        retention.days("HANDOFF_RETENTION_DAYS", {"HANDOFF_RETENTION_DAYS": "0"})


def test_the_command_line_erases_and_applies_the_retention(engine, tmp_path, monkeypatch, capsys):
    from bot.cli import main
    from tests.stack import free_port

    if engine.dialect.name != "sqlite":
        pytest.skip("the same code as above; the command line once is enough")
    person_data(engine, ANA, PHRASE, EMAIL)
    tracker = tracker_with(tmp_path / "tracker.db", [(ANA, T0)])
    monkeypatch.setenv("RASA_URL", f"http://127.0.0.1:{free_port()}")  # Rasa is down: deleted in its database
    url, tracker_url = str(engine.url), f"sqlite:///{tmp_path / 'tracker.db'}"
    assert main(["privacy", "erase", "--sender", ANA, "--by", "dpo@example.org", "--url", url, "--tracker-url", tracker_url]) == 0
    assert "conversation: database" in capsys.readouterr().out
    assert leftovers(engine, needles_of(ANA, PHRASE, EMAIL)) == [] and leftovers(tracker, [ANA]) == []
    assert main(["privacy", "retention", "--url", url, "--tracker-url", tracker_url]) == 0
    assert "seen_messages" in capsys.readouterr().out


def test_the_action_and_the_tracker_store_agree_on_the_erasure_action():
    from pathlib import Path

    from actions.voz_del_migrante import ActionEraseMyData

    source = (Path(__file__).resolve().parents[2] / "bot" / "rasa" / "tracker_store.py").read_text(encoding="utf-8")
    assert f'ERASE_ACTION = "{erase.ERASE_ACTION}"' in source and ActionEraseMyData().name() == erase.ERASE_ACTION
