import asyncio

import pytest

from bot.channels.checks import is_readable, neutralize
from bot.channels.serial import SenderLocks


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
    assert locks._locks == {}
