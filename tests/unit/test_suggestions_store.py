"""The suggestion store against real databases (SQLite and the machine's PostgreSQL): submit and its
idempotency under concurrency, filters, the review workflow and its history, tags, notes, erasure, purge."""

import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select

from bot.store.schema import metadata
from bot.suggestions import reference as reference_module
from bot.suggestions import service
from bot.suggestions.reference import PATTERN
from bot.suggestions.schema import suggestion_events, suggestions
from bot.suggestions.scrub import DOCUMENT_MARK, EMAIL_MARK, PHONE_MARK
from bot.suggestions.service import SuggestionNotFound, TransitionError
from bot.suggestions.validation import InvalidInput
from tests.databases import migrated_engine

UTC = dt.timezone.utc
CONSENT = dt.datetime(2026, 5, 3, 15, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request, tmp_path):
    with migrated_engine(request.param, tmp_path) as engine:
        yield engine


def submit(engine, key="k1", **overrides):
    values = {"client_key": key, "channel": "whatsapp", "sender_id": "whatsapp:+34612345678", "kind": "queja",
              "country": "España", "city": "Madrid", "topic": "exterior",
              "text": "El consulado no contesta el teléfono desde hace un mes.", "contact": "ana@correo.pe",
              "consent_at": CONSENT, "now": CONSENT}
    values.update(overrides)
    return service.submit(engine, **values)


def count(engine, table=suggestions):
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def test_the_tables_match_the_migration(engine):
    mine = {"suggestions", "suggestion_events"}
    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), metadata)

    def table_of(diff):
        for part in (diff[0] if isinstance(diff, list) else diff)[1:]:
            if isinstance(part, str) and part in mine:
                return part  # ("modify_type", schema, "suggestions", column, ...)
            table = getattr(part, "table", part)
            if getattr(table, "name", None) in mine:
                return table.name
        return None

    assert [d for d in diffs if table_of(d) in mine] == []


def test_submit_stores_once_and_returns_a_reference(engine):
    reference, created = submit(engine)
    assert created and PATTERN.match(reference) and reference.startswith("VM-2026-")
    stored = service.get(engine, reference)
    assert stored.kind == "queja" and stored.country == "espana" and stored.city == "Madrid"
    assert stored.contact == "ana@correo.pe" and stored.status == "new" and stored.channel == "whatsapp"
    assert stored.consent_at == CONSENT and stored.created_at == CONSENT and stored.tags == () and stored.notes == ()
    assert service.get(engine, reference.lower().replace("-", " ")).id == stored.id
    assert service.get(engine, stored.id).reference == reference == service.get(engine, str(stored.id)).reference
    assert service.get(engine, "VM-2026-ZZZZZ") is None and service.get(engine, "nada") is None
    # a retry (same key, even with other content) stores nothing new
    assert submit(engine, text="otra vez") == (reference, False)
    assert count(engine) == 1
    # the key is kept only as a digest
    with engine.connect() as conn:
        assert conn.execute(select(suggestions.c.client_key)).scalar_one() != "k1"
    assert [e["action"] for e in service.history(engine, stored.id)] == ["created"]
    other, created = submit(engine, key="k2")
    assert created and other != reference and count(engine) == 2


def test_concurrent_duplicate_submits_store_one_suggestion(engine):
    barrier = threading.Barrier(8)

    def attempt(_):
        barrier.wait()
        return submit(engine, key="same-key")

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(attempt, range(8)))
    assert len({ref for ref, _ in results}) == 1
    assert [created for _, created in results].count(True) == 1
    assert count(engine) == 1 and count(engine, suggestion_events) == 1

    def distinct(i):
        return submit(engine, key=f"key-{i}")

    with ThreadPoolExecutor(6) as pool:
        results = list(pool.map(distinct, range(6)))
    assert all(created for _, created in results) and len({ref for ref, _ in results}) == 6


def test_a_taken_reference_is_drawn_again(engine, monkeypatch):
    first, _ = submit(engine)
    draws = iter([first, first, "VM-2026-ABCDE"])
    monkeypatch.setattr(service, "new_reference", lambda year: next(draws))
    assert submit(engine, key="k2") == ("VM-2026-ABCDE", True)
    assert reference_module.PATTERN.match("VM-2026-ABCDE")


