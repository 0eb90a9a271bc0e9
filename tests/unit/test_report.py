"""The monthly report from events in Rasa's SQL tracker-store format and our own tables, on SQLite and
PostgreSQL: every figure checked against a month built by hand, "<5" for small cells, an empty month,
the HTML and CSV files, and the command line."""

import csv
import datetime as dt
import html.parser
import json
import uuid

import pytest
from sqlalchemy import create_engine, insert, text

from bot.cli import main
from bot.desk.schema import desk_users
from bot.feedback import store as ratings
from bot.handoff.schema import handoff_tickets
from bot.knowledge import load
from bot.report import build as report_build
from bot.report import gaps, output
from bot.report.conversations import conversations
from bot.report.html import render, style_hashes
from bot.report.model import Duration, Mean, Share, show
from bot.report.tracker import Event, url_from_endpoints
from bot.report.tracker import events as events_table
from bot.store.db import database_url
from bot.suggestions import service
from bot.window.schema import window_visits
from tests.databases import ADMIN_URL, ensure_postgres, migrated_engine

LIMA = dt.timezone(dt.timedelta(hours=-5))
UTC = dt.timezone.utc
KB = load()


class Events:
    """Rows of Rasa's `events` table, written the way SQLTrackerStore writes them."""

    def __init__(self) -> None:
        self.rows: list[dict] = []

    def add(self, sender: str, at: dt.datetime, event: dict) -> None:
        event = {"timestamp": at.timestamp(), **event}
        self.rows.append({"sender_id": sender, "type_name": event["event"], "timestamp": event["timestamp"],
                          "intent_name": ((event.get("parse_data") or {}).get("intent") or {}).get("name"),
                          "action_name": event.get("name"), "data": json.dumps(event)})

    def session(self, sender: str, at: dt.datetime, **carried) -> None:
        self.add(sender, at, {"event": "action", "name": "action_session_start"})
        self.add(sender, at, {"event": "session_started"})
        for name, value in carried.items():
            self.add(sender, at, {"event": "slot", "name": name, "value": value})
        self.add(sender, at, {"event": "action", "name": "action_listen"})

    def user(self, sender: str, at: dt.datetime, text: str, intent: str, channel: str, **entities) -> None:
        self.add(sender, at, {"event": "user", "text": text, "input_channel": channel,
                              "parse_data": {"intent": {"name": intent, "confidence": 0.9},
                                             "entities": [{"entity": k, "value": v} for k, v in entities.items()]}})
        for name, value in entities.items():
            if name == "country":
                self.add(sender, at, {"event": "slot", "name": "country", "value": value})

    def act(self, sender: str, at: dt.datetime, name: str, *, bots=(), slots=None, buttons=None, pause=False) -> None:
        self.add(sender, at, {"event": "action", "name": name})
        for i, line in enumerate(bots):
            last = i == len(bots) - 1
            self.add(sender, at, {"event": "bot", "text": line, "data": {"buttons": buttons if last and buttons else None},
                                  "metadata": {}})
        for slot, value in (slots or {}).items():
            self.add(sender, at, {"event": "slot", "name": slot, "value": value})
        if pause:
            self.add(sender, at, {"event": "pause"})
        self.add(sender, at, {"event": "action", "name": "action_listen"})

    def write(self, engine) -> None:
        events_table.metadata.create_all(engine)
        with engine.begin() as conn:
            conn.execute(insert(events_table), self.rows)


def lima(day: int, hour: int, minute: int = 0, month: int = 10) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=LIMA)


OFFER = [{"title": "Estudios", "payload": '/elegir_articulo{"article":"info/estudios"}'},
         {"title": "Ninguna de estas", "payload": "/ninguna"}]
VOTE = "quiero saber si puedo votar desde afuera, mi correo es ana.perez@example.org"
BEAUTY = ["como convalido mi titulo de cosmetologa", "convalidar titulo de cosmetologa en chile"]


