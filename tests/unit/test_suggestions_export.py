"""CSV and JSON exports and the monthly counts, against SQLite and PostgreSQL."""

import csv
import datetime as dt
import io
import json

import pytest

from bot.suggestions import service
from bot.suggestions.export import COLUMNS, export_csv, export_json, monthly_counts
from tests.databases import migrated_engine

UTC = dt.timezone.utc
LIMA = dt.timezone(dt.timedelta(hours=-5))


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request, tmp_path):
    with migrated_engine(request.param, tmp_path) as engine:
        yield engine


def add(engine, key, at, **overrides):
    values = {"client_key": key, "channel": "telegram", "sender_id": f"telegram:{key}", "kind": "sugerencia",
              "country": "italia", "city": "Milán", "topic": "exterior", "consent_at": at, "now": at,
              "text": "Que el consulado atienda también los sábados; la atención en Milán es muy lenta.",
              "contact": "jose.perez@correo.pe"}
    values.update(overrides)
    reference, _ = service.submit(engine, **values)
    return service.get(engine, reference)


@pytest.fixture
def sample(engine):
    first = add(engine, "1", dt.datetime(2026, 5, 2, 10, tzinfo=LIMA), kind="queja", country="España", city="Málaga",
                text="=HYPERLINK(\"http://x\") La atención fue pésima, ¿quién responde?\nSegunda línea, «comillas».",
                contact="+34 612 345 678")
    second = add(engine, "2", dt.datetime(2026, 5, 20, 18, tzinfo=LIMA), topic="Pensión y retorno", contact=None)
    add(engine, "3", dt.datetime(2026, 4, 30, 23, 59, tzinfo=LIMA), kind="reconocimiento")  # April in Peru
    add(engine, "4", dt.datetime(2026, 6, 1, 0, 0, tzinfo=LIMA), kind="inquietud", country="eeuu")  # June in Peru
    service.change_status(engine, first.id, "in_review")
    service.add_tag(engine, first.id, "consulado")
    service.add_tag(engine, first.id, "atención")
    service.add_note(engine, first.id, "Reenviar a la OCEX de Málaga.", staff_id=2, staff_email="rev@mtpe.gob.pe")
    return engine, first, second


def test_csv_export_round_trip_with_accents(sample):
    engine, first, second = sample
    text = export_csv(engine, since=dt.date(2026, 5, 1), until=dt.date(2026, 5, 31))
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == [c for c in COLUMNS if c != "contact"]  # no contact unless asked, never the sender id
    assert "sender_id" not in text and "telegram:1" not in text and "client_key" not in text
    assert [r["reference"] for r in rows] == [first.reference, second.reference]
    row = rows[0]
    assert row["city"] == "Málaga" and row["country"] == "espana" and row["kind"] == "queja"
    assert row["status"] == "in_review" and row["tags"] == "atención; consulado"
    assert row["text"].startswith("'=HYPERLINK")  # a spreadsheet will not run it
    assert "pésima, ¿quién responde?\nSegunda línea, «comillas»." in row["text"]
    assert "rev@mtpe.gob.pe: Reenviar a la OCEX de Málaga." in row["notes"]
    assert row["created_at"] == "2026-05-02T10:00:00-05:00" and row["personal_data_erased_at"] == ""
    assert rows[1]["topic"] == "Pensión y retorno"

    with_contact = list(csv.DictReader(io.StringIO(export_csv(engine, since=dt.date(2026, 5, 1), include_contact=True))))
    assert "contact" in with_contact[0] and with_contact[0]["contact"] == "+34612345678" and with_contact[1]["contact"] == ""
    assert len(with_contact) == 3  # June included without an end date


def test_json_export_round_trip(sample):
    engine, first, second = sample
    document = json.loads(export_json(engine, since=dt.date(2026, 5, 1), until=dt.date(2026, 5, 31), include_contact=True))
    assert document["count"] == 2 and document["since"] == "2026-05-01" and document["include_contact"] is True
    item = document["suggestions"][0]
    assert item["reference"] == first.reference and item["contact"] == "+34612345678" and "sender_id" not in item
    assert item["tags"] == ["atención", "consulado"] and item["notes"][0]["text"] == "Reenviar a la OCEX de Málaga."
    assert item["text"].startswith("=HYPERLINK")  # JSON keeps the text exactly
    assert dt.datetime.fromisoformat(item["created_at"]) == first.created_at
    without = json.loads(export_json(engine, since=dt.date(2026, 5, 1), kind="queja"))
    assert without["count"] == 1 and "contact" not in without["suggestions"][0]
    assert json.loads(export_json(engine, since=dt.date(2030, 1, 1)))["suggestions"] == []


def test_monthly_counts(sample):
    engine, first, _ = sample
    counts = monthly_counts(engine, "2026-05")
    assert counts["month"] == "2026-05" and counts["total"] == 2
    assert counts["by_kind"] == {"sugerencia": 1, "inquietud": 0, "queja": 1, "reconocimiento": 0}
    assert counts["by_country"] == {"espana": 1, "italia": 1}
    assert counts["by_topic"] == {"Pensión y retorno": 1, "exterior": 1}
    assert counts["by_status"] == {"new": 1, "in_review": 1, "forwarded": 0, "answered": 0, "archived": 0}
    assert monthly_counts(engine, "2026-04")["by_kind"]["reconocimiento"] == 1
    assert monthly_counts(engine, dt.date(2026, 6, 15))["by_country"] == {"eeuu": 1}
    empty = monthly_counts(engine, "2025-01")
    assert empty["total"] == 0 and empty["by_country"] == {} and sum(empty["by_status"].values()) == 0
    # erasing personal data does not change the counts
    service.erase_personal_data(engine, "telegram:1")
    assert monthly_counts(engine, "2026-05") == counts
