"""One message at a time per person, inside the channel.

People on WhatsApp send bursts ("hola" / "una consulta" / "sobre visas"). Rasa's lock store
would make each later message of a burst wait for its one-second polling; a turn per sender in
the connector hands the conversation to the next message as soon as the previous one is
answered.

Waiting messages take their turn by an order key: arrival order by default, or a key the
channel knows to be the sender's own order (Telegram's `update_id` grows with every update, so
two updates that crossed on the network are still answered in the order they were written).
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class _Turns:
    __slots__ = ("busy", "waiting")

    def __init__(self) -> None:
        self.busy = False
        self.waiting: list[tuple[int, int, asyncio.Future[None]]] = []  # heap of (order, arrival, turn)


class SenderLocks:
    def __init__(self) -> None:
        self._senders: dict[str, _Turns] = {}
        self._arrivals = itertools.count()

    def __len__(self) -> int:
        """How many senders hold or wait for a turn (an idle sender costs nothing)."""
        return len(self._senders)

    @asynccontextmanager
    async def hold(self, sender_id: str, order: int | None = None) -> AsyncIterator[None]:
        arrival = next(self._arrivals)
        turns = self._senders.setdefault(sender_id, _Turns())
        if turns.busy:
            entry = (arrival if order is None else order, arrival, asyncio.get_running_loop().create_future())
            heapq.heappush(turns.waiting, entry)
            try:
                await entry[2]
            except BaseException:
                if entry[2].done() and not entry[2].cancelled():  # given the turn, then cancelled: pass it on
                    self._pass_on(sender_id, turns)
                else:
                    turns.waiting.remove(entry)
                    heapq.heapify(turns.waiting)
                raise
        else:
            turns.busy = True
        try:
            yield
        finally:
            self._pass_on(sender_id, turns)

    def _pass_on(self, sender_id: str, turns: _Turns) -> None:
        while turns.waiting:
            _, _, turn = heapq.heappop(turns.waiting)
            if not turn.done():
                turn.set_result(None)  # still busy: the turn goes straight to the next message
                return
        turns.busy = False
        if self._senders.get(sender_id) is turns:
            del self._senders[sender_id]