def october(events: Events) -> None:
    # A (web, 3 Oct): greeting, an article with a country, rated yes. Answered.
    a = "web:a"
    events.session(a, lima(3, 10))
    events.user(a, lima(3, 10), "hola", "saludo", "web")
    events.act(a, lima(3, 10), "utter_saludo", bots=["¡Hola!"])
    events.act(a, lima(3, 10), "utter_menu", bots=["¿Sobre qué?"])
    events.user(a, lima(3, 10, 1), "q papeles pa españa", "emigrar_tramites", "web", country="espana")
    events.act(a, lima(3, 10, 1), "action_answer_topic", bots=["España", "Actualizado: 01/10/2026"],
               slots={"topic": "emigrar/tramites", "article_id": "emigrar/tramites/espana"})
    events.user(a, lima(3, 10, 2), '/valorar_respuesta{"util":"si"}', "valorar_respuesta", "web", util="si")
    events.act(a, lima(3, 10, 2), "action_rate_answer", bots=["¡Gracias!"])
    # B (WhatsApp, 3 Oct): unsure, the offer refused. Unresolved; a content gap (with an e-mail to scrub).
    b = "whatsapp:+34600000001"
    events.session(b, lima(3, 20))
    events.user(b, lima(3, 20), VOTE, "nlu_fallback", "whatsapp")
    events.act(b, lima(3, 20), "action_kb_search", bots=["¿Buscas alguno de estos temas?"], buttons=OFFER,
               slots={"kb_offer": ["info/estudios"]})
    events.user(b, lima(3, 20, 1), "/ninguna", "ninguna", "whatsapp")
    events.act(b, lima(3, 20, 1), "utter_ninguna", bots=["Entiendo, no era eso."])
    # C (Telegram, 4 Oct): unsure, an offered article taken. Answered.
    c = "telegram:1"
    events.session(c, lima(4, 9))
    events.user(c, lima(4, 9), "becas para estudiar en el extranjero", "nlu_fallback", "telegram")
    events.act(c, lima(4, 9), "action_kb_search", bots=["¿Buscas alguno de estos temas?"], buttons=OFFER)
    events.user(c, lima(4, 9, 1), '/elegir_articulo{"article":"info/estudios"}', "elegir_articulo", "telegram",
                article="info/estudios")
    events.act(c, lima(4, 9, 1), "action_show_article", bots=["Estudios"], slots={"article_id": "info/estudios"})
    # F (web, 10 Oct): a new session carries article_id and handoff over; only a greeting. Browsed.
    f = "web:f"
    events.session(f, lima(10, 12), article_id="info/contacto", handoff=True, country="chile")
    events.user(f, lima(10, 12), "hola", "saludo", "web")
    events.act(f, lima(10, 12), "utter_saludo", bots=["¡Hola!"])
    # R1..R6 (REST, 15 Oct): the contact article, 4 rated yes and 2 no in our table. Answered.
    for i in range(6):
        r = f"rest-{i}"
        events.session(r, lima(15, 11, i))
        events.user(r, lima(15, 11, i), "/info_contacto", "info_contacto", "rest")
        events.act(r, lima(15, 11, i), "action_answer_topic", bots=["Contacto"], slots={"article_id": "info/contacto"})
    # G (web:a again, 20 Oct, a new session): a safety topic, then the advisor. Escalated (safety).
    events.session(a, lima(20, 8))
    events.user(a, lima(20, 8), "me quitaron el pasaporte", "seguridad_trata_y_fraude", "web")
    events.act(a, lima(20, 8), "action_answer_topic", bots=["Trata"], slots={"article_id": "seguridad/trata-y-fraude"})
    events.act(a, lima(20, 8), "action_handoff", bots=["Te paso con un asesor"], slots={"handoff": True}, pause=True)
    events.user(a, lima(20, 8, 5), "sigo esperando", "afirmar", "web")  # while paused: no action
    # H (REST, 25 Oct): unsure twice; nothing found, then escalated (unsure). Two content gaps.
    h = "rest-h"
    events.session(h, lima(25, 16))
    events.user(h, lima(25, 16), BEAUTY[0], "nlu_fallback", "rest")
    events.act(h, lima(25, 16), "action_kb_search", bots=["No encontré información sobre eso."], slots={"kb_offer": None})
    events.user(h, lima(25, 16, 1), BEAUTY[1], "nlu_fallback", "rest")
    events.act(h, lima(25, 16, 1), "action_kb_search", bots=["Te paso con un asesor"], slots={"handoff": True}, pause=True)
    # D (web, 31 Oct 23:30 in Peru = 1 Nov in UTC): asks for a person. Escalated (asked), in October.
    d = "web:d"
    events.session(d, lima(31, 23, 30))
    events.user(d, lima(31, 23, 30), "quiero hablar con una persona", "pedir_asesor", "web")
    events.act(d, lima(31, 23, 30), "action_handoff", bots=["Te paso con un asesor"], slots={"handoff": True}, pause=True)
    # Outside October: 30 Sep and 1 Nov (Peru time).
    for sender, at in (("web:sep", lima(30, 22, month=9)), ("web:nov", lima(1, 0, 30, month=11))):
        events.session(sender, at)
        events.user(sender, at, "/info_contacto", "info_contacto", "web")
        events.act(sender, at, "action_answer_topic", bots=["Contacto"], slots={"article_id": "info/contacto"})


