"""Real databases for store tests: a fresh SQLite file, or a fresh schema-less PostgreSQL database.

PostgreSQL: TEST_DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/postgres); the
server is started with the machine's own command if it is down, and each test gets a database
of its own, dropped afterwards. Redis (127.0.0.1:6379, for the lock store): started the same way,
keeping nothing on disk, if it is down.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bot.store.db import database_url, get_engine

ADMIN_URL = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def ensure_postgres() -> None:
    engine = create_engine(database_url(ADMIN_URL))
    try:
        with engine.connect():
            return
    except Exception:
        pass
    finally:
        engine.dispose()
    versions = sorted(Path("/etc/postgresql").glob("*")) if Path("/etc/postgresql").exists() else []
    if not versions:
        pytest.fail("PostgreSQL is not running and is not installed here (set TEST_DATABASE_URL)")
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1].name, "main", "start"], check=False)


def redis_answers(host: str = "127.0.0.1", port: int = 6379) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def ensure_redis(port: int = 6379) -> None:
    """Redis on 127.0.0.1:`port`, started (nothing kept on disk) if it is down."""
    if redis_answers(port=port):
        return
    server = shutil.which("redis-server")
    if server is None:
        pytest.fail("Redis is not running on 127.0.0.1:6379 and redis-server is not installed here")
    subprocess.run([server, "--daemonize", "yes", "--port", str(port), "--bind", "127.0.0.1", "--save", ""], check=False)
    for _ in range(100):  # it accepts connections within moments; give up after 10 s
        if redis_answers(port=port):
            return
        time.sleep(0.1)
    pytest.fail("redis-server was started but does not answer on 127.0.0.1:6379")


def upgrade(url: str) -> None:
    from bot.cli import main

    assert main(["db", "upgrade", "--url", url]) == 0


@contextmanager
def migrated_engine(kind: str, tmp_path: Path):
    if kind == "sqlite":
        url = f"sqlite:///{tmp_path / 'test.db'}"
        upgrade(url)
        engine = get_engine(url)
        yield engine
        engine.dispose()
        return
    ensure_postgres()
    name = f"infomigra_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(database_url(ADMIN_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(url)
        engine = get_engine(url)
        yield engine
        engine.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
