"""Rasa's SQL tracker store, with SQLite set up for a server instead of a script.

Rasa 3.6.21 saves the tracker after every message in its own transaction. On SQLite's defaults
(rollback journal, `synchronous=FULL`) every save waits for the disk twice: py-spy put the commit
at about 15% of the Rasa server's time per message under load. In WAL mode with
`synchronous=NORMAL` a commit is an append to the log, readers (the monthly report, `rasa
test`) never block the writer, and the database stays consistent after a crash; at most the
last transactions before a power cut are lost, which the embedded default accepts. With any other
dialect (PostgreSQL in production) this is Rasa's `SQLTrackerStore` unchanged.

Configured in endpoints.yml as `type: bot.rasa_tracker_store.SQLTrackerStore` with the same keys
as Rasa's `type: SQL`.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from rasa.core import tracker_store


def _tune(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=5000")
    finally:
        cursor.close()


class SQLTrackerStore(tracker_store.SQLTrackerStore):
    def __init__(self, domain: Any = None, host: Any = None, event_broker: Any = None, **kwargs: Any) -> None:
        super().__init__(domain=domain, host=host, event_broker=event_broker, **kwargs)
        if self.engine.dialect.name == "sqlite":
            sa.event.listen(self.engine, "connect", _tune)
            self.engine.dispose()  # connections opened by Rasa's set-up get the settings on reconnect
