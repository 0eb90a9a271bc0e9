"""Flood limits of the public channels, before a message reaches Rasa. No Rasa imports here.

One Rasa process serves every conversation on one event loop, so a script that sends messages as
fast as it can would slow everybody down. Each channel asks `FloodGuard.check(sender, address)`
before handing a message on:

- per sender (the conversation: `web:<uuid>`, `telegram:<chat id>`, `whatsapp:+51…`, a REST
  sender): `FLOOD_SENDER_PER_MINUTE` messages a minute (default 20);
- per source address (web widget and REST; WhatsApp and Telegram messages come from Twilio's and
  Telegram's servers, so there it is per sender only): `FLOOD_ADDRESS_PER_MINUTE` (default 60);
- per address, simultaneous web widget connections: `FLOOD_WEB_CONNECTIONS_PER_ADDRESS` (default 20).

0 switches a limit off. Each limit is a token bucket: a burst up to the limit at once, then the
limit per minute, refilled continuously; a refused message costs nothing, so a flood never
starves its own sender for longer than the refill. Over a limit, the message is dropped before
Rasa (the REST channel answers 429 with Retry-After) and the person gets TOO_MANY once per spell
of refused messages, not once per message. State is in this process (one Rasa process, as the
in-memory lock store assumes); idle keys are forgotten, so a flood of new senders cannot grow it
without bound.

The source address is the TCP peer's. Behind a reverse proxy every request comes from the proxy,
so `FLOOD_TRUSTED_PROXIES` (comma-separated addresses or networks, e.g. `127.0.0.1,10.0.0.0/8`)
names the proxies whose `X-Forwarded-For` is believed: the client is the right-most address in it
that is not itself a trusted proxy. Without that variable the header is ignored (anyone can write it).
"""

from __future__ import annotations

import ipaddress
import logging
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

logger = logging.getLogger(__name__)

TOO_MANY = "Estás enviando muchos mensajes seguidos. Espera un momento y vuelve a escribir."
TOO_MANY_CONNECTIONS = ("Hay demasiadas ventanas del chat abiertas desde tu conexión. Cierra alguna y vuelve a "
                        "intentarlo en un momento.")

SENDER_ENV = "FLOOD_SENDER_PER_MINUTE"
ADDRESS_ENV = "FLOOD_ADDRESS_PER_MINUTE"
CONNECTIONS_ENV = "FLOOD_WEB_CONNECTIONS_PER_ADDRESS"
TRUSTED_PROXIES_ENV = "FLOOD_TRUSTED_PROXIES"
DEFAULTS = {SENDER_ENV: 20, ADDRESS_ENV: 60, CONNECTIONS_ENV: 20}
# Keys kept before idle ones are swept (a full bucket is the same as no entry at all).
SWEEP_AT = 10_000

Clock = Callable[[], float]


class _Bucket:
    __slots__ = ("tokens", "at", "refused")

    def __init__(self, tokens: float, at: float) -> None:
        self.tokens, self.at, self.refused = tokens, at, False


class RateLimit:
    """Token buckets per key: `per_minute` at once, refilled at `per_minute` a minute."""

    def __init__(self, per_minute: int, clock: Clock = time.monotonic, sweep_at: int = SWEEP_AT) -> None:
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0  # tokens per second
        self.clock = clock
        self.sweep_at = sweep_at
        self._buckets: dict[str, _Bucket] = {}

    @property
    def enabled(self) -> bool:
        return self.capacity > 0

    def __len__(self) -> int:
        return len(self._buckets)

    def _bucket(self, key: str, now: float) -> _Bucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self.sweep_at:
                self._sweep(now)
            bucket = self._buckets[key] = _Bucket(self.capacity, now)
        else:
            bucket.tokens = min(self.capacity, bucket.tokens + (now - bucket.at) * self.rate)
            bucket.at = now
        return bucket

    def _sweep(self, now: float) -> None:
        full = [k for k, b in self._buckets.items() if b.tokens + (now - b.at) * self.rate >= self.capacity]
        for key in full:
            del self._buckets[key]

    def wait(self, key: str) -> float:
        """Seconds until `key` may send one more message (0: now). Takes nothing."""
        if not self.enabled:
            return 0.0
        bucket = self._bucket(key, self.clock())
        return 0.0 if bucket.tokens >= 1 else (1 - bucket.tokens) / self.rate

    def take(self, key: str) -> None:
        if self.enabled:
            bucket = self._bucket(key, self.clock())
            bucket.tokens -= 1
            bucket.refused = False
        elif key in self._buckets:  # off, but marked refused by another limit: that spell is over
            self._buckets[key].refused = False

    def refused(self, key: str) -> bool:
        """Mark `key` refused; True only for the first refusal of a spell (then: tell the person)."""
        bucket = self._bucket(key, self.clock())
        first, bucket.refused = not bucket.refused, True
        return first


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    notify: bool = False  # refused, and the first refusal of this spell: tell the person once
    retry_after: float = 0.0  # seconds
    limit: str = ""  # "sender" or "address"

    @property
    def retry_after_header(self) -> str:
        return str(max(1, int(self.retry_after + 0.999)))