def our_tables(engine) -> None:
    reviewed = KB.get("info/contacto").last_reviewed
    for i, useful in enumerate([True, True, True, True, False, False]):
        ratings.rate(engine, article_id="info/contacto", last_reviewed=reviewed, useful=useful, channel="rest",
                     sender_id=f"rest-{i}", conversation="1", at=lima(15, 12).astimezone(UTC))
    ratings.rate(engine, article_id="emigrar/tramites/espana", last_reviewed=dt.date(2026, 1, 1), useful=True, channel="web",
                 sender_id="web:a", conversation="1", at=lima(3, 10, 2).astimezone(UTC))
    ratings.rate(engine, article_id="info/contacto", last_reviewed=reviewed, useful=False, channel="web",
                 sender_id="web:nov", conversation="1", at=lima(1, 1, month=11).astimezone(UTC))  # November
    for i in range(6):
        at = lima(5 + i, 9).astimezone(UTC)
        service.submit(engine, client_key=f"k{i}", channel="whatsapp", kind="queja" if i < 5 else "sugerencia",
                       country="espana", topic="Consulados y atención", text="El consulado no contesta.", consent_at=at,
                       sender_id=f"whatsapp:+3460000010{i}", now=at)
    with engine.begin() as conn:
        ana, beto = (conn.execute(insert(desk_users).values(email=f"{n.lower()}@example.org", display_name=n, password_hash="x",
                                                            roles="advisor", active=True, created_at=lima(1, 8)))
                     .inserted_primary_key[0] for n in ("Ana", "Beto"))
        rows = []
        for i, rating in enumerate([5, 4, 5, 3, 5]):
            created = lima(6 + i, 10).astimezone(UTC)
            rows.append(ticket(f"web:t{i}", created, ana, wait=60 * (i + 1), close=600 * (i + 1), rating=rating))
        rows.append(ticket("telegram:t9", lima(12, 10).astimezone(UTC), beto, wait=30, close=900, rating=2, reason="safety",
                           channel="telegram"))
        rows.append(ticket("web:t10", lima(28, 10).astimezone(UTC), None, wait=None, close=None, rating=None, reason="unsure"))
        rows.append(ticket("web:t11", lima(2, 10, month=11).astimezone(UTC), ana, wait=10, close=100, rating=1))  # November
        conn.execute(insert(handoff_tickets), rows)


def ticket(sender, created, advisor, *, wait, close, rating, reason="asked", channel="web", **columns) -> dict:
    # one shape for every row: an insert of many rows takes the columns of the first
    columns = {"country": None, "article_id": None, "topic": None, "office_id": None, **columns}
    return {**columns, "sender_id": sender, "channel": channel, "status": "closed" if close else "waiting", "reason": reason,
            "priority": 1 if reason == "safety" else 0, "advisor_id": advisor, "tags": [], "created_at": created,
            "queued_at": created, "first_response_at": created + dt.timedelta(seconds=wait) if wait else None,
            "closed_at": created + dt.timedelta(seconds=close) if close else None, "closed_by": "advisor" if close else None,
            "rating": rating, "messages_since_compaction": 0}


