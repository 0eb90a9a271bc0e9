"""Oldest message first: the order in which one event loop gives its CPU to the messages it handles.

The Rasa server handles each message in one coroutine that works on the CPU (NLU, policies, the
tracker store) and waits on the network in between: every custom action is an HTTP call to the
action server. Asyncio runs whatever became ready first, so under load a message goes to the back of
the queue each time it waits for an action, behind every message that arrived meanwhile. Measured
with 20 conversations at once (bench/), a message waited about one "round" of all the others per
action call: p50 90 ms with no action call, 270 ms with one, 450–520 ms with two, 740 ms with
three. The answers with the most to say came last, and they set the p95.

`OldestFirst.run(coroutine)` makes the coroutines it wraps take turns oldest first. A wrapped
coroutine that becomes ready (started, or its network answer arrived) asks for the turn and waits;
when the holder of the turn waits in its turn (on the network, a sleep), or when nobody holds it
after one pass of the loop (so that everything that became ready together has asked), the turn
goes to the oldest coroutine asking. Asyncio alone would resume them in the order their sockets
became ready. The loop never idles while a message is ready, so throughput is unchanged; the wait
of a message is the work of those ahead of it, as at a counter, instead of one round per action
call.

Only the wrapped coroutines take turns: the HTTP server, the channels and everything else on the
loop run as before. A coroutine wrapped inside another one's turn (a nested call) runs in that
turn. A cancelled or failing coroutine gives its turn back.
"""

from __future__ import annotations

import asyncio
import contextvars
import heapq
import itertools
from collections.abc import Awaitable, Coroutine, Generator
from typing import Any, TypeVar

T = TypeVar("T")

_running: contextvars.ContextVar[_Turns | None] = contextvars.ContextVar("oldest_first_running", default=None)


class OldestFirst:
    """Turns on the CPU for the coroutines passed to `run`, oldest first."""

    def __init__(self) -> None:
        self._holder: _Turns | None = None
        self._ready: list[tuple[int, _Turns]] = []  # heap of (ticket, waiting coroutine)
        self._tickets = itertools.count()
        self._dispatching = False  # a call of `_dispatch` is scheduled

    def run(self, coroutine: Coroutine[Any, Any, T]) -> Awaitable[T]:
        """`await oldest_first.run(handle(message))`: `handle(message)` in turns, as old as this call."""
        if _running.get() is not None:
            return coroutine  # already inside a turn (a nested call): it runs in that turn
        return _Turns(self, coroutine, next(self._tickets))

    def _take(self, turns: _Turns) -> bool:
        """True if `turns` holds the turn. Otherwise it must wait: the turn goes to the oldest of
        those that wait, once everything that became ready with it has asked too."""
        if self._holder is turns:
            return True
        if self._holder is None and not self._dispatching:
            self._dispatching = True
            asyncio.get_running_loop().call_soon(self._dispatch)
        return False

    def _dispatch(self) -> None:
        self._dispatching = False
        if self._holder is None:
            self._give_to_oldest()

    def _wait(self, turns: _Turns) -> asyncio.Future[None]:
        future = asyncio.get_running_loop().create_future()
        future._asyncio_future_blocking = True  # what `await future` sets before yielding it to the task
        heapq.heappush(self._ready, (turns.ticket, turns))
        return future

    def _release(self, turns: _Turns) -> None:
        if self._holder is turns:
            self._holder = None
            self._give_to_oldest()

    def _give_to_oldest(self) -> None:
        # Entries of coroutines that no longer wait (cancelled, closed, or queued twice) are skipped.
        while self._ready:
            _, oldest = heapq.heappop(self._ready)
            if oldest.parked is not None and not oldest.parked.done():
                self._holder = oldest
                oldest.parked.set_result(None)
                return


class _Turns:
    """Awaitable that steps one coroutine only during its turns (the iterator behind `await`)."""

    __slots__ = ("gate", "coroutine", "ticket", "parked", "_resume")

    def __init__(self, gate: OldestFirst, coroutine: Coroutine[Any, Any, Any], ticket: int) -> None:
        self.gate = gate
        self.coroutine = coroutine
        self.ticket = ticket
        self.parked: asyncio.Future[None] | None = None  # set while waiting for the turn
        self._resume: tuple[Any, BaseException | None] = (None, None)

    def __await__(self) -> Generator[Any, None, Any]:
        return self  # type: ignore[return-value]

    def __iter__(self) -> _Turns:
        return self

    def __next__(self) -> Any:
        return self._step(None, None)

    def send(self, value: Any) -> Any:
        return self._step(value, None)

    def throw(self, typ: Any, value: Any = None, traceback: Any = None) -> Any:
        if isinstance(typ, BaseException):
            error = typ
        elif isinstance(value, BaseException):
            error = value
        else:
            error = typ() if value is None else typ(value)
        if traceback is not None:
            error = error.with_traceback(traceback)
        return self._step(None, error)

    def close(self) -> None:
        self.parked = None
        self.gate._release(self)
        self.coroutine.close()

    def _step(self, value: Any, error: BaseException | None) -> Any:
        gate = self.gate
        if self.parked is not None:
            self.parked = None
            if error is None:  # our turn came (the gate made us the holder): resume as we were woken
                value, error = self._resume
            # else cancelled while waiting: unwind now (with the turn if it was already given)
        elif not gate._take(self):
            self._resume = (value, error)
            self.parked = gate._wait(self)
            return self.parked
        self._resume = (None, None)
        token = _running.set(self)
        try:
            yielded = self.coroutine.send(value) if error is None else self.coroutine.throw(error)
        except BaseException:
            gate._release(self)
            raise
        finally:
            _running.reset(token)
        gate._release(self)  # the coroutine waits (network, sleep): the turn goes to the oldest ready
        return yielded
