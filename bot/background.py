"""Background work while a server serves (the desk's handoff worker, the retention job in the desk and
the action server): started with the server, stopped with it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

logger = logging.getLogger(__name__)


@contextlib.asynccontextmanager
async def running(work: Callable[[asyncio.Event], Awaitable[None]], grace: float = 10.0) -> AsyncIterator[None]:
    """Run `work(stop)` as a task for the duration of the block; at its end set `stop` and give the
    task `grace` seconds to finish what it is doing (then it is cancelled)."""
    stop = asyncio.Event()
    task = asyncio.create_task(work(stop))
    try:
        yield
    finally:
        stop.set()
        try:
            await asyncio.wait_for(task, timeout=grace)
        except asyncio.TimeoutError:
            logger.warning("background work %s did not stop within %.0f s and was cancelled", getattr(work, "__name__", work), grace)
        except Exception:
            logger.exception("background work %s ended with an error", getattr(work, "__name__", work))
