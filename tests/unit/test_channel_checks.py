import asyncio

import pytest

from bot.rasa.channels.checks import is_readable, neutralize
from bot.rasa.channels.serial import SenderLocks


@pytest.mark.parametrize(
    ("typed", "expected"),
    [("/pedir_asesor", "pedir_asesor"), ('  //menu{"x":1}', 'menu{"x":1}'), ("hola /menu", "hola /menu"),
     ("¡Hola!", "¡Hola!")],
)
def test_typed_slash_commands_are_neutralized(typed, expected):
    assert neutralize(typed) == expected


@pytest.mark.parametrize(("text", "readable"), [("", False), ("  \n", False), ("😀🙏", False), ("¿?", False),
                                                ("hola", True), ("2", True), ("ñ", True)])
def test_readable(text, readable):
    assert is_readable(text) is readable


async def test_messages_of_one_sender_run_one_at_a_time_others_in_parallel():
    locks, order = SenderLocks(), []

    async def handle(sender: str, n: int) -> None:
        async with locks.hold(sender):
            order.append((sender, n, "start"))
            await asyncio.sleep(0.01)
            order.append((sender, n, "end"))

    await asyncio.gather(handle("a", 1), handle("a", 2), handle("b", 1))
    a_events = [e for e in order if e[0] == "a"]
    assert a_events == [("a", 1, "start"), ("a", 1, "end"), ("a", 2, "start"), ("a", 2, "end")]
    assert order.index(("b", 1, "start")) < order.index(("a", 1, "end"))
    assert len(locks) == 0


async def test_waiting_messages_take_their_turn_by_the_senders_own_order():
    locks, order = SenderLocks(), []

    async def handle(n: int, delay: float) -> None:
        await asyncio.sleep(delay)
        async with locks.hold("a", order=n):
            order.append(n)
            await asyncio.sleep(0.02)

    # update 3 crossed update 2 on the network; both wait while update 1 is answered
    await asyncio.gather(handle(1, 0), handle(3, 0.001), handle(2, 0.005))
    assert order == [1, 2, 3]
    assert len(locks) == 0


async def test_a_cancelled_waiter_neither_blocks_nor_loses_the_turn():
    locks, order = SenderLocks(), []

    async def handle(n: int) -> None:
        async with locks.hold("a"):
            order.append(n)
            await asyncio.sleep(0.02)

    first = asyncio.create_task(handle(1))
    await asyncio.sleep(0)
    second, third = asyncio.create_task(handle(2)), asyncio.create_task(handle(3))
    await asyncio.sleep(0.005)
    second.cancel()
    await asyncio.gather(first, third)
    assert order == [1, 3]
    assert len(locks) == 0
