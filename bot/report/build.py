"""Build the monthly report from Rasa's events and our tables.

`build(month, tracker_engine=…, engine=…)` reads the month's conversations (bot.report.tracker,
bot.report.conversations), the answer ratings (bot.feedback), the suggestions
(bot.suggestions.export.monthly_counts), the handoff tickets (bot.report.handoff) and the articles
due for review (bot.knowledge), and returns a Report: highlights, sections with charts and tables,
and the raw numbers in `data` (never written out). A month without data gives an empty but
complete report.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.engine import Engine

from bot import knowledge
from bot.feedback import store as ratings
from bot.knowledge.base import KnowledgeBase
from bot.knowledge.model import LINES
from bot.report import charts, doors, gaps, labels
from bot.report import handoff as handoff_figures
from bot.report.conversations import OFFER_OUTCOMES, OUTCOMES, REASONS, Conversation, conversations
from bot.report.model import Duration, Figure, Mean, Report, Section, Share, Table
from bot.report.tracker import read_events
from bot.store import clock
from bot.suggestions import dates

MONTHS = ("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre", "noviembre",
          "diciembre")
STALE_DAYS = 30
TOP_ARTICLES = 25
TOP_GAPS = 30
MARGIN = 86_400.0  # seconds of events read on each side of the month (conversations crossing its edges)


def month_name(month: dt.date) -> str:
    return f"{MONTHS[month.month - 1]} de {month.year}"


def _line_of(kb: KnowledgeBase, article_id: str) -> str:
    article = kb.get(article_id)
    return article.line if article else article_id.split("/", 1)[0]


def _country_of(kb: KnowledgeBase, article_id: str) -> str | None:
    article = kb.get(article_id)
    return article.country if article else None


def _title(kb: KnowledgeBase, article_id: str) -> str:
    article = kb.get(article_id)
    return article.title if article else "(artículo retirado)"


class Tally:
    """Conversations, person messages and answers per key."""

    def __init__(self) -> None:
        self.conversations: Counter[str] = Counter()
        self.messages: Counter[str] = Counter()
        self.answers: Counter[str] = Counter()

    def add(self, key: str, conversation: Conversation, answers: int = 0) -> None:
        self.conversations[key] += 1
        self.messages[key] += conversation.person_messages
        self.answers[key] += answers

    def as_dict(self) -> dict[str, dict[str, int]]:
        keys = set(self.conversations) | set(self.answers)
        return {k: {"conversations": self.conversations[k], "messages": self.messages[k], "answers": self.answers[k]}
                for k in keys}


def _days(month: dt.date) -> list[dt.date]:
    first = month
    following = dates.add_months(first, 1)
    return [first + dt.timedelta(days=i) for i in range((following - first).days)]


def _conversation_figures(items: Iterable[Conversation], kb: KnowledgeBase, month: dt.date) -> dict[str, Any]:
    channels, lines, countries_, days = Tally(), Tally(), Tally(), Tally()
    line_by_channel: dict[str, Counter[str]] = {}
    country_by_channel: dict[str, Counter[str]] = {}
    assistant_by_channel: Counter[str] = Counter()
    shown: Counter[str] = Counter()
    in_conversations: Counter[str] = Counter()
    outcomes: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    offers: Counter[str] = Counter()
    questions: list[str] = []
    total = messages = assistant = advisor = 0
    for conversation in items:
        total += 1
        messages += conversation.person_messages
        assistant += conversation.assistant_messages
        advisor += conversation.advisor_messages
        channels.add(conversation.channel, conversation)
        assistant_by_channel[conversation.channel] += conversation.assistant_messages
        day = conversation.started.astimezone(dates.LIMA).date()
        days.add(day.isoformat(), conversation)
        per_line = Counter(_line_of(kb, a) for a in conversation.articles)
        for line in set(per_line) | conversation.line_intents:
            lines.add(line, conversation, per_line.get(line, 0))
        if not per_line and not conversation.line_intents:
            lines.add("", conversation)
        line_by_channel.setdefault(conversation.channel, Counter()).update((set(per_line) | conversation.line_intents) or {""})
        per_country = Counter(c for c in (_country_of(kb, a) for a in conversation.articles) if c)
        for country in set(per_country) | conversation.countries:
            countries_.add(country, conversation, per_country.get(country, 0))
        country_by_channel.setdefault(conversation.channel, Counter()).update(set(per_country) | conversation.countries)
        shown.update(conversation.articles)
        in_conversations.update(set(conversation.articles))
        outcomes[conversation.outcome] += 1
        if conversation.reason:
            reasons[conversation.reason] += 1
        offers.update(conversation.offers)
        questions.extend(conversation.gaps)
    per_day = days.as_dict()
    empty = {"conversations": 0, "messages": 0, "answers": 0}
    return {
        "total": total, "messages": messages, "assistant_messages": assistant, "advisor_messages": advisor,
        "by_channel": channels.as_dict(), "assistant_by_channel": dict(assistant_by_channel),
        "by_day": {d.isoformat(): per_day.get(d.isoformat(), empty) for d in _days(month)},
        "by_line": lines.as_dict(), "by_country": countries_.as_dict(),
        "line_by_channel": {k: dict(v) for k, v in line_by_channel.items()},
        "country_by_channel": {k: dict(v) for k, v in country_by_channel.items()},
        "articles": {a: {"shown": shown[a], "conversations": in_conversations[a]} for a in shown},
        "outcomes": {o: outcomes[o] for o in OUTCOMES}, "reasons": {r: reasons[r] for r in REASONS},
        "offers": {o: offers[o] for o in OFFER_OUTCOMES}, "questions": questions,
    }


# --- sections --------------------------------------------------------------------------------------------------------
def _conversations_section(c: dict[str, Any]) -> Section:
    section = Section("conversaciones", "Conversaciones y mensajes",
                      "Una conversación es una sesión de una persona en un canal (termina tras una hora sin mensajes); "
                      "se cuenta en el día de su primer mensaje (hora del Perú). Mensajes: los que escribieron las personas.")
    days = list(c["by_day"].items())
    section.figures.append(charts.columns("Conversaciones por día", [d[-2:] for d, _ in days],
                                          [v["conversations"] for _, v in days], "Conversaciones por día del mes"))
    section.tables.append(Table("conversaciones-por-dia", "Por día", ["Día", "Conversaciones", "Mensajes"],
                                [[dt.date.fromisoformat(d), v["conversations"], v["messages"]] for d, v in days]))
    by_channel = sorted(c["by_channel"].items(), key=lambda kv: (-kv[1]["conversations"], kv[0]))
    section.figures.append(charts.bars("Conversaciones por canal", [labels.channel(k) for k, _ in by_channel],
                                       [v["conversations"] for _, v in by_channel], "Conversaciones por canal"))
    section.tables.append(Table("conversaciones-por-canal", "Por canal",
                                ["Canal", "Conversaciones", "Mensajes de personas", "Mensajes del asistente"],
                                [[labels.channel(k), v["conversations"], v["messages"], c["assistant_by_channel"].get(k, 0)]
                                 for k, v in by_channel]))
    order = [*LINES, ""]
    by_line = c["by_line"]
    line_rows = [[labels.line(k) if k else labels.NO_LINE, by_line.get(k, {}).get("conversations", 0),
                  by_line.get(k, {}).get("messages", 0), by_line.get(k, {}).get("answers", 0)] for k in order]
    line_rows += [[k, v["conversations"], v["messages"], v["answers"]] for k, v in sorted(by_line.items()) if k not in order]
    section.figures.append(charts.bars("Conversaciones por línea de acción", [r[0] for r in line_rows], [r[1] for r in line_rows],
                                       "Conversaciones por línea de acción"))
    section.tables.append(Table("conversaciones-por-linea", "Por línea de acción",
                                ["Línea de acción", "Conversaciones", "Mensajes", "Respuestas con artículo"], line_rows,
                                note="Una conversación que tocó varias líneas cuenta en cada una."))
    by_country = sorted(c["by_country"].items(), key=lambda kv: (-kv[1]["conversations"], labels.country(kv[0])))
    section.tables.append(Table("conversaciones-por-pais", "Por país de destino o residencia",
                                ["País", "Conversaciones", "Mensajes", "Respuestas con artículo"],
                                [[labels.country(k), v["conversations"], v["messages"], v["answers"]] for k, v in by_country],
                                note="Países nombrados en la conversación o de los artículos dados; "
                                     "una conversación puede contar en varios."))
    return section


def _articles_section(c: dict[str, Any], rated: list[ratings.ArticleCounts], kb: KnowledgeBase) -> Section:
    section = Section("articulos", "Artículos más consultados y su valoración",
                      "Veces que el asistente dio cada artículo y, de las personas que respondieron «¿Te sirvió?», "
                      "la parte que dijo «sí». «Versión vigente»: valoraciones de la versión revisada por última vez.")
    by_id = {r.article_id: r for r in rated}
    ids = set(c["articles"]) | set(by_id)
    rows = []
    for article_id in ids:
        used = c["articles"].get(article_id, {"shown": 0, "conversations": 0})
        r = by_id.get(article_id)
        article = kb.get(article_id)
        current = r if r and article and r.latest_reviewed == article.last_reviewed else None
        rows.append([article_id, _title(kb, article_id), used["shown"], used["conversations"],
                     r.total if r else 0, r.useful if r else 0, r.not_useful if r else 0,
                     Share(r.useful, r.total) if r else Share(0, 0),
                     Share(current.latest_useful, current.latest_useful + current.latest_not_useful) if current else Share(0, 0)])
    rows.sort(key=lambda row: (-row[2], -row[4], row[0]))
    top = [row for row in rows if row[2]][:10]
    section.figures.append(charts.bars("Los 10 artículos más consultados", [_short(row[1]) for row in top], [row[2] for row in top],
                                       "Artículos más consultados del mes"))
    section.tables.append(Table("articulos", "Artículos", ["Artículo", "Título", "Veces dado", "Conversaciones", "Valoraciones",
                                                           "Sí", "No", "% sí", "% sí (versión vigente)"], rows,
                                numeric=(2, 3, 4, 5, 6, 7, 8), limit=TOP_ARTICLES,
                                note=f"Se muestran los {TOP_ARTICLES} primeros; el CSV tiene todos."))
    return section


def _short(text: str, limit: int = 48) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _endings_section(c: dict[str, Any]) -> Section:
    section = Section("cierre", "Cómo terminaron las conversaciones",
                      "Respondida: el asistente dio al menos un artículo (o se completó una sugerencia) y el último turno no "
                      "quedó sin respuesta. Derivada: pasó a un asesor. Sin resolver: se preguntó algo y terminó sin respuesta "
                      "o con una respuesta que no sirvió. Solo saludo o menú: no se preguntó nada.")
    total = c["total"]
    outcome_rows = [[labels.OUTCOMES[o], n, Share(n, total)] for o, n in c["outcomes"].items()]
    section.figures.append(charts.bars("Cómo terminaron", [r[0] for r in outcome_rows], [r[1] for r in outcome_rows],
                                       "Conversaciones según cómo terminaron"))
    section.tables.append(Table("cierre", "Resultado", ["Resultado", "Conversaciones", "% del total"], outcome_rows))
    escalated = c["outcomes"].get("escalated", 0)
    section.tables.append(Table("derivaciones-por-motivo", "Derivadas a un asesor, por motivo", ["Motivo", "Conversaciones", "%"],
                                [[labels.REASONS[r], n, Share(n, escalated)] for r, n in c["reasons"].items()]))
    offers = sum(c["offers"].values())
    section.tables.append(Table("busqueda-ofertas", "Cuando no entendió: la búsqueda en la base de conocimiento",
                                ["Qué pasó con la oferta de artículos", "Veces", "%"],
                                [[labels.OFFERS[o], n, Share(n, offers)] for o, n in c["offers"].items()]))
    return section


def _handoff_section(figures: dict[str, Any] | None) -> Section:
    section = Section("asesores", "Atención por asesores",
                      "Tickets abiertos en el mes. Espera: desde la derivación hasta la primera respuesta de un asesor. "
                      "Cierre: desde la derivación hasta que se cerró. Calificación: de 1 a 5, dada por la persona al final; "
                      "el promedio se muestra con 5 calificaciones o más.")
    if figures is None:
        section.notes.append("Esta base de datos no tiene las tablas de derivación a asesores: no hay datos de atención.")
        return section
    f = figures
    section.tables.append(Table("asesores-resumen", "Resumen", ["Indicador", "Valor"], [
        ["Tickets", f["tickets"]], ["Con prioridad (seguridad)", f["priority"]], ["Cerrados", f["closed"]],
        ["Aún abiertos", f["open"]], ["Respondidos por un asesor", f["answered"]],
        ["Espera hasta la primera respuesta: mediana", Duration(f["wait_median"])],
        ["Espera hasta la primera respuesta: percentil 90", Duration(f["wait_p90"])],
        ["Tiempo hasta el cierre: mediana", Duration(f["close_median"])],
        ["Tiempo hasta el cierre: percentil 90", Duration(f["close_p90"])],
        ["Calificaciones recibidas", f["ratings"]], ["Calificación promedio (1 a 5)", Mean(f["rating_mean"], f["ratings"])],
    ]))
    section.tables.append(Table("asesores-por-motivo", "Tickets por motivo", ["Motivo", "Tickets"],
                                [[labels.REASONS.get(r, r), f["by_reason"].get(r, 0)] for r in REASONS]))
    section.tables.append(Table("asesores-por-canal", "Tickets por canal", ["Canal", "Tickets"],
                                [[labels.channel(k), n] for k, n in sorted(f["by_channel"].items(), key=lambda kv: (-kv[1], kv[0]))]))
    section.tables.append(Table("asesores-calificaciones", "Calificaciones", ["Calificación", "Veces"],
                                [[f"{v} de 5", f["rating_counts"][v]] for v in range(5, 0, -1)]))
    section.tables.append(Table("asesores-por-asesor", "Por asesor (el último que atendió cada ticket)",
                                ["Asesor", "Tickets", "Cerrados", "Espera mediana", "Espera p90", "Cierre mediano",
                                 "Calificaciones", "Promedio"],
                                [[name, a["tickets"], a["closed"], Duration(a["wait_median"]), Duration(a["wait_p90"]),
                                  Duration(a["close_median"]), a["ratings"], Mean(a["rating_mean"], a["ratings"])]
                                 for name, a in f["advisors"].items()]))
    return section


def _doors_section(d: dict[str, Any]) -> Section:
    section = Section("puertas", "El servicio por puerta: chat, correo y ventanilla",
                      "Consultas del mes por cada puerta del servicio. Chat: conversaciones con el asistente (web, WhatsApp, "
                      "Telegram). Correo: cada correo nuevo (o respuesta a una consulta ya cerrada) al buzón del servicio. "
                      "Ventanilla: cada atención presencial registrada. Espera: desde que la consulta llega a la cola hasta la "
                      "primera respuesta de un asesor.")
    counts = d["by_door"]
    section.figures.append(charts.bars("Consultas por puerta", [labels.DOORS[k] for k in counts], list(counts.values()),
                                       "Consultas del mes por puerta"))
    times = d["answer_times"]
    section.tables.append(Table("puertas", "Consultas por puerta",
                                ["Puerta", "Consultas", "Atendidas por un asesor", "Espera mediana", "Espera p90"],
                                [[labels.DOORS[k], n, times[k]["answered"] if k in times else "—",
                                  Duration(times[k]["wait_median"]) if k in times else "—",
                                  Duration(times[k]["wait_p90"]) if k in times else "—"] for k, n in counts.items()],
                                note="Ventanilla: la persona es atendida en el momento. " + (
                                    "" if d["window_installed"] else "Esta base de datos no tiene el registro de ventanilla.")))
    columns = [labels.DOORS[k] for k in doors.DOORS]
    order = [*LINES, doors.NO_LINE]
    by_line = d["by_line"]
    keys = order + sorted(k for k in by_line if k not in order)
    section.tables.append(Table("puertas-por-linea", "Por línea de acción y puerta", ["Línea de acción", *columns, "Total"],
                                [[labels.line(k) if k else labels.NO_LINE, *[by_line.get(k, {}).get(door, 0) for door in doors.DOORS],
                                  sum(by_line.get(k, {}).values())] for k in keys],
                                note="Una conversación de chat que tocó varias líneas cuenta en cada una."))
    by_country = sorted(d["by_country"].items(), key=lambda kv: (-sum(kv[1].values()), labels.country(kv[0])))
    section.tables.append(Table("puertas-por-pais", "Por país y puerta", ["País", *columns, "Total"],
                                [[labels.country(k), *[v.get(door, 0) for door in doors.DOORS], sum(v.values())]
                                 for k, v in by_country]))
    section.tables.append(Table("puertas-por-oficina", "Por oficina",
                                ["Oficina", "Chats derivados a un asesor", "Correos", "Atenciones en ventanilla"],
                                [[k or labels.MAIN_OFFICE, v["chat"], v[doors.EMAIL], v[doors.WINDOW]]
                                 for k, v in sorted(d["by_office"].items())],
                                note="Chats y correos: la oficina en cuya cola estaba la consulta. "
                                     "Ventanilla: la oficina de la ventanilla.",
                                empty="Ninguna consulta atendida por oficinas este mes."))
    return section


def _gaps_section(groups: list[gaps.Gap]) -> Section:
    section = Section("vacios", "Preguntas que el asistente no pudo responder",
                      "Preguntas en las que el asistente no entendió y la búsqueda no dio un artículo elegido, agrupadas por "
                      "parecido: temas que podrían faltar en la base de conocimiento. Los textos se muestran sin correos, "
                      "teléfonos ni números de documento.")
    rows = [[str(i), g.count, ", ".join(g.keywords), " · ".join(f"«{e}»" for e in g.examples)] for i, g in enumerate(groups, 1)]
    section.tables.append(Table("preguntas-sin-respuesta", "Grupos de preguntas", ["Grupo", "Preguntas", "Palabras clave", "Ejemplos"],
                                rows, numeric=(0, 1), limit=TOP_GAPS,
                                note=f"Se muestran los {TOP_GAPS} grupos más grandes; el CSV tiene todos."))
    return section


def _suggestions_section(counts: dict[str, Any] | None) -> Section:
    section = Section("voz", "La voz del migrante", "Sugerencias, inquietudes, quejas y reconocimientos recibidos en el mes "
                      "(estado actual de cada uno).")
    if counts is None:
        section.notes.append("Esta base de datos no tiene las tablas de «la voz del migrante».")
        return section
    section.tables.append(Table("voz-por-tipo", "Por tipo", ["Tipo", "Mensajes"],
                                [[labels.KINDS.get(k, k), n] for k, n in counts["by_kind"].items()] + [["Total", counts["total"]]]))
    section.tables.append(Table("voz-por-pais", "Por país de residencia", ["País", "Mensajes"],
                                [[labels.country(k), n] for k, n in counts["by_country"].items()]))
    section.tables.append(Table("voz-por-tema", "Por tema", ["Tema", "Mensajes"], [[k, n] for k, n in counts["by_topic"].items()]))
    section.tables.append(Table("voz-por-estado", "Por estado", ["Estado", "Mensajes"],
                                [[labels.STATUSES.get(k, k), n] for k, n in counts["by_status"].items()]))
    return section


def _stale_section(kb: KnowledgeBase, today: dt.date) -> Section:
    due = kb.stale(today, STALE_DAYS)
    section = Section("revision", "Artículos por revisar",
                      f"Artículos con la fecha de revisión vencida o dentro de los próximos {STALE_DAYS} días, "
                      f"al {today:%d/%m/%Y}.")
    section.tables.append(Table("articulos-por-revisar", "Artículos", ["Artículo", "Título", "Línea", "Última revisión",
                                                                       "Revisar antes del", "Estado"],
                                [[a.id, a.title, labels.line(a.line), a.last_reviewed, a.review_by,
                                  "Vencido" if a.review_by < today else "Vence pronto"] for a in due],
                                numeric=(3, 4), empty="Ningún artículo está vencido ni vence en los próximos días."))
    return section


def _highlights(c: dict[str, Any], rated: list[ratings.ArticleCounts], suggestions_total: int | None,
                by_door: dict[str, Any]) -> list[tuple[str, Any]]:
    yes = sum(r.useful for r in rated)
    total_rated = sum(r.total for r in rated)
    items: list[tuple[str, Any]] = [
        ("Conversaciones", c["total"]), ("Mensajes de personas", c["messages"]),
        ("Respondidas por el asistente", Share(c["outcomes"]["answered"], c["total"])),
        ("Derivadas a un asesor", c["outcomes"]["escalated"]),
        ("Valoraciones «¿Te sirvió?»", total_rated), ("Dijeron que sí les sirvió", Share(yes, total_rated)),
    ]
    items.append(("Consultas por correo", by_door["by_door"][doors.EMAIL]))
    if by_door["window_installed"]:
        items.append(("Atenciones en ventanilla", by_door["by_door"][doors.WINDOW]))
    if suggestions_total is not None:
        items.append(("Mensajes de la voz del migrante", suggestions_total))
    return items


def _has_table(engine: Engine, name: str) -> bool:
    return inspect(engine).has_table(name)


def build(month: str | dt.date, *, tracker_engine: Engine | None, engine: Engine | None, kb: KnowledgeBase | None = None,
          today: dt.date | None = None, now: dt.datetime | None = None) -> Report:
    first = dates.parse_month(month)
    start, end = dates.month_range(first)
    kb = kb or knowledge.load()
    now = now or clock.now()
    today = today or now.astimezone(dates.LIMA).date()
    warnings: list[str] = []
    if tracker_engine is not None:
        events = read_events(tracker_engine, start.timestamp() - MARGIN, end.timestamp() + MARGIN)
        figures = _conversation_figures(conversations(events, start, end), kb, first)
    else:
        warnings.append("Sin acceso a las conversaciones (tracker store): las secciones de conversaciones están vacías.")
        figures = _conversation_figures([], kb, first)
    rated: list[ratings.ArticleCounts] = []
    suggestion_counts = handoff = None
    email: list[dict[str, Any]] = []
    window: list[dict[str, Any]] | None = None
    per_office: dict[str, dict[str, int]] = {}
    if engine is not None:
        if _has_table(engine, "answer_ratings"):
            rated = ratings.counts(engine, start, end)
        if _has_table(engine, "suggestions"):
            from bot.suggestions.export import monthly_counts

            suggestion_counts = monthly_counts(engine, first)
        handoff = handoff_figures.stats(engine, start, end)
        email = doors.email_consultations(engine, start, end, lambda article_id: _line_of(kb, article_id))
        window = doors.window_consultations(engine, start, end)
        per_office = doors.tickets_by_office(engine, start, end)
    else:
        warnings.append("Sin acceso a la base de datos del servicio: faltan valoraciones, sugerencias y atención por asesores.")
    by_door = doors.figures(figures, handoff, email, window, per_office)
    # the same groups whatever order the database gives; questions from every door
    groups = gaps.group(sorted([*figures["questions"], *by_door["gaps"]]))
    sections = [
        _conversations_section(figures), _doors_section(by_door), _articles_section(figures, rated, kb), _endings_section(figures),
        _handoff_section(handoff), _gaps_section(groups), _suggestions_section(suggestion_counts), _stale_section(kb, today),
    ]
    data = {**{k: v for k, v in figures.items() if k != "questions"},
            "ratings": {r.article_id: {"yes": r.useful, "no": r.not_useful} for r in rated},
            "gaps": [{"count": g.count, "keywords": g.keywords, "examples": g.examples} for g in groups],
            "suggestions": suggestion_counts, "handoff": handoff,
            "doors": {k: v for k, v in by_door.items() if k != "gaps"}, "stale": [a.id for a in kb.stale(today, STALE_DAYS)]}
    return Report(first, now, _highlights(figures, rated, suggestion_counts["total"] if suggestion_counts else None, by_door),
                  sections, data, warnings)


__all__ = ["Figure", "Report", "build", "month_name"]
