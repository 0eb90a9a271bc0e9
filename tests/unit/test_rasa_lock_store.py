"""The Redis lock store (bot/rasa/lock_store.py) against the real Redis on 127.0.0.1:6379, run in the
Rasa venv. Each test has its own key prefix. Scenarios are sequenced by the state in Redis (who is in
the queue, who holds the lock) and by the store's own counts, never by how long something took."""

import json
import subprocess
import textwrap
import uuid

import pytest

from tests.conftest import ROOT
from tests.databases import ensure_redis

PRELUDE = textwrap.dedent('''
    import asyncio, json, os, signal, subprocess, sys
    from bot.rasa.lock_store import FifoRedisLockStore

    PREFIX = sys.argv[1]
    CONVERSATION = "whatsapp:+51999000111"

    def store(**settings):
        return FifoRedisLockStore(host="127.0.0.1", port=6379, key_prefix=PREFIX, **settings)

    async def until(check):
        """Wait for a state (of Redis, of a store), not for a time."""
        while not await check():
            await asyncio.sleep(0.005)

    def queue_length(store, at_least):
        async def check():
            return await store.red.llen(store.keys(CONVERSATION).queue) >= at_least
        return check

    def looked(store, times=1):
        async def check():
            return store.counts.looks >= times
        return check

    def spawn(code):
        """Another Rasa process (a replica) running `code` after this prelude."""
        return subprocess.Popen([sys.executable, "-c", os.environ["LOCK_TEST_PRELUDE"] + code, PREFIX],
                                stdout=subprocess.PIPE, text=True)

    def counts(store):
        """How its acquisitions went (LockCounts), without the number of looks."""
        return {key: value for key, value in vars(store.counts).items() if value and key != "looks"}
''')


@pytest.fixture(scope="module", autouse=True)
def redis_is_up():
    ensure_redis()  # started if it is down


@pytest.fixture
def prefix():
    return "t" + uuid.uuid4().hex


def start(prefix, code):
    """A scenario in the Rasa venv (a replica); it prints its JSON result last."""
    return subprocess.Popen([str(ROOT / ".venv/bin/python"), "-c", PRELUDE + code, prefix], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={"TF_CPP_MIN_LOG_LEVEL": "3", "PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT),
                                 "RASA_TELEMETRY_ENABLED": "false", "LOCK_TEST_PRELUDE": PRELUDE})


def result(process):
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err[-3000:]
    return json.loads(out.strip().splitlines()[-1])


def run(prefix, code):
    return result(start(prefix, code))


LEFT_OVER = textwrap.dedent('''
    async def main():
        red = store().red
        print(json.dumps({key.decode(): await red.pttl(key) for key in await red.keys(PREFIX + "*")}))
    asyncio.run(main())
''')


def keys_left(prefix):
    """The test's keys still in Redis, with the milliseconds until each expires (-1: never)."""
    return run(prefix, LEFT_OVER)


def no_keys_left(prefix):
    return keys_left(prefix) == {}


EXCLUSION = textwrap.dedent('''
    # two replicas, each with two lock stores, each running turns of the same conversation at once; a turn
    # reads a shared counter, yields, writes it back: any overlap would lose an increment
    async def turn(lock_store, counter):
        async with lock_store.lock(CONVERSATION):
            inside = await lock_store.red.incr(PREFIX + ":inside")
            value = int(await lock_store.red.get(counter) or 0)
            await asyncio.sleep(0.002)
            await lock_store.red.set(counter, value + 1)
            await lock_store.red.decr(PREFIX + ":inside")
            return inside

    async def main():
        stores = [store(), store()]
        insides = await asyncio.gather(*(turn(stores[i % 2], PREFIX + ":counter") for i in range(6)))
        print(json.dumps(insides))
    asyncio.run(main())
''')

EXCLUSION_RESULT = textwrap.dedent('''
    async def main():
        red = store().red
        print(json.dumps(int(await red.get(PREFIX + ":counter"))))
        await red.delete(PREFIX + ":counter", PREFIX + ":inside")
    asyncio.run(main())
''')


def test_one_turn_at_a_time_across_replicas(prefix):
    replicas = [start(prefix, EXCLUSION) for _ in range(2)]
    insides = [inside for replica in replicas for inside in result(replica)]
    assert insides == [1] * 12  # never two turns inside at once
    assert run(prefix, EXCLUSION_RESULT) == 12  # no increment lost
    assert no_keys_left(prefix)


