"""The monthly report from a month of conversations driven through the real assistant (REST channel, real
Rasa and action servers): answers rated with the "¿Te sirvió?" buttons, knowledge-search offers taken
and refused, suggestions through the form, handoffs taken, answered and closed by advisors through the
handoff service (Rasa's HTTP API), and their ratings. Each conversation is then moved to a day of last
month (its events and its rows in our tables, by the same amount), the report is built with the real
command, and every figure is checked against what was driven; the HTML is opened in Chromium (file and
desk), and the same report is built again from PostgreSQL (the events and our tables loaded there).
"""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import json
import secrets
import sqlite3
import subprocess
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright
from sqlalchemy import DateTime, create_engine, insert, select, text, update
from sqlalchemy.engine import make_url

from bot.desk.accounts import Accounts
from bot.feedback.offer import TITLES
from bot.feedback.schema import answer_ratings
from bot.handoff.rasa_api import RasaApi
from bot.handoff.schema import handoff_tickets
from bot.handoff.service import HandoffService
from bot.handoff.settings import HandoffSettings
from bot.handoff.store import HandoffStore
from bot.knowledge import load
from bot.report import gaps
from bot.report.build import build
from bot.report.tracker import events as events_table
from bot.report.tracker import open_store
from bot.store import clock
from bot.store.db import database_url, get_engine
from bot.suggestions import dates
from bot.suggestions.schema import suggestions
from tests.databases import ADMIN_URL, ensure_postgres, migrated_engine
from tests.e2e.test_desk_login import CHROMIUM_ARGS, PASSWORD, SCREENSHOTS, browser_login, running_desk
from tests.stack import ROOT

pytestmark = pytest.mark.e2e

KB = load()
INFOMIGRA = str(ROOT / ".venv-svc" / "bin" / "infomigra")
YES, NO = TITLES["si"], TITLES["no"]
TAG = secrets.token_hex(3)
ADVISORS = {"Ana": f"ana.{TAG}@example.org", "Beto": f"beto.{TAG}@example.org"}
SUPERVISOR_EMAIL = f"julia.{TAG}@example.org"
SUPERVISOR = {SUPERVISOR_EMAIL: ("Julia Supervisora", ["supervisor"])}
SPAIN = '/emigrar_tramites{"country":"espana"}'
SPAIN_TYPED = "q papeles necesito pa trabajar en españa"
# The month's unsure questions. Being unsure is the trained model's call (the FallbackClassifier's
# nlu_fallback), which a retraining may move, so each is chosen from a few wordings of the same case: the
# first that the running model is unsure of (Rasa's /model/parse) and that the knowledge search treats as
# the month expects. The report is under test here, not which wordings one model is unsure of.
TITLE_GAPS = [  # two wordings of one missing topic, grouped as one gap; in Chile, then in Argentina (refused offers)
    ("convalidar titulo de ingeniero en chile", "convalidar mi titulo de ingeniero en argentina"),
    ("revalidar mi diploma de enfermera en chile", "revalidar el diploma de enfermera en argentina"),
    ("reconocimiento de titulo de contador en chile", "reconocimiento de mi titulo de contador en argentina"),
]
LANGUAGE_QUESTIONS = [  # the offer lists an article of line 1 (emigrar/), which the person takes
    "sera bueno estudiar un idioma antes de irme",
    "conviene aprender otro idioma antes de viajar a trabajar",
    "vale la pena un curso de idiomas antes de salir a trabajar afuera",
]
# Two unsure questions in a row, in Japan: the first gets the search's offer (it finds articles for it) and
# the person writes the second instead of choosing ("other"); the second, unsure again, goes to an advisor.
VOTE_GAPS = [
    ("homologar mi titulo de medico en japon", "me toca multa electoral si vivo en tokio"),
    ("revalidar mi diploma de medico en japon", "tengo que pagar multa por no votar viviendo en osaka"),
]


