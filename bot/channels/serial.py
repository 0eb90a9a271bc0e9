"""One message at a time per person, inside the channel.

People on WhatsApp send bursts ("hola" / "una consulta" / "sobre visas"). Rasa's lock store
would make each later message of a burst wait for its one-second polling; an asyncio lock per
sender in the connector hands the conversation to the next message as soon as the previous
one is answered.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

MAX_SENDERS = 10_000


class SenderLocks:
    def __init__(self) -> None:
        self._locks: OrderedDict[str, tuple[asyncio.Lock, int]] = OrderedDict()

    @asynccontextmanager
    async def hold(self, sender_id: str) -> AsyncIterator[None]:
        lock, users = self._locks.get(sender_id, (asyncio.Lock(), 0))
        self._locks[sender_id] = (lock, users + 1)
        self._locks.move_to_end(sender_id)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[sender_id]
            if users <= 1:
                del self._locks[sender_id]
            else:
                self._locks[sender_id] = (lock, users - 1)