@pytest.fixture(params=["sqlite", "postgresql"])
def month(request, tmp_path):
    """Our tables and a tracker store with the month of `october`, both on SQLite or both on PostgreSQL."""
    with migrated_engine(request.param, tmp_path) as engine:
        our_tables(engine)
        events = Events()
        october(events)
        events.write(engine)  # the same database holds Rasa's `events` table, as in a small deployment
        yield engine


def built(engine, month="2026-10"):
    return report_build.build(month, tracker_engine=engine, engine=engine, kb=KB, today=dt.date(2026, 11, 2),
                              now=dt.datetime(2026, 11, 2, 15, tzinfo=UTC))


def table(report, key):
    return next(t for t in report.tables if t.key == key)


def cells(report, key) -> dict[str, list[str]]:
    return {row[0]: row[1:] for row in table(report, key).shown_rows()}


def test_the_months_conversations_are_counted_by_channel_day_line_and_country(month):
    data = built(month).data
    assert data["total"] == 13 and data["messages"] == 19
    assert {k: v["conversations"] for k, v in data["by_channel"].items()} == {"web": 4, "whatsapp": 1, "telegram": 1, "rest": 7}
    assert data["by_channel"]["web"]["messages"] == 7
    days = {d: v["conversations"] for d, v in data["by_day"].items() if v["conversations"]}
    assert days == {"2026-10-03": 2, "2026-10-04": 1, "2026-10-10": 1, "2026-10-15": 6, "2026-10-20": 1, "2026-10-25": 1,
                    "2026-10-31": 1}
    assert len(data["by_day"]) == 31
    lines = {k: (v["conversations"], v["answers"]) for k, v in data["by_line"].items()}
    assert lines == {"emigrar": (1, 1), "info": (7, 7), "seguridad": (1, 1), "": (4, 0)}
    assert data["by_country"] == {"espana": {"conversations": 1, "messages": 3, "answers": 1}}  # not F's carried-over Chile
    assert data["articles"]["info/contacto"] == {"shown": 6, "conversations": 6}
    assert "info/contacto" not in [a for a, v in data["articles"].items() if v["shown"] != 6]


def test_how_conversations_ended_and_the_search_offers(month):
    data = built(month).data
    assert data["outcomes"] == {"answered": 8, "escalated": 3, "unresolved": 1, "browsed": 1}
    assert data["reasons"] == {"asked": 1, "unsure": 1, "safety": 1}
    assert data["offers"] == {"taken": 1, "refused": 1, "other": 0, "none_found": 1, "escalated": 1}


def test_content_gaps_are_scrubbed_and_grouped(month):
    groups = built(month).data["gaps"]
    assert sorted(g["count"] for g in groups) == [1, 2]
    beauty = next(g for g in groups if g["count"] == 2)
    assert "cosmetologa" in beauty["keywords"] and "titulo" in beauty["keywords"]
    vote = next(g for g in groups if g["count"] == 1)
    assert vote["examples"] == ["quiero saber si puedo votar desde afuera, mi correo es [correo eliminado]"]


def test_ratings_suggestions_handoff_and_review_dates(month):
    report = built(month)
    data = report.data
    assert data["ratings"] == {"info/contacto": {"yes": 4, "no": 2}, "emigrar/tramites/espana": {"yes": 1, "no": 0}}
    articles = cells(report, "articulos")
    assert articles["info/contacto"][1:] == ["6", "6", "6", "<5", "<5", "—", "—"]  # 67 % would give the hidden 4 away
    assert articles["emigrar/tramites/espana"][-2:] == ["—", "—"]  # one rating: no share shown
    assert data["suggestions"]["total"] == 6 and data["suggestions"]["by_kind"]["queja"] == 5
    assert cells(report, "voz-por-tipo")["Queja"] == ["5"] and cells(report, "voz-por-tipo")["Sugerencia"] == ["<5"]
    handoff = data["handoff"]
    assert (handoff["tickets"], handoff["closed"], handoff["open"], handoff["priority"], handoff["answered"]) == (7, 6, 1, 1, 6)
    assert handoff["by_reason"] == {"asked": 5, "safety": 1, "unsure": 1}
    assert handoff["wait_median"] == 150 and handoff["close_median"] == 1500
    assert handoff["ratings"] == 6 and handoff["rating_counts"] == {1: 0, 2: 1, 3: 1, 4: 1, 5: 3}
    ana = handoff["advisors"]["Ana"]
    assert (ana["tickets"], ana["wait_median"], ana["wait_p90"], ana["rating_mean"]) == (5, 180, 276, 4.4)
    advisors = cells(report, "asesores-por-asesor")
    assert advisors["Ana"] == ["5", "5", "3 min", "5 min", "30 min", "5", "4,4"]
    assert advisors["Beto"] == ["<5", "<5", "30 s", "30 s", "15 min", "<5", "—"]  # one rating: its mean is not shown
    assert data["stale"] == [a.id for a in KB.stale(dt.date(2026, 11, 2), 30)]