@pytest.mark.parametrize("field, value, words", [
    ("text", "x" * 2001, "máximo es 2.000"),
    ("contact", "ana@", "correo no parece válido"),
    ("kind", "reclamo", "sugerencia, inquietud, queja o reconocimiento"),
    ("country", "Narnia", "No reconozco ese país"),
    ("consent_at", None, "Sin tu autorización no guardamos tu mensaje"),
])
def test_invalid_input_is_refused_in_spanish_and_nothing_is_stored(engine, field, value, words):
    with pytest.raises(InvalidInput) as error:
        submit(engine, **{field: value})
    assert words in error.value.message
    assert count(engine) == 0


def test_contact_and_city_are_optional_and_normalised(engine):
    reference, _ = submit(engine, contact="987 654 321", city="")
    stored = service.get(engine, reference)
    assert stored.contact == "+51987654321" and stored.city is None
    reference, _ = submit(engine, key="k2", contact=None, text="Gracias por la ayuda \x00 en Roma", kind="reconocimiento")
    stored = service.get(engine, reference)
    assert stored.contact is None and stored.text == "Gracias por la ayuda en Roma"
    with pytest.raises(ValueError):
        submit(engine, key="")


def test_list_filters_and_pagination(engine):
    lima = dt.timezone(dt.timedelta(hours=-5))
    rows = [
        ("a", "queja", "espana", "exterior", dt.datetime(2026, 4, 30, 23, 30, tzinfo=lima)),
        ("b", "sugerencia", "italia", "retorno", dt.datetime(2026, 5, 1, 0, 10, tzinfo=lima)),
        ("c", "queja", "italia", "exterior", dt.datetime(2026, 5, 15, 12, 0, tzinfo=lima)),
        ("d", "inquietud", "eeuu", "trámites del consulado", dt.datetime(2026, 5, 31, 23, 59, tzinfo=lima)),
        ("e", "queja", "chile", "exterior", dt.datetime(2026, 6, 1, 0, 0, tzinfo=lima)),
    ]
    ids = {}
    for key, kind, country, topic, at in rows:
        ref, _ = submit(engine, key=key, kind=kind, country=country, topic=topic, now=at)
        ids[key] = service.get(engine, ref).id
    service.change_status(engine, ids["c"], "in_review")

    def keys(**criteria):
        return [next(k for k, v in ids.items() if v == s.id) for s in service.list_suggestions(engine, **criteria).items]

    assert keys() == ["e", "d", "c", "b", "a"]  # newest first
    assert keys(since=dt.date(2026, 5, 1), until=dt.date(2026, 5, 31)) == ["d", "c", "b"]  # whole days in Peru
    assert keys(kind="queja") == ["e", "c", "a"]
    assert keys(kind=["queja", "inquietud"], country="italia") == ["c"]
    assert keys(country=["eeuu", "chile"]) == ["e", "d"]
    assert keys(topic="trámites del consulado") == ["d"]
    assert keys(status="in_review") == ["c"] and keys(status="new", topic="exterior") == ["e", "a"]
    assert keys(since=dt.datetime(2026, 5, 15, 17, tzinfo=UTC), until=dt.datetime(2026, 6, 1, 5, tzinfo=UTC)) == ["c", "d"][::-1]
    page = service.list_suggestions(engine, limit=2, offset=2)
    assert page.total == 5 and len(page.items) == 2 and [s.id for s in page.items] == [ids["c"], ids["b"]]
    assert service.list_suggestions(engine, kind="queja", limit=1).total == 3
    with pytest.raises(ValueError):
        service.list_suggestions(engine, status="done")
    with pytest.raises(ValueError):
        service.list_suggestions(engine, limit=0)


