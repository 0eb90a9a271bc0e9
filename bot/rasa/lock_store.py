"""A Redis lock store for several Rasa processes: first come first served per conversation, waiters
woken when the lock is released instead of polling.

Why. Rasa handles one message of a conversation at a time under a per-conversation lock
(`LockStore.lock`, used by the message processor and the HTTP API). Its `RedisLockStore` keeps
a JSON list of tickets per conversation and, in Rasa 3.6.21:
- waits by polling: a waiter looks again every `wait_time_in_seconds` (1 s), so the second message
  of a burst (WhatsApp users send several short ones) answers about a second late;
- reads the list, changes it and writes it back with no transaction, so two processes issuing a
  ticket at once both write their own version and one ticket is lost: two turns of one
  conversation can then run together;
- has no owner check: a turn that outlived its ticket removes tickets whatever holds the lock now.

How. Everything that decides who holds the lock runs in Redis in one Lua script, so it is atomic
across processes. Per conversation (`<p>` is `<key_prefix>:fifolock:`):
- `<p><conversation>:holder`: the holder's random token, set with NX semantics and PX = the lock
  lifetime. A holder that dies (process killed mid-turn) loses it when it expires;
- `<p><conversation>:queue`: the waiting tokens in arrival order (RPUSH), the order they are served;
- `<p><conversation>:leases`: when each waiter counts as gone (sorted set, Redis time in ms). A live
  waiter renews its lease every time it looks (at least every `wait_time_in_seconds`), so one whose
  process died stops holding up the queue after `waiter_lease` seconds;
- `<key_prefix>:fifowake:<token>`: a waiter's wake-up list. Releasing the lock pushes to the list of
  the first waiter still alive; the waiter blocks on it with BLPOP. A wake-up sent before the waiter
  blocks stays in the list, so it is not lost. The BLPOP timeout (`wait_time_in_seconds`, 1 s) is
  only the fallback for a holder that died without releasing.
Taking the lock: only the first live waiter of the queue, and only while no one holds it, so a
message that arrives as the lock is released cannot overtake the ones waiting. Releasing deletes
the holder key only if it still holds the caller's token (fencing): a turn that outlived its
lifetime cannot free the lock of the turn that followed it.

Lifetime. As in Rasa, `lock_lifetime` (Rasa's TICKET_LOCK_LIFETIME, default 60 s) bounds how long
one turn keeps the lock; here it counts from when the lock is taken, not from when the message
arrived, so a message that waited still gets the whole lifetime. A waiter that has not got the lock
after `max_wait` seconds (default twice the lifetime) gives up with Rasa's `LockError`, as Rasa's
own tickets expire.

Configured in endpoints as `type: bot.rasa.lock_store.FifoRedisLockStore` with the keys of Rasa's
`type: redis` (url, port, db, username, password, use_ssl, ssl_certfile, ssl_keyfile, ssl_ca_certs,
key_prefix, socket_timeout), plus `waiter_lease` and `max_wait` (seconds). Values read from
environment variables arrive as text and are converted here. Only `lock()` is implemented: it is
the only part of the lock store Rasa 3.6.21 calls. The scripts build the wake-up key of another
waiter themselves, which a single Redis (or a primary with replicas) allows, Redis Cluster not.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis
from rasa.core.lock import Ticket, TicketLock
from rasa.core.lock_store import DEFAULT_SOCKET_TIMEOUT_IN_SECONDS, LOCK_LIFETIME, LockError, LockStore
from rasa.utils.endpoints import EndpointConfig
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

DEFAULT_WAITER_LEASE = 10.0  # seconds a waiter that stopped looking keeps its place
ACQUIRED, WAITING, DROPPED = 1, 0, -1  # what the take script answers

_HELPERS = """
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
-- keep the queue's keys at least `ms` longer (they vanish once every waiter is gone)
local function keep(key, ms)
  if redis.call('PTTL', key) < ms then redis.call('PEXPIRE', key, ms) end
end
-- the first waiter whose lease has not run out; the gone ones before it leave the queue
local function live_head(queue, leases, now)
  while true do
    local head = redis.call('LINDEX', queue, 0)
    if not head then return nil end
    local lease = redis.call('ZSCORE', leases, head)
    if lease and tonumber(lease) >= now then return head end
    redis.call('LPOP', queue)
    redis.call('ZREM', leases, head)
  end
end
local function wake(prefix, token, ms)
  local key = prefix .. token
  if redis.call('LLEN', key) == 0 then redis.call('RPUSH', key, '1') end
  redis.call('PEXPIRE', key, ms)