@dataclass(frozen=True)
class Unsure:
    """The wordings this month uses for its unsure questions."""

    title_gap: tuple[str, str]
    language: str
    vote_gap: tuple[str, str]


def search_fits() -> dict[str, list]:
    """The wordings the knowledge search treats as the month expects (no model needed)."""
    return {
        "title_gap": [pair for pair in TITLE_GAPS if all(KB.search(q, limit=3) for q in pair) and len(gaps.group(pair)) == 1],
        "language": [q for q in LANGUAGE_QUESTIONS if any(h.article_id.startswith("emigrar/") for h in KB.search(q, limit=3))],
        "vote_gap": [pair for pair in VOTE_GAPS if KB.search(pair[0], limit=3)],
    }


def choose_unsure(stack) -> Unsure:
    """For each case, the first wording that fits the search and that the running model is unsure of."""
    parsed: dict[str, str] = {}

    def unsure(question: str) -> bool:
        parsed[question] = stack.parse(question)["intent"]["name"]
        return parsed[question] == "nlu_fallback"

    chosen = {}
    for case, candidates in search_fits().items():
        chosen[case] = next((c for c in candidates if all(unsure(q) for q in (c if isinstance(c, tuple) else [c]))), None)
        assert chosen[case] is not None, f"no wording of {case} is an unsure question for this model ({parsed}): add one"
    return Unsure(**chosen)


FORM = ["quiero dejar una sugerencia", "queja", "España", SPAIN_TYPED, "Madrid", "Consulados y atención",
        "En el consulado nadie contesta el teléfono y las citas se acaban en minutos.", "no", "sí acepto", "enviar"]
FORM_ITALY = ["quiero dejar una sugerencia", "sugerencia", "Italia", "Milán", "Trabajo en el extranjero",
              "Sería bueno tener una guía de cómo validar títulos en Italia.", "no", "sí acepto", "enviar"]


@dataclass(frozen=True)
class Tap:
    """Tap a button the assistant offered: by title in the last answer (or in any answer so far)."""

    title: str | None = None
    prefix: str | None = None
    earlier: bool = False


@dataclass(frozen=True)
class Advisor:
    """An advisor takes the ticket, answers and closes it; then the person rates (1–5) or not."""

    name: str
    rating: int | None


@dataclass
class Spec:
    steps: list
    outcome: str
    reason: str | None = None
    articles: list[str] = field(default_factory=list)
    ratings: dict[str, str] = field(default_factory=dict)  # article → final "si"/"no"
    offers: list[str] = field(default_factory=list)
    gaps: list[str] = field(default_factory=list)
    countries: set[str] = field(default_factory=set)
    suggestion: str | None = None
    advisor: Advisor | None = None
    ticket: str | None = None  # the ticket's reason
    sender: str = ""
    day: int = 0  # of the month; 0: spread by position
    messages: int = 0
    no_rating_offered: bool = False  # the answers of this conversation must not ask "¿Te sirvió?"


