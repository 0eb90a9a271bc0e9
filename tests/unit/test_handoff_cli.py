"""`infomigra handoff erase|purge` anonymise tickets like the privacy erasure: the monthly report
keeps counting them, nothing that names the person stays."""

import datetime as dt

from bot.cli import main
from bot.handoff.store import HandoffStore
from tests.databases import migrated_engine

T0 = dt.datetime(2026, 1, 5, 15, 0, tzinfo=dt.timezone.utc)


def test_erase_and_purge_anonymise_instead_of_deleting(tmp_path, capsys):
    with migrated_engine("sqlite", tmp_path) as engine:
        store = HandoffStore(engine)
        ticket = {"channel": "whatsapp", "reason": "asked", "priority": 0, "line": "emigrar", "country": "espana",
                  "topic": "emigrar/tramites", "transcript": [{"role": "person", "text": "soy Ana, mi cel 987654321", "at": T0}]}
        ana, _ = store.open_ticket(sender_id="whatsapp:+51987654321", at=T0, **ticket)
        old, _ = store.open_ticket(sender_id="whatsapp:+51911222333", at=T0, **ticket)
        store.close(old.id, "person", at=T0)
        url = str(engine.url)

        assert main(["handoff", "erase", "--sender", "whatsapp:+51987654321", "--url", url]) == 0
        assert "1 ticket(s) of whatsapp:+51987654321 anonymised" in capsys.readouterr().out
        kept = store.get(ana.id)
        assert kept is not None and kept.status == "closed" and "51987654321" not in kept.sender_id
        assert store.messages(ana.id) == [] and store.open_for("whatsapp:+51987654321") is None

        assert main(["handoff", "purge", "--days", "30", "--url", url]) == 0
        assert "1 closed ticket(s) older than 30 days anonymised" in capsys.readouterr().out
        assert store.get(old.id) is not None and "51911222333" not in store.get(old.id).sender_id
