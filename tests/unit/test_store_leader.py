"""One process at a time (bot/store/leader.py) on PostgreSQL and SQLite: the lease is exclusive, passes on
release, and comes back when its holder is killed; the desk's worker ticks only while it holds it."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
import uuid

import pytest
from sqlalchemy import create_engine

from bot.handoff.service import HandoffService, run_worker
from bot.handoff.settings import HandoffSettings
from bot.handoff.store import HandoffStore
from bot.store.db import database_url
from bot.store.leader import Leadership
from tests.databases import ADMIN_URL, ensure_postgres, migrated_engine


@pytest.fixture(params=["postgresql", "sqlite"])
def url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'leader.db'}"
    ensure_postgres()
    return ADMIN_URL


def engine_for(url: str):
    """An engine of its own, as another process would have."""
    return create_engine(database_url(url))


def test_one_holder_at_a_time_and_the_lease_passes_on_release(url):
    name = f"work-{uuid.uuid4().hex[:8]}"
    a, b = Leadership(engine_for(url), name), Leadership(engine_for(url), name)
    assert a.held()
    assert not b.held()
    assert a.held()  # asking again keeps it
    other = Leadership(engine_for(url), f"{name}-other")
    assert other.held()  # another work's lease is another lease
    a.release()
    assert b.held()
    assert not a.held()
    b.release()
    other.release()


HOLD = """
import sys, time
from sqlalchemy import create_engine
from bot.store.db import database_url
from bot.store.leader import Leadership
leader = Leadership(create_engine(database_url(sys.argv[1])), sys.argv[2])
assert leader.held()
print("held", flush=True)
time.sleep(600)
"""


def test_a_killed_holder_loses_the_lease(url):
    name = f"work-{uuid.uuid4().hex[:8]}"
    holder = subprocess.Popen([sys.executable, "-c", HOLD, url, name], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        waiting = Leadership(engine_for(url), name)
        assert not waiting.held()
        holder.kill()  # SIGKILL: no release, no cleanup
        holder.wait()
        deadline = time.monotonic() + 30  # the server notices the closed connection
        while not waiting.held():
            assert time.monotonic() < deadline, "the lease of a killed holder never came back"
            time.sleep(0.1)
        waiting.release()
    finally:
        holder.kill()
        holder.wait()


class CountingService(HandoffService):
    """The real service, counting the worker's rounds."""

    ticks = 0

    async def tick(self, at=None) -> None:
        self.ticks += 1
        await super().tick(at)


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_of_two_desk_workers_only_the_leader_works_and_the_other_takes_over(kind, tmp_path):
    from bot.handoff.rasa_api import RasaApi

    with migrated_engine(kind, tmp_path) as engine:
        second_engine = create_engine(engine.url)  # the other desk process's own connections
        settings = HandoffSettings.from_env({})
        name = f"handoff-worker-{uuid.uuid4().hex[:6]}"

        async def run() -> tuple[int, int, int]:
            first = CountingService(HandoffStore(engine), RasaApi("http://127.0.0.1:9", "s" * 32), settings)
            second = CountingService(HandoffStore(second_engine), RasaApi("http://127.0.0.1:9", "s" * 32), settings)
            stop_first, stop_second = asyncio.Event(), asyncio.Event()
            one = asyncio.create_task(run_worker(first, 0.05, stop_first, Leadership(engine, name)))
            while first.ticks < 5:
                await asyncio.sleep(0.05)
            two = asyncio.create_task(run_worker(second, 0.05, stop_second, Leadership(second_engine, name)))
            while first.ticks < 15:
                await asyncio.sleep(0.05)
            idle = second.ticks
            stop_first.set()  # the first desk stops: its lease is released and the second takes over
            await one
            while second.ticks < 5:
                await asyncio.sleep(0.05)
            stop_second.set()
            await two
            await first.api.close()
            await second.api.close()
            return idle, first.ticks, second.ticks

        idle, _, taken_over = asyncio.run(asyncio.wait_for(run(), timeout=120))
        second_engine.dispose()
        assert idle == 0
        assert taken_over >= 5