def test_every_door_of_the_service_in_one_table(month):
    rows = [ticket(f"correo:CO-2026-AAAA{i}", lima(7 + i, 9).astimezone(UTC), None, wait=7200, close=9000, rating=None,
                   channel="correo", country="italia", article_id="emigrar/tramites/italia", topic="Trámites para Italia",
                   office_id=1) for i in range(5)]  # e-mails answered after 2 hours, the article found for each
    rows.append(ticket("correo:CO-2026-BBBBB", lima(20, 9).astimezone(UTC), None, wait=None, close=None, rating=None,
                       channel="correo", topic="Pensión de jubilación en Japón, escribir a rosa@example.pe", office_id=1))
    visit = {"advisor_id": None, "line": "retorno", "country": "chile", "topics": ["bono de retorno"], "referred": False}
    visits = [{**visit, "reference": f"VE-2026-CCCC{i}", "created_at": lima(3 + i, 11).astimezone(UTC), "office": "Arequipa",
               "articles": ["retorno/ley-incentivos"]} for i in range(5)]
    visits.append({**visit, "reference": "VE-2026-DDDDD", "created_at": lima(9, 11).astimezone(UTC), "office": None,
                   "articles": [], "topics": ["apostilla de partidas"]})  # no article handed over: a gap
    with month.begin() as conn:
        conn.execute(insert(handoff_tickets), rows)
        conn.execute(insert(window_visits), visits)
    report = built(month)
    doors = report.data["doors"]
    assert doors["by_door"] == {"web": 4, "whatsapp": 1, "telegram": 1, "correo": 6, "ventanilla": 6}
    assert doors["by_line"]["retorno"]["ventanilla"] == 6 and doors["by_country"]["chile"]["ventanilla"] == 6
    assert cells(report, "puertas-por-oficina") == {"Arequipa": ["0", "0", "5"], "Sede central (Lima)": ["0", "6", "0"],
                                                    "Sin oficina asignada": ["7", "0", "<5"]}
    assert doors["by_line"]["emigrar"]["correo"] == 5 and doors["by_line"][""]["correo"] == 1
    assert doors["by_country"]["italia"]["correo"] == 5
    email = doors["answer_times"]["correo"]
    assert (email["tickets"], email["answered"], email["wait_median"]) == (6, 5, 7200)
    rows = cells(report, "puertas")
    assert rows["Correo electrónico"] == ["6", "5", "2 h 00 min", "2 h 00 min"]
    assert dict(report.highlights)["Consultas por correo"] == 6
    gaps = [example for g in report.data["gaps"] for example in g["examples"]]
    assert any("Japón" in example for example in gaps) and not any("rosa@example.pe" in example for example in gaps)
    assert any("apostilla" in example for example in gaps)
    assert dict(report.highlights)["Atenciones en ventanilla"] == 6


def test_small_counts_are_hidden_everywhere(month):
    report = built(month)
    assert cells(report, "conversaciones-por-canal")["Web (chat del portal)"] == ["<5", "7", "9"]
    assert cells(report, "conversaciones-por-canal")["REST (API)"][0] == "7"
    assert dict(report.highlights)["Conversaciones"] == 13
    for t in report.tables:
        for row in t.shown_rows(csv=True):
            assert not any(cell in {"1", "2", "3", "4"} for cell in row[1:] if t.key != "preguntas-sin-respuesta"), (t.key, row)