def test_the_status_workflow_and_its_history(engine):
    ref, _ = submit(engine)
    sid = service.get(engine, ref).id
    staff = {"staff_id": 7, "staff_email": "Revisora@MTPE.gob.pe"}
    with pytest.raises(TransitionError, match="cannot go from new to answered"):
        service.change_status(engine, sid, "answered", **staff)
    assert service.get(engine, sid).allowed_statuses == ("in_review",)
    assert service.change_status(engine, sid, "in_review", **staff).status == "in_review"
    assert service.change_status(engine, sid, "forwarded", **staff).status == "forwarded"
    assert service.change_status(engine, sid, "in_review", **staff).status == "in_review"  # back from forwarded
    assert service.change_status(engine, sid, "answered", **staff).status == "answered"
    with pytest.raises(TransitionError):
        service.change_status(engine, sid, "in_review", **staff)
    assert service.change_status(engine, sid, "archived", **staff).status == "archived"
    for target in ("new", "in_review", "forwarded", "answered", "archived"):
        with pytest.raises(TransitionError):
            service.change_status(engine, sid, target)
    with pytest.raises(TransitionError, match="unknown status"):
        service.change_status(engine, sid, "done")
    with pytest.raises(SuggestionNotFound):
        service.change_status(engine, 9999, "in_review")
    events = service.history(engine, sid)
    assert [(e["action"], e["from_status"], e["to_status"]) for e in events] == [
        ("created", None, "new"), ("status", "new", "in_review"), ("status", "in_review", "forwarded"),
        ("status", "forwarded", "in_review"), ("status", "in_review", "answered"), ("status", "answered", "archived")]
    assert all(e["staff_id"] == "7" and e["staff_email"] == "revisora@mtpe.gob.pe" for e in events[1:])
    assert all(e["at"].tzinfo is not None for e in events)


def test_concurrent_status_changes_let_one_win(engine):
    ref, _ = submit(engine)
    sid = service.get(engine, ref).id
    barrier = threading.Barrier(4)

    def attempt(_):
        barrier.wait()
        try:
            service.change_status(engine, sid, "in_review")
            return True
        except TransitionError:
            return False

    with ThreadPoolExecutor(4) as pool:
        assert list(pool.map(attempt, range(4))).count(True) == 1
    assert [e["action"] for e in service.history(engine, sid)].count("status") == 1


def test_tags_and_notes(engine):
    ref, _ = submit(engine)
    sid = service.get(engine, ref).id
    service.add_tag(engine, sid, " Consulado ", staff_id=3, staff_email="ana@mtpe.gob.pe")
    service.add_tag(engine, sid, "consulado", staff_id=3)  # already there: no change, no event
    service.add_tag(engine, sid, "Madrid")
    assert service.get(engine, sid).tags == ("consulado", "madrid")
    assert service.remove_tag(engine, sid, "MADRID", staff_id=3).tags == ("consulado",)
    service.remove_tag(engine, sid, "no-existe")
    with pytest.raises(ValueError):
        service.add_tag(engine, sid, "  ")
    with pytest.raises(SuggestionNotFound):
        service.add_tag(engine, 9999, "x")
    stored = service.add_note(engine, sid, "Reenviar al consulado en Madrid.", staff_id=3, staff_email="ana@mtpe.gob.pe")
    stored = service.add_note(engine, sid, "Respondido por teléfono.", staff_id=4)
    assert [n["text"] for n in stored.notes] == ["Reenviar al consulado en Madrid.", "Respondido por teléfono."]
    assert stored.notes[0]["staff_email"] == "ana@mtpe.gob.pe" and stored.notes[1]["staff_id"] == "4"
    with pytest.raises(ValueError):
        service.add_note(engine, sid, "")
    actions = [(e["action"], e["detail"]) for e in service.history(engine, sid)]
    assert actions == [("created", None), ("tag_added", "consulado"), ("tag_added", "madrid"), ("tag_removed", "madrid"),
                       ("note_added", None), ("note_added", None)]


def test_concurrent_tag_and_note_edits_are_all_kept(engine):
    ref, _ = submit(engine)
    sid = service.get(engine, ref).id
    barrier = threading.Barrier(6)

    def edit(i):
        barrier.wait()
        if i % 2:
            service.add_tag(engine, sid, f"tag-{i}")
        else:
            service.add_note(engine, sid, f"nota {i}")

    with ThreadPoolExecutor(6) as pool:
        list(pool.map(edit, range(6)))
    stored = service.get(engine, sid)
    assert stored.tags == ("tag-1", "tag-3", "tag-5")
    assert sorted(n["text"] for n in stored.notes) == ["nota 0", "nota 2", "nota 4"]


