"""A fresh PostgreSQL database for a benchmark run (the machine's server; TEST_DATABASE_URL to use another).

`fresh_database()` yields the database URL (our tables: DATABASE_URL) and the endpoints.yml keys of the
tracker store on it (as deploy/endpoints.production.yml: our SQL store, cache checked at every read),
and drops the database afterwards.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bot.store.db import database_url
from tests.databases import ADMIN_URL, ensure_postgres


@contextmanager
def fresh_database() -> Iterator[tuple[str, str]]:
    ensure_postgres()
    name = f"infomigra_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(database_url(ADMIN_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(ADMIN_URL).set(database=name)
    store = (f"  type: bot.rasa.tracker_store.SQLTrackerStore\n  dialect: postgresql\n  url: {url.host}\n"
             f"  port: {url.port or 5432}\n  db: {name}\n  username: {url.username}\n"
             + (f"  password: {url.password}\n" if url.password else "")
             + "  cache_size: 1000\n  shared: true\n")
    try:
        yield url.render_as_string(hide_password=False), store
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