def test_the_html_is_complete_and_the_csv_files_match(month, tmp_path):
    report = built(month)
    written = output.write(report, tmp_path / "out")
    page = written[0].read_text(encoding="utf-8")
    assert written[0].name == "informe-2026-10.html" and page.startswith("<!doctype html>")
    checker = Checker()
    checker.feed(page)
    assert checker.stack == [] and checker.images == 6  # well nested, every chart embedded
    assert "http://" not in page and "https://" not in page and "<script" not in page  # nothing fetched, nothing run
    assert "octubre de 2026" in page and "ana.perez@example.org" not in page and "[correo eliminado]" in page
    assert len(style_hashes(page)) == 1
    assert [p.name for p in written[1:]][:2] == ["01-conversaciones-por-dia.csv", "02-conversaciones-por-canal.csv"]
    assert len(written) - 1 == len(report.tables)
    with (tmp_path / "out" / "02-conversaciones-por-canal.csv").open(encoding="utf-8-sig") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["Canal", "Conversaciones", "Mensajes de personas", "Mensajes del asistente"]
    assert ["REST (API)", "7", "8", "8"] in rows and ["WhatsApp", "<5", "<5", "<5"] in rows


def test_a_month_without_data_gives_an_empty_but_valid_report(month, tmp_path):
    report = built(month, "2026-06")
    assert report.data["total"] == 0 and report.data["gaps"] == [] and report.data["handoff"]["tickets"] == 0
    page = render(report)
    assert page.count("Sin datos este mes") >= 5
    checker = Checker()
    checker.feed(page)
    assert checker.stack == [] and checker.images == 6


def test_a_database_without_our_tables_and_without_events(tmp_path):
    empty = create_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    report = report_build.build("2026-10", tracker_engine=empty, engine=empty, kb=KB, today=dt.date(2026, 11, 2))
    assert report.data["total"] == 0 and report.data["handoff"] is None and report.data["suggestions"] is None
    assert "no tiene las tablas de derivación" in render(report)


def test_a_handoff_resumed_by_the_desk_stays_one_conversation():
    events, who, at = Events(), "web:resumed", lima(7, 9)
    events.session(who, at)
    events.user(who, at, "/linea_retorno", "linea_retorno", "web")
    events.act(who, at, "utter_linea_retorno", bots=["¿Vas a retornar al Perú?"])
    events.user(who, at, "/retorno_ley_incentivos", "retorno_ley_incentivos", "web")
    events.act(who, at, "action_answer_topic", bots=["Ley"], slots={"article_id": "retorno/ley-incentivos"})
    events.user(who, at, "quiero hablar con una persona", "pedir_asesor", "web")
    events.act(who, at, "action_handoff", bots=["Te paso con un asesor"], slots={"handoff": True}, pause=True)
    events.user(who, at, "hola, sigo aquí", "saludo", "web")
    events.add(who, at, {"event": "bot", "text": "Hola, soy Ana.", "metadata": {"advisor_id": 3}})
    # the desk closes: a new session through the HTTP API, the slots carried over, then the rating
    events.add(who, at, {"event": "session_started"})
    events.add(who, at, {"event": "slot", "name": "article_id", "value": "retorno/ley-incentivos"})
    events.add(who, at, {"event": "slot", "name": "handoff", "value": False})
    events.add(who, at, {"event": "action", "name": "action_listen"})
    events.add(who, at, {"event": "bot", "text": "¿Cómo calificas la atención?", "metadata": {"handoff_ticket": 1}})
    events.user(who, at, '/calificar{"rating":"5"}', "calificar", "web", rating="5")
    events.act(who, at, "action_handoff_rating", bots=["¡Gracias!"])
    events.session(who, lima(8, 9))  # the next day: a new conversation, only a greeting
    events.user(who, lima(8, 9), "hola", "saludo", "web")
    stored = [Event(r["sender_id"], r["type_name"], r["timestamp"], json.loads(r["data"])) for r in events.rows]
    first, second = conversations(stored, lima(1, 0), lima(31, 23))
    assert (first.outcome, first.reason, first.articles, first.person_messages, first.advisor_messages) == (
        "escalated", "asked", ["retorno/ley-incentivos"], 5, 1)
    assert first.line_intents == {"retorno"}
    assert (second.outcome, second.person_messages) == ("browsed", 1)