def month_specs(unsure: Unsure) -> list[Spec]:
    specs = []
    for steps in ([SPAIN_TYPED, Tap(YES)], [SPAIN, Tap(YES)], [SPAIN_TYPED, Tap(YES)], [SPAIN, Tap(YES)],
                  ["hola", SPAIN_TYPED, Tap(YES), "gracias"]):
        specs.append(Spec(steps, "answered", articles=["emigrar/tramites/espana"], ratings={"emigrar/tramites/espana": "si"},
                          countries={"espana"}, day=8))
    specs.append(Spec([SPAIN, Tap(NO), Tap("Hablar con un asesor")], "escalated", "asked", ["emigrar/tramites/espana"],
                      {"emigrar/tramites/espana": "no"}, countries={"espana"}, advisor=Advisor("Ana", 4), ticket="asked"))
    for _ in range(5):
        specs.append(Spec(["/retorno_ley_incentivos"], "answered", articles=["retorno/ley-incentivos"], day=15))
    # tapped "sí", then (an older button) "no": one rating, changed; the same article again is not asked again
    specs.append(Spec(["/info_contacto", Tap(YES), Tap(NO, earlier=True), "/info_contacto"], "answered",
                      articles=["info/contacto", "info/contacto"], ratings={"info/contacto": "no"}))
    specs.append(Spec(["quiero hablar con una persona"], "escalated", "asked", advisor=Advisor("Ana", 5), ticket="asked"))
    specs.append(Spec(["quiero hablar con una persona"], "escalated", "asked", advisor=Advisor("Beto", None), ticket="asked"))
    specs.append(Spec(["me quitaron el pasaporte y no me dejan salir de la casa"], "escalated", "safety",
                      ["seguridad/trata-y-fraude"], advisor=Advisor("Ana", 5), ticket="safety", no_rating_offered=True))
    for question, country in zip(unsure.title_gap, ("chile", "argentina"), strict=True):
        specs.append(Spec([question, Tap("Ninguna de estas")], "unresolved", offers=["refused"], gaps=[question],
                          countries={country}))
    specs.append(Spec([unsure.language, Tap(prefix='/elegir_articulo{"article":"emigrar/')], "answered",
                      articles=["<taken>"], offers=["taken"]))
    specs.append(Spec(list(unsure.vote_gap), "escalated", "unsure", offers=["other", "escalated"], gaps=list(unsure.vote_gap),
                      countries={"japon"},
                      ticket="unsure"))
    specs.append(Spec(FORM, "answered", articles=["emigrar/tramites/espana"], countries={"espana"}, suggestion="queja",
                      no_rating_offered=True))
    specs.append(Spec(FORM_ITALY, "answered", countries={"italia"}, suggestion="sugerencia"))
    specs.append(Spec(["hola"], "browsed"))
    specs.append(Spec(["hola", "/menu"], "browsed"))
    for n, spec in enumerate(specs):
        spec.sender = f"rep-{TAG}-{n:02d}"
        spec.day = spec.day or 1 + (n * 5) % 27  # busy days (8th, 15th) and the rest spread over the month
    return specs


MORE = Tap("Ver más")


def offered(replies: list[dict], tap: Tap) -> dict | None:
    """The button of these replies that `tap` means, if any."""
    buttons = [b for r in replies for b in r.get("buttons", [])]
    return next((b for b in buttons if (tap.title and b["title"] == tap.title)
                 or (tap.prefix and b["payload"].startswith(tap.prefix) and b["title"] != MORE.title)), None)


def rating_buttons(replies: list[dict]) -> list[dict]:
    return [b for r in replies for b in r.get("buttons", []) if b["payload"].startswith("/valorar_respuesta")]