end
"""

# KEYS: queue, leases. ARGV: token, lease ms.
_ENTER = _HELPERS + """
local lease = tonumber(ARGV[2])
redis.call('RPUSH', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[2], now_ms() + lease, ARGV[1])
keep(KEYS[1], lease)
keep(KEYS[2], lease)
return redis.call('LLEN', KEYS[1])
"""

# KEYS: holder, queue, leases. ARGV: token, lifetime ms, lease ms, wake prefix.
_TAKE = _HELPERS + """
local token, lease = ARGV[1], tonumber(ARGV[3])
local now = now_ms()
if not redis.call('ZSCORE', KEYS[3], token) then return -1 end
redis.call('ZADD', KEYS[3], now + lease, token)
keep(KEYS[2], lease)
keep(KEYS[3], lease)
local head = live_head(KEYS[2], KEYS[3], now)
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
if head ~= token then
  if head then wake(ARGV[4], head, lease) end
  return 0
end
redis.call('SET', KEYS[1], token, 'PX', ARGV[2], 'NX')
redis.call('LPOP', KEYS[2])
redis.call('ZREM', KEYS[3], token)
return 1
"""

# KEYS: holder, queue, leases. ARGV: token, lease ms, wake prefix. Answers 1 if it held the lock.
_LEAVE = _HELPERS + """
local token, lease = ARGV[1], tonumber(ARGV[2])
local released = 0
if redis.call('GET', KEYS[1]) == token then
  redis.call('DEL', KEYS[1])
  released = 1
end
redis.call('LREM', KEYS[2], 0, token)
redis.call('ZREM', KEYS[3], token)
redis.call('DEL', ARGV[3] .. token)
if redis.call('EXISTS', KEYS[1]) == 0 then
  local head = live_head(KEYS[2], KEYS[3], now_ms())
  if head then wake(ARGV[3], head, lease) end
end
return released
"""


@dataclass
class LockCounts:
    """How this store's acquisitions went, for logs and tests."""

    looks: int = 0  # answers from Redis to "may I take the lock?"
    at_once: int = 0  # the lock was free and no one waited
    after_wakeup: int = 0  # taken right after the releasing turn woke this waiter
    after_fallback: int = 0  # taken after a wait ran out with no wake-up (a holder died, a wake-up was lost)
    fallback_waits: int = 0  # waits that ran out with no wake-up
    requeued: int = 0  # waiters dropped as gone while alive (their process stalled), queued again
    gave_up: int = 0  # waiters that raised LockError after max_wait
    expired_before_release: int = 0  # turns that outlived the lock's lifetime


@dataclass(frozen=True)
class ConversationKeys:
    holder: str
    queue: str
    leases: str


def _flag(value: Any) -> bool:
    """A yes/no setting, also when it comes from an environment variable as text."""
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def _text(value: Any) -> str | None:
    """A text setting; empty (an environment variable set to nothing) means not set."""
    return str(value) if value not in (None, "") else None


def _milliseconds(seconds: float) -> int:
    return max(1, int(seconds * 1000))