FIFO = textwrap.dedent('''
    # replica A holds the lock; W1 (A), W2 (B), W3 (A) queue in that order; on release they are served in
    # that order, each woken by the previous release (their fallback wait is far longer than the test)
    async def main():
        a, b = store(socket_timeout=300), store(socket_timeout=300)
        order = []
        released = asyncio.Event()

        async def waiter(lock_store, name):
            async with lock_store.lock(CONVERSATION, wait_time_in_seconds=60):
                order.append(name)

        async def holder(held):
            async with a.lock(CONVERSATION):
                held.set()
                await released.wait()

        held = asyncio.Event()
        holding = asyncio.create_task(holder(held))
        await held.wait()
        waiters = []
        for position, (lock_store, name) in enumerate([(a, "W1"), (b, "W2"), (a, "W3")], start=1):
            waiters.append(asyncio.create_task(waiter(lock_store, name)))
            await until(queue_length(a, position))
        released.set()
        await asyncio.gather(holding, *waiters)
        print(json.dumps({"order": order, "a": counts(a), "b": counts(b)}))
    asyncio.run(main())
''')


def test_waiters_from_two_replicas_are_served_in_arrival_order_woken_by_the_release(prefix):
    out = run(prefix, FIFO)
    assert out["order"] == ["W1", "W2", "W3"]
    assert out["a"] == {"at_once": 1, "after_wakeup": 2}  # the holder, then W1 and W3
    assert out["b"] == {"after_wakeup": 1}  # W2: woken, never by the fallback (fallback_waits would count it)
    assert no_keys_left(prefix)


NO_OVERTAKING = textwrap.dedent('''
    # W1 (another replica) waits; that replica stalls (SIGSTOP) just as the lock is released. A message
    # arriving now finds the lock free but W1 ahead: it keeps looking (its fallback runs out twice) and
    # still does not take it; W1, resumed, goes first.
    W1 = """
    async def main():
        async with store(waiter_lease=120, socket_timeout=300).lock(CONVERSATION, wait_time_in_seconds=60):
            await store().red.rpush(PREFIX + ":order", "W1")
    asyncio.run(main())
    """

    async def main():
        a = store()
        order_key = PREFIX + ":order"
        holding = a.lock(CONVERSATION)
        await holding.__aenter__()
        w1 = spawn(W1)
        await until(queue_length(a, 1))
        os.kill(w1.pid, signal.SIGSTOP)
        await holding.__aexit__(None, None, None)  # releases: W1 is woken but cannot run

        newcomer = store()
        async def late():
            async with newcomer.lock(CONVERSATION, wait_time_in_seconds=0.05):
                await newcomer.red.rpush(order_key, "late")
        task = asyncio.create_task(late())
        async def looked_twice():
            return newcomer.counts.fallback_waits >= 2
        await until(looked_twice)
        holder_while_stalled = await a.red.get(a.keys(CONVERSATION).holder)
        os.kill(w1.pid, signal.SIGCONT)
        await task
        w1.wait(timeout=60)
        order = [item.decode() for item in await a.red.lrange(order_key, 0, -1)]
        await a.red.delete(order_key)
        print(json.dumps({"order": order, "holder_while_stalled": holder_while_stalled, "w1": w1.returncode,
                          "late": counts(newcomer)}))
    asyncio.run(main())
''')


def test_a_message_arriving_at_release_does_not_overtake_a_waiter(prefix):
    out = run(prefix, NO_OVERTAKING)
    assert out["w1"] == 0
    assert out["holder_while_stalled"] is None  # the lock was free all along, and the newcomer did not take it
    assert out["order"] == ["W1", "late"]
    assert out["late"]["fallback_waits"] >= 2
    assert no_keys_left(prefix)


EXPIRED_RELEASE = textwrap.dedent('''
    # A's turn outlives its lock (lifetime 0.3 s); B takes the lock; A's release must not free B's lock
    async def main():
        a, b = store(), store()
        holder_key = a.keys(CONVERSATION).holder
        b_holds, b_may_go = asyncio.Event(), asyncio.Event()

        async def b_turn():
            async with b.lock(CONVERSATION):
                b_holds.set()
                await b_may_go.wait()

        async with a.lock(CONVERSATION, lock_lifetime=0.3):
            async def expired():
                return not await a.red.exists(holder_key)
            await until(expired)
            b_task = asyncio.create_task(b_turn())
            await b_holds.wait()
            b_token = await a.red.get(holder_key)
        after_a_left = await a.red.get(holder_key)
        b_may_go.set()
        await b_task
        after_b_left = await a.red.get(holder_key)
        print(json.dumps({"b_token_kept": after_a_left == b_token and b_token is not None,
                          "after_b_left": after_b_left, "a": counts(a), "b": counts(b)}))
    asyncio.run(main())
''')


def test_a_turn_that_outlived_its_lock_does_not_release_the_next_holders_lock(prefix):
    out = run(prefix, EXPIRED_RELEASE)
    assert out["b_token_kept"] is True  # A's release left B's lock in place
    assert out["after_b_left"] is None  # B's own release frees it
    assert out["a"] == {"at_once": 1, "expired_before_release": 1}
    assert out["b"] == {"at_once": 1}
    assert no_keys_left(prefix)