def drive(stack, spec: Spec, store: HandoffStore, advisor_ids: dict[str, int]) -> None:
    seen: list[dict] = []
    last: list[dict] = []
    for step in spec.steps:
        if isinstance(step, Tap):
            chosen = offered(seen if step.earlier else last, step)
            while chosen is None and not step.earlier and offered(last, MORE):  # read the answer to its end first
                last = stack.say(spec.sender, offered(last, MORE)["payload"])
                seen += last
                spec.messages += 1
                chosen = offered(last, step)
            buttons = [b for r in (seen if step.earlier else last) for b in r.get("buttons", [])]
            assert chosen is not None, f"{spec.sender}: no button {step} in {[b['title'] for b in buttons]}"
            message = chosen["payload"]
            if message.startswith("/elegir_articulo"):
                spec.articles = [json.loads(message[len("/elegir_articulo"):])["article"]]
        else:
            message = step
        last = stack.say(spec.sender, message)
        seen += last
        spec.messages += 1
        if message == "/info_contacto" and spec.ratings.get("info/contacto") and spec.messages == 4:
            assert rating_buttons(last) == [], "the same article is asked about once per conversation"
    if spec.no_rating_offered:
        assert rating_buttons(seen) == [], f"{spec.sender}: no '¿Te sirvió?' during a form or after a safety answer"
    elif spec.articles and spec.outcome == "answered":
        # '¿Te sirvió?' comes with the answer's last part: here, or after the "Ver más" left untapped
        assert rating_buttons(seen) or offered(last, MORE), f"{spec.sender}: an answer asks '¿Te sirvió?'"
    if spec.advisor:
        ticket = store.open_for(spec.sender)
        assert ticket is not None, f"{spec.sender}: no ticket"
        advisor_id = advisor_ids[spec.advisor.name]

        async def attend() -> None:  # what the desk does, through the handoff service and Rasa's HTTP API
            api = RasaApi(stack.rasa_url, stack.jwt_secret)
            service = HandoffService(store, api, HandoffSettings.from_env({}))
            try:
                await service.take(ticket.id, advisor_id, spec.advisor.name)
                await service.reply(ticket.id, advisor_id, spec.advisor.name, "Hola, te ayudo con eso. ¿En qué país estás?")
                await service.close(ticket.id, advisor_id)
            finally:
                await api.close()

        asyncio.run(attend())
        assert stack.tracker(spec.sender)["slots"]["handoff"] is False  # the assistant is back
        if spec.advisor.rating:
            stack.say(spec.sender, f'/calificar{{"rating":"{spec.advisor.rating}"}}')
            spec.messages += 1


def shift(tracker_db: Path, engine, sender: str, seconds: float) -> None:
    """Move a conversation in time: its events and its rows in our tables, by the same amount."""
    with sqlite3.connect(tracker_db) as conn:
        for row_id, stamp, data in conn.execute("SELECT id, timestamp, data FROM events WHERE sender_id = ?", (sender,)).fetchall():
            event = json.loads(data)
            event["timestamp"] = event.get("timestamp", stamp) + seconds
            conn.execute("UPDATE events SET timestamp = ?, data = ? WHERE id = ?", (stamp + seconds, json.dumps(event), row_id))
    delta = dt.timedelta(seconds=seconds)
    with engine.begin() as conn:
        for table in (answer_ratings, suggestions, handoff_tickets):
            columns = [c.name for c in table.c if isinstance(c.type, DateTime)]
            for row in conn.execute(select(table).where(table.c.sender_id == sender)).mappings().all():
                values = {c: clock.aware(row[c]) + delta for c in columns if row[c] is not None}
                conn.execute(update(table).where(table.c.id == row["id"]).values(**values))