class FifoRedisLockStore(LockStore):
    """Per-conversation lock in Redis, shared by every Rasa process: FIFO, fenced, woken on release."""

    def __init__(self, endpoint_config: EndpointConfig | None = None, **settings: Any) -> None:
        if endpoint_config is not None:  # how Rasa builds a lock store of a `type: module.Class`
            settings = {"host": endpoint_config.url, **endpoint_config.kwargs, **settings}
        self._configure(**settings)
        self.counts = LockCounts()

    def _configure(self, host: str | None = "localhost", port: Any = 6379, db: Any = 1, username: Any = None,
                   password: Any = None, use_ssl: Any = False, ssl_certfile: Any = None, ssl_keyfile: Any = None,
                   ssl_ca_certs: Any = None, key_prefix: Any = None,
                   socket_timeout: Any = DEFAULT_SOCKET_TIMEOUT_IN_SECONDS, waiter_lease: Any = DEFAULT_WAITER_LEASE,
                   max_wait: Any = None) -> None:
        prefix = _text(key_prefix)
        if prefix is not None and not prefix.isalnum():
            raise ValueError(f"lock store key_prefix must be alphanumeric, not {prefix!r}")
        self.prefix = f"{prefix}:fifolock:" if prefix else "fifolock:"
        self.wake_prefix = f"{prefix}:fifowake:" if prefix else "fifowake:"
        self.socket_timeout = float(socket_timeout)
        self.waiter_lease = float(waiter_lease)
        self.max_wait = float(max_wait) if _text(max_wait) is not None else None
        self.red = aioredis.Redis(host=host or "localhost", port=int(port), db=int(db), username=_text(username),
                                  password=_text(password), ssl=_flag(use_ssl), ssl_certfile=_text(ssl_certfile),
                                  ssl_keyfile=_text(ssl_keyfile), ssl_ca_certs=_text(ssl_ca_certs),
                                  socket_timeout=self.socket_timeout)
        self._enter = self.red.register_script(_ENTER)
        self._take = self.red.register_script(_TAKE)
        self._leave = self.red.register_script(_LEAVE)

    def keys(self, conversation_id: str) -> ConversationKeys:
        base = self.prefix + conversation_id
        return ConversationKeys(f"{base}:holder", f"{base}:queue", f"{base}:leases")

    @asynccontextmanager
    async def lock(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME,
                   wait_time_in_seconds: float = 1) -> AsyncIterator[TicketLock]:
        """Rasa's contract: hold the conversation's lock for the body of the `async with`.

        `wait_time_in_seconds` is the longest a waiter goes without looking (the fallback when no
        wake-up comes); a release wakes it at once."""
        keys = self.keys(conversation_id)
        token = secrets.token_hex(16)
        held = False
        try:
            await self._acquire(keys, token, lock_lifetime, wait_time_in_seconds)
            held = True
            logger.debug("Acquired lock for conversation '%s'.", conversation_id)
            yield TicketLock(conversation_id, deque([Ticket(0, time.time() + lock_lifetime)]))
        finally:
            # shielded: a turn cancelled now still releases, or leaves the queue, in full
            released = await asyncio.shield(self._release(keys, token))
            if held and released is False:
                self.counts.expired_before_release += 1
                logger.warning("The lock of conversation '%s' expired before its turn ended (lifetime %s s).",
                               conversation_id, lock_lifetime)

    def _lease(self, wait: float) -> float:
        """A waiter looks at least every `wait` seconds; it keeps its place for a few of them."""
        return max(self.waiter_lease, 3 * wait)

    async def _acquire(self, keys: ConversationKeys, token: str, lifetime: float, wait: float) -> None:
        lease_ms = _milliseconds(self._lease(wait))
        lifetime_ms = _milliseconds(lifetime)
        loop = asyncio.get_running_loop()
        give_up = loop.time() + (self.max_wait if self.max_wait is not None else 2 * lifetime)
        woken = waited = False
        try:
            await self._enter(keys=[keys.queue, keys.leases], args=[token, lease_ms])
            while True:
                state = await self._take(keys=[keys.holder, keys.queue, keys.leases],
                                         args=[token, lifetime_ms, lease_ms, self.wake_prefix])
                self.counts.looks += 1
                if state == ACQUIRED:
                    self._count_acquired(woken, waited)
                    return
                if state == DROPPED:  # this process stalled past its lease: back in the queue, at its end
                    self.counts.requeued += 1
                    logger.warning("A waiter for '%s' was dropped as gone; queued again.", keys.holder)
                    await self._enter(keys=[keys.queue, keys.leases], args=[token, lease_ms])
                    continue
                if loop.time() >= give_up:
                    self.counts.gave_up += 1
                    raise LockError(f"Could not acquire lock for '{keys.holder}' in time.")
                woken = await self._wait(token, min(wait, give_up - loop.time()))
                waited = True
                if not woken:
                    self.counts.fallback_waits += 1
        except RedisError as error:
            raise LockError(f"Error while acquiring lock. Error:\n{error}") from error

    def _count_acquired(self, woken: bool, waited: bool) -> None:
        if not waited:
            self.counts.at_once += 1
        elif woken:
            self.counts.after_wakeup += 1
        else:
            self.counts.after_fallback += 1

    async def _wait(self, token: str, seconds: float) -> bool:
        """Block until this waiter is woken (True) or `seconds` pass (False)."""
        timeout = min(max(seconds, 0.01), self.socket_timeout / 2)  # BLPOP must answer before the socket times out
        return await self.red.blpop([self.wake_prefix + token], timeout=timeout) is not None

    async def _release(self, keys: ConversationKeys, token: str) -> bool | None:
        """Free the lock if this token holds it (True), leave the queue otherwise; wake the next waiter.
        None if Redis could not be asked: the lock then expires and the waiters' fallback finds it free,
        and the turn's own error, if any, is the one that propagates."""
        try:
            return bool(await self._leave(keys=[keys.holder, keys.queue, keys.leases],
                                          args=[token, _milliseconds(self.waiter_lease), self.wake_prefix]))
        except RedisError:
            logger.exception("Could not release the lock '%s'; it expires with its lifetime.", keys.holder)
            return None