def test_cells_and_durations():
    assert [show(v) for v in (0, 3, 5, 12345)] == ["0", "<5", "5", "12\u202f345"]
    assert show(12345, csv=True) == "12345"
    assert [show(Share(1, 4)), show(Share(2, 5)), show(Share(6, 8)), show(Share(0, 8))] == ["—", "—", "75 %", "0 %"]
    assert [show(Mean(4.44, 5)), show(Mean(5.0, 4))] == ["4,4", "—"]
    assert [show(Duration(s)) for s in (None, 42, 150, 3 * 3600 + 300, 5 * 86400)] == ["—", "42 s", "2 min", "3 h 05 min", "5,0 días"]


def test_gaps_group_similar_wordings_and_scrub_before_comparing():
    groups = gaps.group(["¿Cómo convalido mi título de enfermera?", "convalidar titulos de enfermeras", "DNI 12345678 votar afuera",
                         "puedo votar desde afuera? mi cel +34 612 345 678"])
    assert [g.count for g in groups] == [2, 2]
    assert all("12345678" not in e and "612" not in e for g in groups for e in g.examples)


def test_the_tracker_store_comes_from_the_endpoints_file(tmp_path, monkeypatch):
    production = tmp_path / "endpoints.yml"
    production.write_text('tracker_store:\n  type: SQL\n  dialect: "postgresql"\n  url: "${POSTGRES_HOST}"\n  port: "${POSTGRES_PORT}"\n'
                          '  db: "${POSTGRES_DB}"\n  username: "${POSTGRES_USER}"\n  password: "${POSTGRES_PASSWORD}"\n')
    for name, value in {"POSTGRES_HOST": "db", "POSTGRES_PORT": "5433", "POSTGRES_DB": "rasa", "POSTGRES_USER": "rasa",
                        "POSTGRES_PASSWORD": "s3cr3t"}.items():
        monkeypatch.setenv(name, value)
    assert url_from_endpoints(production) == "postgresql://rasa:s3cr3t@db:5433/rasa"
    assert url_from_endpoints().endswith("/var/rasa_tracker.db") and url_from_endpoints().startswith("sqlite:///")


def test_the_command_line(month, tmp_path, capsys):
    out = tmp_path / "informe"
    url = month.url.render_as_string(hide_password=False)
    assert main(["report", "--month", "2026-10", "--out", str(out), "--tracker-url", url, "--database-url", url,
                 "--today", "2026-11-02"]) == 0
    assert (out / "informe-2026-10.html").exists() and len(list(out.glob("*.csv"))) == 23
    assert "informe-2026-10.html" in capsys.readouterr().out
    missing = main(["report", "--month", "2026-10", "--out", str(out), "--tracker-url", f"sqlite:///{tmp_path / 'none.db'}",
                    "--database-url", url])
    assert missing == 1 and "does not exist" in capsys.readouterr().err
    with pytest.raises(SystemExit) as bad:
        main(["report", "--month", "2026-13"])
    assert bad.value.code == 2 and "month must be YYYY-MM" in capsys.readouterr().err


def test_the_tracker_store_on_postgresql_is_only_read(tmp_path):
    """A PostgreSQL tracker store apart from our tables (as in production), read through --tracker-url."""
    ensure_postgres()
    name = f"infomigra_tracker_{uuid.uuid4().hex[:8]}"
    admin = create_engine(database_url(ADMIN_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        from sqlalchemy.engine import make_url

        tracker_url = make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
        tracker = create_engine(database_url(tracker_url))
        events = Events()
        october(events)
        events.write(tracker)
        with migrated_engine("sqlite", tmp_path) as engine:
            report = report_build.build("2026-10", tracker_engine=tracker, engine=engine, kb=KB, today=dt.date(2026, 11, 2))
        assert report.data["total"] == 13 and report.data["outcomes"]["answered"] == 8
        tracker.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


class Checker(html.parser.HTMLParser):
    """Checks that every element is closed in order; counts the embedded images."""

    VOID = {"meta", "img", "br", "input", "link", "hr"}

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.images = 0

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            src = dict(attrs)["src"]
            assert src.startswith("data:image/png;base64,") and len(src) > 1000
            self.images += 1
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, (tag, self.stack[-5:])
        self.stack.pop()
