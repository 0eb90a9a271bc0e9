"""The store's export (bot.suggestions.export) streamed to the browser as it is written.

The export runs in a worker thread and writes into a bounded queue of chunks that the response
sends on; a browser that goes away stops the export.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import queue
import threading
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy.engine import Engine

from bot.suggestions.export import export

log = logging.getLogger(__name__)

CHUNK = 64 * 1024
MEDIA_TYPES = {"csv": "text/csv; charset=utf-8", "json": "application/json"}
_DONE = object()


class _Cancelled(Exception):
    pass


class _ChunkWriter(io.TextIOBase):
    """A text stream whose writes become UTF-8 chunks of about CHUNK bytes on a queue."""

    def __init__(self, chunks: queue.Queue, cancelled: threading.Event):
        super().__init__()
        self.chunks = chunks
        self.cancelled = cancelled
        self.parts: list[str] = []
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self.parts.append(text)
        self.size += len(text)
        if self.size >= CHUNK:
            self.flush()
        return len(text)

    def flush(self) -> None:
        if self.parts:
            self.put("".join(self.parts).encode("utf-8"))
            self.parts, self.size = [], 0

    def put(self, item: object) -> None:
        while True:
            if self.cancelled.is_set():
                raise _Cancelled
            try:
                self.chunks.put(item, timeout=0.5)
                return
            except queue.Full:
                continue


async def stream_export(engine: Engine, fmt: str, *, include_contact: bool, criteria: dict[str, Any],
                        prefix: bytes = b"") -> AsyncIterator[bytes]:
    """The bytes of `export(engine, fmt, …)`, chunk by chunk, after `prefix` (e.g. a byte order mark)."""
    chunks: queue.Queue = queue.Queue(maxsize=4)
    cancelled = threading.Event()
    writer = _ChunkWriter(chunks, cancelled)

    def produce() -> None:
        try:
            export(engine, fmt, writer, include_contact=include_contact, **criteria)
            writer.flush()
            writer.put(_DONE)
        except _Cancelled:
            pass
        except Exception as exc:  # handed to the response, which ends the download unfinished
            with contextlib.suppress(_Cancelled):
                writer.put(exc)

    def take() -> object:
        while not cancelled.is_set():
            try:
                return chunks.get(timeout=0.5)
            except queue.Empty:
                continue
        return _DONE

    threading.Thread(target=produce, name="desk-export", daemon=True).start()
    try:
        if prefix:
            yield prefix
        while True:
            item = await asyncio.to_thread(take)
            if item is _DONE:
                break
            if isinstance(item, Exception):
                log.error("desk: the suggestions export failed midway", exc_info=item)
                raise item
            yield item
    finally:
        cancelled.set()
        # the producer notices within half a second and stops; so does a `take` still waiting