@pytest.fixture(scope="module")
def month(stack, tmp_path_factory):
    """Drive the month's conversations, move them into last month, and build the report with the command."""
    engine = get_engine(stack.database_url)
    accounts = Accounts(engine)
    advisor_ids = {name: accounts.create(email, f"{name} Asesor", PASSWORD, ["advisor"]).id for name, email in ADVISORS.items()}
    store = HandoffStore(engine)
    unsure = choose_unsure(stack)
    specs = month_specs(unsure)
    outside = Spec(["/info_contacto"], "answered", articles=["info/contacto"], sender=f"rep-{TAG}-before")
    for spec in [*specs, outside]:
        drive(stack, spec, store, advisor_ids)
    first = dates.add_months(clock.now().astimezone(dates.LIMA).date().replace(day=1), -1)
    tracker_db = stack.log_dir / "tracker.db"
    for n, spec in enumerate([*specs, outside]):
        start = sqlite3.connect(tracker_db).execute("SELECT MIN(timestamp) FROM events WHERE sender_id = ? AND type_name = 'user'",
                                                    (spec.sender,)).fetchone()[0]
        day = first.replace(day=spec.day) if spec is not outside else first - dt.timedelta(days=1)  # the day before: excluded
        target = dt.datetime.combine(day, dt.time(9, n), dates.LIMA)
        shift(tracker_db, engine, spec.sender, target.timestamp() - start)
    name = f"{first:%Y-%m}"
    out = tmp_path_factory.mktemp("report") / name
    today = clock.now().astimezone(dates.LIMA).date()
    done = subprocess.run([INFOMIGRA, "report", "--month", name, "--out", str(out), "--tracker-url", f"sqlite:///{tracker_db}",
                           "--database-url", stack.database_url, "--today", today.isoformat()],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    report = build(name, tracker_engine=open_store(f"sqlite:///{tracker_db}"), engine=engine, today=today)
    return {"specs": specs, "unsure": unsure, "name": name, "out": out, "report": report, "tracker_db": tracker_db, "engine": engine,
            "today": today}


def read_csv(folder: Path, key: str) -> list[list[str]]:
    path = next(folder.glob(f"[0-9][0-9]-{key}.csv"))
    with path.open(encoding="utf-8-sig") as f:
        return list(csv.reader(f))


def shown(n: int) -> str:
    return "<5" if 0 < n < 5 else str(n)


def test_the_report_counts_what_was_driven(month):
    specs, data = month["specs"], month["report"].data
    assert data["total"] == len(specs) == 23
    assert data["messages"] == sum(s.messages for s in specs)
    assert {k: v["conversations"] for k, v in data["by_channel"].items()} == {"rest": 23}
    days = Counter(s.day for s in specs)
    assert {d[-2:]: v["conversations"] for d, v in data["by_day"].items() if v["conversations"]} == {f"{d:02d}": n for d, n in days.items()}
    lines = Counter(line for s in specs for line in {KB.get(a).line for a in s.articles})
    assert {k: v["conversations"] for k, v in data["by_line"].items() if k} == dict(lines)
    assert data["by_line"][""]["conversations"] == sum(1 for s in specs if not s.articles)
    countries = Counter(c for s in specs for c in s.countries)
    assert {k: v["conversations"] for k, v in data["by_country"].items()} == dict(countries)
    shown_articles = Counter(a for s in specs for a in s.articles)
    assert {a: v["shown"] for a, v in data["articles"].items()} == dict(shown_articles)
    assert data["outcomes"] == {o: sum(1 for s in specs if s.outcome == o) for o in ("answered", "escalated", "unresolved", "browsed")}
    assert data["reasons"] == {r: sum(1 for s in specs if s.reason == r) for r in ("asked", "unsure", "safety")}
    offers = Counter(o for s in specs for o in s.offers)
    assert data["offers"] == {o: offers[o] for o in ("taken", "refused", "other", "none_found", "escalated")}


def test_every_wording_of_the_unsure_questions_fits_the_search():
    """The month's unsure questions lean on the knowledge search (an offer needs a hit, the language question
    an article of line 1, the title gap one group): an article edit that changes that shows here, by name,
    before it shows as a count in the report."""
    fits = search_fits()
    for case, candidates in {"title_gap": TITLE_GAPS, "language": LANGUAGE_QUESTIONS, "vote_gap": VOTE_GAPS}.items():
        misfits = [c for c in candidates if c not in fits[case]]
        assert not misfits, f"{case}: the search no longer fits {misfits}: choose other wordings"


def test_ratings_gaps_suggestions_and_handoffs_match(month):
    specs, data, unsure = month["specs"], month["report"].data, month["unsure"]
    expected: dict[str, Counter] = {}
    for spec in specs:
        for article, value in spec.ratings.items():
            expected.setdefault(article, Counter())[value] += 1
    assert data["ratings"] == {a: {"yes": c["si"], "no": c["no"]} for a, c in expected.items()}
    assert data["ratings"]["emigrar/tramites/espana"] == {"yes": 5, "no": 1}
    groups = {tuple(sorted(g["examples"])): g["count"] for g in data["gaps"]}
    assert groups[tuple(sorted(unsure.title_gap))] == 2  # the two wordings of one missing topic, grouped
    assert sum(groups.values()) == sum(len(s.gaps) for s in specs) == 4
    kinds = Counter(s.suggestion for s in specs if s.suggestion)
    assert data["suggestions"]["total"] == 2 and {k: v for k, v in data["suggestions"]["by_kind"].items() if v} == dict(kinds)
    handoff = data["handoff"]
    assert handoff["tickets"] == sum(1 for s in specs if s.ticket) == 5
    assert handoff["by_reason"] == dict(Counter(s.ticket for s in specs if s.ticket))
    assert (handoff["closed"], handoff["open"], handoff["answered"], handoff["priority"]) == (4, 1, 4, 1)
    assert handoff["ratings"] == 3 and handoff["rating_counts"] == {1: 0, 2: 0, 3: 0, 4: 1, 5: 2}
    assert handoff["wait_median"] is not None and 0 <= handoff["wait_median"] < 120
    assert handoff["close_median"] is not None and handoff["close_median"] >= handoff["wait_median"]
    assert {name.split()[0]: a["tickets"] for name, a in handoff["advisors"].items()} == {"Ana": 3, "Beto": 1}


def test_the_written_tables_show_the_same_numbers_with_small_cells_hidden(month):
    out, specs = month["out"], month["specs"]
    assert (out / f"informe-{month['name']}.html").exists()
    assert read_csv(out, "conversaciones-por-canal")[1] == ["REST (API)", "23", str(sum(s.messages for s in specs)),
                                                           read_csv(out, "conversaciones-por-canal")[1][3]]
    outcomes = {row[0]: row[1] for row in read_csv(out, "cierre")[1:]}
    assert outcomes == {"Respondida por el asistente": "14", "Derivada a un asesor": "5", "Sin resolver": "<5",
                        "Solo saludo o menú": "<5"}
    articles = {row[0]: row[2:] for row in read_csv(out, "articulos")[1:]}
    assert articles["emigrar/tramites/espana"] == ["7", "7", "6", "5", "<5", "83 %", "83 %"]
    assert articles["retorno/ley-incentivos"][:3] == ["5", "5", "0"]
    by_kind = {row[0]: row[1] for row in read_csv(out, "voz-por-tipo")[1:]}
    assert by_kind == {"Sugerencia": "<5", "Inquietud": "0", "Queja": "<5", "Reconocimiento": "0", "Total": "<5"}
    summary = {row[0]: row[1] for row in read_csv(out, "asesores-resumen")[1:]}
    assert summary["Tickets"] == "5" and summary["Calificaciones recibidas"] == "<5"
    assert summary["Calificación promedio (1 a 5)"] == "—"  # three ratings: no average shown
    gaps = read_csv(out, "preguntas-sin-respuesta")
    assert all("@" not in cell for row in gaps for cell in row)
    assert any("convalidar titulo de ingeniero en chile" in row[3] for row in gaps[1:])


def test_the_report_reads_well_in_chromium_and_in_the_desk(month, tmp_path):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page_file = month["out"] / f"informe-{month['name']}.html"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1200, "height": 900}, locale="es-PE")
            page = context.new_page()
            requests: list[str] = []
            page.on("request", lambda request: requests.append(request.url))
            page.goto(page_file.as_uri())
            expect(page.get_by_role("heading", level=1)).to_contain_text("Informe mensual del asistente virtual")
            assert page.locator("img[src^='data:image/png;base64,']").count() == 6
            assert page.evaluate("[...document.images].every(i => i.complete && i.naturalWidth > 0)")
            assert [u for u in requests if not u.startswith(("file:", "data:"))] == []  # self-contained
            assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth + 1")
            page.screenshot(path=str(SCREENSHOTS / "report.png"), full_page=True)
            page.emulate_media(media="print")
            pdf = page.pdf(format="A4", print_background=True)
            assert pdf.startswith(b"%PDF") and len(pdf) > 50_000  # printable: Chromium lays it out on A4 pages
            page.screenshot(path=str(SCREENSHOTS / "report-print.png"))
            context.close()

            desk_env = {"DATABASE_URL": month["engine"].url.render_as_string(hide_password=False),
                        "TRACKER_DATABASE_URL": f"sqlite:///{month['tracker_db']}", "REPORTS_DIR": str(tmp_path / "reports")}
            with running_desk(tmp_path / "desk", SUPERVISOR, extra_env=desk_env) as desk:
                context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="es-PE")
                page = context.new_page()
                problems: list[str] = []
                page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
                page.goto(f"{desk.url}/informes")
                browser_login(page, desk, SUPERVISOR_EMAIL)
                expect(page.get_by_role("heading", name="Informes mensuales")).to_be_visible()
                row = page.locator(f"#m-{month['name']}")
                expect(row).to_contain_text("Sin generar")
                row.get_by_role("button", name="Generar").click()
                expect(row).to_contain_text("recién generado", timeout=60_000)
                page.screenshot(path=str(SCREENSHOTS / "report-desk.png"), full_page=True)
                row.get_by_role("link", name="Ver").click()
                expect(page.get_by_role("heading", level=1)).to_contain_text("Informe mensual del asistente virtual")
                # the report's own styles apply under the desk's strict policy (no inline-style refusal)
                assert page.evaluate("getComputedStyle(document.querySelector('header.cover')).borderBottomStyle") == "solid"
                assert not problems, problems
                cells = page.locator("#t-cierre tbody tr").first.locator("td")
                expect(cells.nth(1)).to_have_text("14")
                context.close()
        finally:
            browser.close()


