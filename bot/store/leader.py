"""One process at a time for work that must not run twice (the desk's handoff worker): a lease that the
database, not a clock, takes back when its holder dies.

PostgreSQL: a session advisory lock (`pg_try_advisory_lock`) on a connection of its own, held as long as
that connection lives; a process killed with -9 loses its connection, so the lock, at once. SQLite (one
machine): an exclusive `flock` on a file beside the database, which the kernel releases with the process.

    leader = Leadership(engine, "handoff-worker")
    if leader.held():   # takes the lease when free; False while another process holds it
        ...
    leader.release()
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
from pathlib import Path
from typing import IO, Any

from sqlalchemy import text
from sqlalchemy.engine import Engine

logger = logging.getLogger(__name__)


def _key(name: str) -> int:
    """A stable signed 64-bit key for an advisory lock, from the work's name."""
    return int.from_bytes(hashlib.sha256(f"infomigra:{name}".encode()).digest()[:8], "big", signed=True)


class Leadership:
    def __init__(self, engine: Engine, name: str):
        self.engine = engine
        self.name = name
        self._connection: Any = None  # PostgreSQL: the connection that holds the advisory lock
        self._file: IO[bytes] | None = None  # SQLite: the locked file

    @property
    def _postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    def held(self) -> bool:
        """True when this process holds the lease (taking it if it is free)."""
        try:
            return self._check_postgres() if self._postgres else self._check_file()
        except Exception as exc:  # the database is down: not the leader until it is back
            logger.warning("leader %s: cannot take or check the lease (%s)", self.name, type(exc).__name__)
            self._drop_connection()
            return False

    def _check_postgres(self) -> bool:
        if self._connection is not None:
            self._connection.exec_driver_sql("SELECT 1")  # still connected, so still holding it
            self._connection.commit()
            return True
        connection = self.engine.connect()
        try:
            taken = connection.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": _key(self.name)}).scalar()
            connection.commit()
        except Exception:
            connection.close()
            raise
        if not taken:
            connection.close()
            return False
        self._connection = connection
        logger.info("leader %s: this process (%d) runs it", self.name, os.getpid())
        return True

    def _lock_path(self) -> Path:
        database = self.engine.url.database
        if not database or database == ":memory:":
            raise ValueError("an in-memory SQLite database has no file to lock beside")
        return Path(f"{database}.{self.name}.lock")

    def _check_file(self) -> bool:
        if self._file is not None:
            return True
        handle = self._lock_path().open("a+b")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        self._file = handle
        logger.info("leader %s: this process (%d) runs it", self.name, os.getpid())
        return True

    def _drop_connection(self) -> None:
        """Close the lock's connection for real (not back to the pool, where it would keep the lock)."""
        if self._connection is not None:
            try:
                self._connection.invalidate()
                self._connection.close()
            except Exception:  # already gone with the server: the lock went with it
                pass
            self._connection = None

    def release(self) -> None:
        if self._connection is not None:
            self._drop_connection()  # the session ends, and its advisory lock with it
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None