def _per_minute(env: Mapping[str, str], name: str) -> int:
    raw = (env.get(name) or "").strip()
    if not raw:
        return DEFAULTS[name]
    try:
        value = int(raw)
        if value < 0:
            raise ValueError
        return value
    except ValueError:
        logger.warning("%s must be a whole number ≥ 0 (0: no limit), not %r; using %s", name, raw, DEFAULTS[name])
        return DEFAULTS[name]


def trusted_networks(value: str | None) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    networks = []
    for item in (value or "").split(","):
        item = item.strip()
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            logger.warning("%s: %r is not an address or network; ignored", TRUSTED_PROXIES_ENV, item)
    return tuple(networks)


def _address(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    value = value.strip()
    if value.startswith("[") and "]" in value:  # "[::1]:443"
        value = value[1:value.index("]")]
    elif value.count(":") == 1:  # "203.0.113.7:5000"
        value = value.split(":")[0]
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return None


def client_address(peer: str | None, forwarded_for: str | None,
                   trusted: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]) -> str:
    """The client's address: the TCP peer, or, when the peer is a trusted proxy, the right-most
    address of `X-Forwarded-For` that is not a trusted proxy (the left part is the client's to write)."""
    peer = (peer or "").strip()
    peer_ip = _address(peer)
    if peer_ip is None:
        return peer or "unknown"

    def is_trusted(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
        return any(ip in network for network in trusted)

    if not trusted or not is_trusted(peer_ip) or not forwarded_for:
        return str(peer_ip)
    client = peer_ip
    for hop in reversed(forwarded_for.split(",")):
        ip = _address(hop)
        if ip is None:
            break  # garbage: the last good address is as far as the header can be believed
        client = ip
        if not is_trusted(ip):
            break
    return str(client)


class FloodGuard:
    """The limits of one channel (each channel has its own guard; the settings are shared)."""

    def __init__(self, sender_per_minute: int = DEFAULTS[SENDER_ENV], address_per_minute: int = DEFAULTS[ADDRESS_ENV],
                 connections_per_address: int = DEFAULTS[CONNECTIONS_ENV], trusted_proxies: str | None = None,
                 clock: Clock = time.monotonic) -> None:
        self.senders = RateLimit(sender_per_minute, clock)
        self.addresses = RateLimit(address_per_minute, clock)
        self.connections_per_address = connections_per_address
        self.trusted = trusted_networks(trusted_proxies)
        self._connections: dict[str, int] = {}

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, clock: Clock = time.monotonic) -> FloodGuard:
        env = os.environ if env is None else env
        return cls(_per_minute(env, SENDER_ENV), _per_minute(env, ADDRESS_ENV), _per_minute(env, CONNECTIONS_ENV),
                   env.get(TRUSTED_PROXIES_ENV), clock)

    def address(self, peer: str | None, forwarded_for: str | None = None) -> str:
        return client_address(peer, forwarded_for, self.trusted)

    def check(self, sender: str, address: str | None = None) -> Verdict:
        """One message of `sender` from `address` (None: not known, e.g. WhatsApp and Telegram).
        Allowed: it counts against both limits. Refused: it counts against neither."""
        limits = [("sender", self.senders, sender)]
        if address is not None:
            limits.append(("address", self.addresses, address))
        for name, limit, key in limits:
            wait = limit.wait(key)
            if wait > 0:
                # Tell the person once per spell: the sender's first refusal, whichever limit refused.
                notify = self.senders.refused(sender)
                if name == "address":
                    limit.refused(key)
                return Verdict(False, notify, wait, name)
        for _, limit, key in limits:
            limit.take(key)
        return Verdict(True)

    # web widget connections ------------------------------------------------------------------------
    def connect(self, address: str) -> bool:
        """A new widget connection from `address`; False (refuse it) when that address has too many open."""
        count = self._connections.get(address, 0)
        if self.connections_per_address and count >= self.connections_per_address:
            return False
        self._connections[address] = count + 1
        return True

    def disconnect(self, address: str) -> None:
        count = self._connections.get(address, 0) - 1
        if count > 0:
            self._connections[address] = count
        else:
            self._connections.pop(address, None)

    def open_connections(self, address: str) -> int:
        return self._connections.get(address, 0)