def test_the_same_report_from_postgresql(month, tmp_path):
    """The tracker store's events and our tables loaded into PostgreSQL give the same tables."""
    ensure_postgres()
    admin = create_engine(database_url(ADMIN_URL), isolation_level="AUTOCOMMIT")
    tracker_name = f"infomigra_rasa_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{tracker_name}"'))
    try:
        tracker_url = make_url(ADMIN_URL).set(database=tracker_name).render_as_string(hide_password=False)
        tracker = create_engine(database_url(tracker_url))
        events_table.metadata.create_all(tracker)
        with sqlite3.connect(month["tracker_db"]) as source:
            rows = [dict(zip(("id", "sender_id", "type_name", "timestamp", "intent_name", "action_name", "data"), r, strict=True))
                    for r in source.execute("SELECT id, sender_id, type_name, timestamp, intent_name, action_name, data FROM events")]
        with tracker.begin() as conn:
            conn.execute(insert(events_table), rows)
        tracker.dispose()
        with migrated_engine("postgresql", tmp_path) as ours:
            from bot.store.schema import metadata

            with month["engine"].connect() as source, ours.begin() as target:
                for name in ("desk_users", "suggestions", "answer_ratings", "handoff_tickets"):
                    table = metadata.tables[name]
                    copied = [{k: clock.aware(v) if isinstance(v, dt.datetime) else v for k, v in r.items()}
                              for r in source.execute(select(table)).mappings()]
                    if copied:
                        target.execute(insert(table), copied)
            ours_url = ours.url.render_as_string(hide_password=False)
            out = tmp_path / "pg"
            done = subprocess.run([INFOMIGRA, "report", "--month", month["name"], "--out", str(out), "--tracker-url", tracker_url,
                                   "--database-url", ours_url, "--today", month["today"].isoformat()],
                                  cwd=ROOT, capture_output=True, text=True, timeout=300)
            assert done.returncode == 0, done.stderr
        sqlite_tables = sorted(p.name for p in month["out"].glob("*.csv"))
        assert sorted(p.name for p in out.glob("*.csv")) == sqlite_tables and len(sqlite_tables) == 23
        for name in sqlite_tables:
            assert (out / name).read_text(encoding="utf-8-sig") == (month["out"] / name).read_text(encoding="utf-8-sig"), name
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{tracker_name}" WITH (FORCE)'))
        admin.dispose()
