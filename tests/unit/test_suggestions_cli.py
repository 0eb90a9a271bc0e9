"""`infomigra suggestions …` through bot.cli.main, against SQLite and PostgreSQL."""

import csv
import datetime as dt
import json

import pytest

from bot.cli import main
from bot.suggestions import service
from tests.databases import migrated_engine

UTC = dt.timezone.utc


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request, tmp_path, capsys):
    with migrated_engine(request.param, tmp_path) as engine:
        capsys.readouterr()
        yield engine, engine.url.render_as_string(hide_password=False)


def add(engine, key, at, **overrides):
    values = {"client_key": key, "channel": "web", "sender_id": f"web:{key}", "kind": "inquietud", "country": "chile",
              "city": "Viña del Mar", "topic": "retorno", "text": "¿Cómo acredito mis años de trabajo en Chile al retornar?",
              "contact": "+56 9 1234 5678", "consent_at": at, "now": at}
    values.update(overrides)
    return service.submit(engine, **values)[0]


def test_export_to_a_csv_file_and_to_standard_output_as_json(db, tmp_path, capsys):
    engine, url = db
    ref = add(engine, "a", dt.datetime(2026, 5, 10, 15, tzinfo=UTC))
    add(engine, "b", dt.datetime(2026, 3, 1, 15, tzinfo=UTC))
    out = tmp_path / "exports" / "mayo.csv"
    assert main(["suggestions", "export", "--since", "2026-05-01", "--until", "2026-05-31", "--format", "csv",
                 "--out", str(out), "--url", url]) == 0
    assert "1 suggestion(s) written to" in capsys.readouterr().out
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # spreadsheets then read the accents as UTF-8
    rows = list(csv.DictReader(out.open(encoding="utf-8-sig", newline="")))
    assert [r["reference"] for r in rows] == [ref]
    assert rows[0]["city"] == "Viña del Mar" and rows[0]["text"].startswith("¿Cómo acredito")
    assert "contact" not in rows[0] and "sender_id" not in rows[0]

    assert main(["suggestions", "export", "--since", "2026-01-01", "--format", "json", "--include-contact", "--url", url]) == 0
    captured = capsys.readouterr()
    document = json.loads(captured.out)
    assert document["count"] == 2 and document["suggestions"][0]["contact"] == "+56912345678"
    assert "2 suggestion(s) exported" in captured.err


def test_counts_for_a_month(db, capsys):
    engine, url = db
    add(engine, "a", dt.datetime(2026, 5, 10, 15, tzinfo=UTC))
    add(engine, "b", dt.datetime(2026, 5, 11, 15, tzinfo=UTC), kind="queja", country="España")
    assert main(["suggestions", "counts", "--month", "2026-05", "--json", "--url", url]) == 0
    counts = json.loads(capsys.readouterr().out)
    assert counts["total"] == 2 and counts["by_country"] == {"chile": 1, "espana": 1}
    assert main(["suggestions", "counts", "--month", "2026-05", "--url", url]) == 0
    text = capsys.readouterr().out
    assert "suggestions received in 2026-05 (Peru time): 2" in text and "espana (España)" in text


def test_purge_and_erase(db, capsys, monkeypatch):
    engine, url = db
    now = dt.datetime.now(UTC)
    old = add(engine, "old", now - dt.timedelta(days=800), text="Llámenme al +56 9 1234 5678")
    add(engine, "recent", now - dt.timedelta(days=40))
    assert main(["suggestions", "purge", "--dry-run", "--url", url]) == 0
    out = capsys.readouterr().out
    assert "dry run: 1 suggestion(s)" in out and old in out and "(24 months)" in out
    assert service.get(engine, old).contact
    assert main(["suggestions", "purge", "--url", url]) == 0
    assert "personal data erased from 1 suggestion(s)" in capsys.readouterr().out
    purged = service.get(engine, old)
    assert purged.contact is None and "1234" not in purged.text
    monkeypatch.setenv("SUGGESTIONS_RETENTION_MONTHS", "1")
    assert main(["suggestions", "purge", "--url", url]) == 0
    assert "erased from 1 suggestion(s)" in capsys.readouterr().out
    monkeypatch.setenv("SUGGESTIONS_RETENTION_MONTHS", "muchos")
    assert main(["suggestions", "purge", "--url", url]) == 2
    assert "SUGGESTIONS_RETENTION_MONTHS must be a whole number" in capsys.readouterr().err
    assert main(["suggestions", "purge", "--retention-months", "36", "--url", url]) == 0  # the option wins

    mine = add(engine, "mine", now, sender_id="whatsapp:+51987654321")
    assert main(["suggestions", "erase", "--sender", "whatsapp:+51987654321", "--url", url]) == 0
    assert "erased from 1 suggestion(s)" in capsys.readouterr().out
    assert service.get(engine, mine).sender_id is None and service.get(engine, mine).contact is None


@pytest.mark.parametrize("argv, words", [
    (["suggestions", "export", "--since", "2026-13-01"], "expected a date YYYY-MM-DD"),
    (["suggestions", "export", "--since", "2026-05-01", "--format", "xml"], "invalid choice"),
    (["suggestions", "export"], "--since"),
    (["suggestions", "counts", "--month", "mayo"], "expected a month YYYY-MM"),
    (["suggestions", "purge", "--retention-months", "0"], "whole number of months"),
    (["suggestions", "erase"], "--sender"),
])
def test_bad_arguments_are_explained(argv, words, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2 and words in capsys.readouterr().err


def test_a_database_without_the_tables_gets_a_hint(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    assert main(["suggestions", "counts", "--month", "2026-05", "--url", url]) == 1
    assert "infomigra db upgrade" in capsys.readouterr().err
    assert main(["suggestions", "export", "--since", "2026-05-01", "--until", "2026-04-01", "--url", url]) == 2