def test_erase_my_data_removes_personal_fields_and_keeps_the_counts(engine):
    text = "Soy Rosa, DNI 45678912. Escríbanme a rosa.q@gmail.com o al +34 612 345 678. El consulado no responde."
    mine1, _ = submit(engine, key="m1", text=text, topic="cita con DNI 45678912")
    mine2, _ = submit(engine, key="m2", kind="sugerencia", contact="+34 612 345 678")
    other, _ = submit(engine, key="o1", sender_id="telegram:42", contact="luis@correo.pe")
    sid = service.get(engine, mine1).id
    service.add_note(engine, sid, "Llamé al 612 345 678", staff_id=1)
    service.change_status(engine, sid, "in_review")

    assert service.count_by_sender(engine, "whatsapp:+34612345678") == 2
    assert service.erase_personal_data(engine, "whatsapp:+34612345678") == 2
    assert service.count_by_sender(engine, "whatsapp:+34612345678") == 0
    for ref in (mine1, mine2):
        erased = service.get(engine, ref)
        assert erased.sender_id is None and erased.contact is None and erased.city is None
        assert erased.personal_data_erased_at is not None
        assert erased.kind in ("queja", "sugerencia") and erased.country == "espana"
    erased = service.get(engine, mine1)
    assert erased.text == (f"Soy Rosa, DNI {DOCUMENT_MARK}. Escríbanme a {EMAIL_MARK} o al {PHONE_MARK}. "
                           "El consulado no responde.")
    assert erased.topic == f"cita con DNI {DOCUMENT_MARK}"
    assert erased.notes[0]["text"] == f"Llamé al {PHONE_MARK}" and erased.status == "in_review"
    assert service.history(engine, sid)[-1]["action"] == "erased"
    untouched = service.get(engine, other)
    assert untouched.sender_id == "telegram:42" and untouched.contact == "luis@correo.pe"
    assert service.erase_personal_data(engine, "whatsapp:+34612345678") == 0  # nothing left to erase
    assert service.erase_personal_data(engine, "") == 0
    from bot.suggestions.export import monthly_counts

    counts = monthly_counts(engine, "2026-05")
    assert counts["total"] == 3 and counts["by_kind"]["queja"] == 2 and counts["by_country"] == {"espana": 3}
    # nothing derived from the sender id stays: the digest of the submit key is replaced too
    with engine.connect() as conn:
        keys = dict(conn.execute(select(suggestions.c.reference, suggestions.c.client_key)).all())
    assert keys[mine1] != service._key_digest("m1") and keys[other] == service._key_digest("o1")


def test_purge_erases_personal_data_past_the_retention(engine, monkeypatch):
    now = dt.datetime(2026, 6, 15, 12, tzinfo=UTC)
    old, _ = submit(engine, key="old", now=dt.datetime(2024, 6, 10, tzinfo=UTC), text="Mi correo: a.b@correo.pe")
    edge, _ = submit(engine, key="edge", now=dt.datetime(2024, 6, 16, tzinfo=UTC))
    recent, _ = submit(engine, key="new", now=dt.datetime(2026, 5, 1, tzinfo=UTC))

    dry = service.purge(engine, dry_run=True, now=now)
    assert (dry.erased, dry.already_erased, dry.references, dry.retention_months) == (1, 0, [old], 24)
    assert service.get(engine, old).contact == "ana@correo.pe"  # a dry run changes nothing

    result = service.purge(engine, now=now)
    assert (result.erased, result.already_erased) == (1, 0)
    purged = service.get(engine, old)
    assert purged.contact is None and purged.sender_id is None and purged.text == f"Mi correo: {EMAIL_MARK}"
    assert service.history(engine, purged.id)[-1]["detail"] == "retention of 24 months"
    assert service.get(engine, edge).contact and service.get(engine, recent).contact
    assert (service.purge(engine, now=now).erased, service.purge(engine, now=now).already_erased) == (0, 1)

    monkeypatch.setenv("SUGGESTIONS_RETENTION_MONTHS", "1")
    result = service.purge(engine, now=now)
    assert (result.erased, result.already_erased, result.retention_months) == (2, 1, 1)
    assert service.list_suggestions(engine).total == 3  # the suggestions themselves stay
    monkeypatch.setenv("SUGGESTIONS_RETENTION_MONTHS", "dos")
    with pytest.raises(ValueError, match="SUGGESTIONS_RETENTION_MONTHS"):
        service.purge(engine)
    with pytest.raises(ValueError):
        service.purge(engine, 0)
