"""The flood limits of the public channels (bot/rasa/channels/limits.py), on a clock the test drives."""

from __future__ import annotations

import pytest

from bot.rasa.channels.limits import TOO_MANY, FloodGuard, RateLimit, client_address, trusted_networks


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock():
    return Clock()


def test_the_polite_text():
    assert TOO_MANY == "Estás enviando muchos mensajes seguidos. Espera un momento y vuelve a escribir."


def test_a_sender_gets_its_limit_at_once_then_one_message_per_refill(clock):
    guard = FloodGuard(sender_per_minute=20, address_per_minute=0, clock=clock)
    assert all(guard.check("web:a").allowed for _ in range(20))
    refused = guard.check("web:a")
    assert not refused.allowed and refused.limit == "sender" and refused.notify
    assert refused.retry_after == pytest.approx(3.0)  # 60 s / 20
    assert refused.retry_after_header == "3"
    clock.advance(3.0)
    assert guard.check("web:a").allowed
    assert not guard.check("web:a").allowed
    clock.advance(60)
    assert sum(guard.check("web:a").allowed for _ in range(30)) == 20  # refills to the limit, no further


def test_the_person_is_told_once_per_spell_of_refused_messages(clock):
    guard = FloodGuard(sender_per_minute=2, address_per_minute=0, clock=clock)
    verdicts = [guard.check("telegram:1") for _ in range(10)]
    assert [v.allowed for v in verdicts] == [True, True] + [False] * 8
    assert [v.notify for v in verdicts[2:]] == [True] + [False] * 7
    clock.advance(30)  # one message allowed again: the spell is over
    assert guard.check("telegram:1").allowed
    again = [guard.check("telegram:1") for _ in range(3)]
    assert [v.notify for v in again] == [True, False, False]


def test_refused_messages_cost_nothing(clock):
    """A flood does not push its own sender's next allowed message further away."""
    guard = FloodGuard(sender_per_minute=6, address_per_minute=0, clock=clock)
    for _ in range(6):
        guard.check("a")
    for _ in range(1000):
        assert not guard.check("a").allowed
    clock.advance(10)  # 60 s / 6
    assert guard.check("a").allowed


def test_one_flooding_sender_never_limits_another(clock):
    guard = FloodGuard(sender_per_minute=20, address_per_minute=0, clock=clock)
    flood = [guard.check("whatsapp:+51900000001").allowed for _ in range(500)]
    assert sum(flood) == 20
    assert all(guard.check("whatsapp:+51900000002").allowed for _ in range(20))


def test_one_address_is_limited_across_senders_and_another_address_is_not(clock):
    guard = FloodGuard(sender_per_minute=20, address_per_minute=60, clock=clock)
    allowed = [guard.check(f"web:{i}", "203.0.113.5").allowed for i in range(200)]  # a new session each time
    assert sum(allowed) == 60 and allowed[:60] == [True] * 60
    refused = guard.check("web:new", "203.0.113.5")
    assert not refused.allowed and refused.limit == "address" and refused.notify
    assert guard.check("web:other", "198.51.100.7").allowed
    # A refusal by the address does not count against the sender either.
    assert all(guard.check("web:199", "198.51.100.7").allowed for _ in range(20))


def test_a_message_refused_by_the_address_does_not_use_the_senders_allowance(clock):
    guard = FloodGuard(sender_per_minute=5, address_per_minute=3, clock=clock)
    for i in range(3):
        assert guard.check(f"s{i}", "203.0.113.5").allowed
    for _ in range(10):
        assert not guard.check("s9", "203.0.113.5").allowed
    assert all(guard.check("s9", f"198.51.100.{i}").allowed for i in range(5))


def test_zero_switches_a_limit_off(clock):
    guard = FloodGuard(sender_per_minute=0, address_per_minute=0, connections_per_address=0, clock=clock)
    assert all(guard.check("a", "127.0.0.1").allowed for _ in range(10_000))
    assert all(guard.connect("127.0.0.1") for _ in range(1000))


def test_settings_come_from_the_environment():
    guard = FloodGuard.from_env({"FLOOD_SENDER_PER_MINUTE": "5", "FLOOD_ADDRESS_PER_MINUTE": "0",
                                 "FLOOD_WEB_CONNECTIONS_PER_ADDRESS": "2", "FLOOD_TRUSTED_PROXIES": "10.0.0.0/8"})
    assert (guard.senders.capacity, guard.addresses.enabled, guard.connections_per_address) == (5, False, 2)
    default = FloodGuard.from_env({"FLOOD_SENDER_PER_MINUTE": "lots"})
    assert (default.senders.capacity, default.addresses.capacity, default.connections_per_address) == (20, 60, 20)
    assert default.trusted == ()


def test_widget_connections_per_address_are_capped_and_released():
    guard = FloodGuard(connections_per_address=2)
    assert guard.connect("203.0.113.5") and guard.connect("203.0.113.5")
    assert not guard.connect("203.0.113.5")
    assert guard.connect("198.51.100.7")  # another address is not affected
    guard.disconnect("203.0.113.5")
    assert guard.connect("203.0.113.5")
    for _ in range(5):
        guard.disconnect("203.0.113.5")
    assert guard.open_connections("203.0.113.5") == 0


def test_idle_keys_are_forgotten_so_new_senders_cannot_grow_the_state(clock):
    limit = RateLimit(10, clock, sweep_at=100)
    for i in range(1000):
        limit.take(f"sender-{i}")
        clock.advance(6.1)  # each bucket is full again by the time the next sweep looks at it
    assert len(limit) <= 101


@pytest.mark.parametrize(("peer", "forwarded", "trusted", "expected"), [
    ("203.0.113.5", None, "", "203.0.113.5"),
    ("203.0.113.5", "198.51.100.1", "", "203.0.113.5"),  # no trusted proxy: the header is anyone's to write
    ("203.0.113.5", "198.51.100.1", "127.0.0.1", "203.0.113.5"),  # not from the proxy
    ("127.0.0.1", "198.51.100.1", "127.0.0.1", "198.51.100.1"),
    ("127.0.0.1", "6.6.6.6, 198.51.100.1", "127.0.0.1", "198.51.100.1"),  # the left part is the client's own
    ("10.0.0.2", "198.51.100.1, 10.0.0.9", "10.0.0.0/8", "198.51.100.1"),  # two proxies
    ("127.0.0.1", "garbage", "127.0.0.1", "127.0.0.1"),
    ("127.0.0.1", "[2001:db8::1]:443", "127.0.0.1", "2001:db8::1"),
    ("127.0.0.1", "198.51.100.1:5000", "127.0.0.1", "198.51.100.1"),
    ("", None, "", "unknown"),
])
def test_the_client_address_trusts_forwarded_for_only_from_a_trusted_proxy(peer, forwarded, trusted, expected):
    assert client_address(peer, forwarded, trusted_networks(trusted)) == expected