KILLED_HOLDER = textwrap.dedent('''
    # replica H takes the lock and is SIGKILLed mid-turn. W (looking every 0.1 s) and then V (fallback
    # far longer than the test) wait. The dead holder's lock runs out (brought forward with PEXPIRE, so
    # the test waits on no clock): W gets it without any wake-up; W's normal release wakes V.
    H = """
    async def main():
        async with store().lock(CONVERSATION, lock_lifetime=30):
            print("held", flush=True)
            await asyncio.sleep(3600)
    asyncio.run(main())
    """

    async def main():
        h = spawn(H)
        assert h.stdout.readline().strip() == "held"
        w_store, v_store = store(max_wait=600), store(socket_timeout=300)
        holder_key = w_store.keys(CONVERSATION).holder
        lifetime_left = await w_store.red.pttl(holder_key)
        order = []

        async def turn(lock_store, name, wait):
            async with lock_store.lock(CONVERSATION, wait_time_in_seconds=wait):
                order.append(name)

        w = asyncio.create_task(turn(w_store, "W", 0.1))
        await until(looked(w_store))
        v = asyncio.create_task(turn(v_store, "V", 60))
        await until(looked(v_store))
        h.kill()
        h.wait()
        await w_store.red.pexpire(holder_key, 100)
        await asyncio.gather(w, v)
        print(json.dumps({"order": order, "h": h.returncode, "lifetime_left": lifetime_left, "w": counts(w_store),
                          "v": counts(v_store)}))
    asyncio.run(main())
''')


def test_a_holder_killed_mid_turn_lets_the_next_waiter_in_when_its_lock_expires(prefix):
    out = run(prefix, KILLED_HOLDER)
    assert out["h"] == -9
    assert 0 < out["lifetime_left"] <= 30_000  # the lock was taken with the turn's lifetime
    assert out["order"] == ["W", "V"]
    assert out["w"]["after_fallback"] == 1 and "after_wakeup" not in out["w"]  # nobody released: the lock expired
    assert out["v"] == {"after_wakeup": 1}  # W's release woke V; V's fallback never ran out
    assert no_keys_left(prefix)


KILLED_WAITER = textwrap.dedent('''
    # a replica dies while waiting (SIGKILL); it keeps its place only for its lease (0.5 s), then the
    # waiter behind it gets the lock
    DEAD = """
    async def main():
        async with store(waiter_lease=0.5).lock(CONVERSATION, wait_time_in_seconds=0.1):
            pass
    asyncio.run(main())
    """

    async def main():
        a, b = store(), store()
        holding = a.lock(CONVERSATION)
        await holding.__aenter__()
        dead = spawn(DEAD)
        await until(queue_length(a, 1))
        dead.kill()
        dead.wait()
        got_it = []

        async def next_waiter():
            async with b.lock(CONVERSATION, wait_time_in_seconds=0.1):
                got_it.append(True)

        task = asyncio.create_task(next_waiter())
        await until(looked(b))
        await holding.__aexit__(None, None, None)
        await task
        print(json.dumps({"got_it": got_it, "b": counts(b)}))
    asyncio.run(main())
''')


def test_a_waiter_killed_while_waiting_does_not_hold_up_the_queue(prefix):
    out = run(prefix, KILLED_WAITER)
    assert out["got_it"] == [True]
    # woken by the release, or (the dead waiter's lease not yet out then, so it was woken instead) by its fallback
    assert out["b"].get("after_wakeup", 0) + out["b"].get("after_fallback", 0) == 1
    # at most the dead waiter's wake-up, which expires by itself
    assert all(":fifowake:" in key and ttl > 0 for key, ttl in keys_left(prefix).items())


GIVE_UP = textwrap.dedent('''
    # a waiter that cannot get the lock within max_wait raises Rasa's LockError and leaves the queue
    from rasa.core.lock_store import LockError

    async def main():
        a, b = store(), store(max_wait=0.3)
        async with a.lock(CONVERSATION):
            try:
                async with b.lock(CONVERSATION, wait_time_in_seconds=0.05):
                    outcome = "acquired"
            except LockError:
                outcome = "LockError"
            queue = await a.red.llen(a.keys(CONVERSATION).queue)
        print(json.dumps({"outcome": outcome, "queue": queue, "b": counts(b)}))
    asyncio.run(main())
''')


def test_a_waiter_gives_up_with_rasas_lock_error(prefix):
    out = run(prefix, GIVE_UP)
    assert out["outcome"] == "LockError" and out["queue"] == 0
    assert out["b"]["gave_up"] == 1 and out["b"]["fallback_waits"] >= 1
    assert no_keys_left(prefix)


def test_the_key_prefix_must_be_alphanumeric():
    code = textwrap.dedent('''
        try:
            FifoRedisLockStore(key_prefix="info:migra")
        except ValueError as error:
            print(json.dumps(str(error)))
    ''')
    assert "alphanumeric" in run("x", code)
