"""Messages take their turns on the CPU oldest first (bot/rasa/oldest_first.py), on asyncio's loop and on
uvloop (the Rasa server's, through Sanic), and nothing is lost on the way: results, errors,
cancellations, nested calls."""

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

import pytest
import uvloop

from bot.rasa.oldest_first import OldestFirst

LOOPS = {"asyncio": asyncio.new_event_loop, "uvloop": uvloop.new_event_loop}


@pytest.fixture(params=sorted(LOOPS))
def run(request: pytest.FixtureRequest) -> Callable[[Coroutine[Any, Any, Any]], Any]:
    def run(main: Coroutine[Any, Any, Any]) -> Any:
        loop = LOOPS[request.param]()
        try:
            return loop.run_until_complete(asyncio.wait_for(main, 5))
        finally:
            loop.close()

    return run


async def ticks(n: int = 5) -> None:
    for _ in range(n):
        await asyncio.sleep(0)


class Conversation:
    """A message that works, waits for the action server (a future the test completes), works on."""

    def __init__(self, name: str, log: list[str]) -> None:
        self.name, self.log = name, log
        self.action: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    async def handle(self) -> str:
        self.log.append(f"{self.name} parse")
        answer = await self.action
        self.log.append(f"{self.name} {answer}")
        return answer


def wrapped(turns: OldestFirst | None, coroutine: Coroutine[Any, Any, Any]) -> Any:
    return coroutine if turns is None else turns.run(coroutine)


async def scenario(turns: OldestFirst | None) -> list[str]:
    """A and B start and wait for their actions; then, in one go, B's action answers, C arrives and
    A's action answers. Ready in the order B, C, A; oldest first means A, B, C."""
    log: list[str] = []
    a, b, c = (Conversation(name, log) for name in "ABC")
    task_a = asyncio.create_task(wrapped(turns, a.handle()))
    await ticks()
    task_b = asyncio.create_task(wrapped(turns, b.handle()))
    await ticks()
    b.action.set_result("answer")
    task_c = asyncio.create_task(wrapped(turns, c.handle()))
    a.action.set_result("answer")
    c.action.set_result("answer")
    assert await asyncio.gather(task_a, task_b, task_c) == ["answer"] * 3
    return log


def test_without_turns_the_loop_runs_whatever_became_ready_first(run: Callable) -> None:
    # The control: asyncio alone resumes B and runs C (its action already answered) before A, the oldest.
    log = run(scenario(None))
    assert log == ["A parse", "B parse", "B answer", "C parse", "C answer", "A answer"]


def test_the_oldest_ready_message_goes_first(run: Callable) -> None:
    log = run(scenario(OldestFirst()))
    assert log == ["A parse", "B parse", "A answer", "B answer", "C parse", "C answer"]


def test_a_message_waiting_on_the_network_does_not_hold_the_others(run: Callable) -> None:
    async def main() -> list[str]:
        turns, log = OldestFirst(), []
        slow, fast = Conversation("slow", log), Conversation("fast", log)
        slow_task = asyncio.create_task(turns.run(slow.handle()))
        await ticks()
        fast_task = asyncio.create_task(turns.run(fast.handle()))
        fast.action.set_result("answer")
        assert await fast_task == "answer"  # done while the older message still waits for its action
        assert not slow_task.done()
        slow.action.set_result("late")
        assert await slow_task == "late"
        return log

    assert run(main()) == ["slow parse", "fast parse", "fast answer", "slow late"]


def test_errors_reach_the_caller_and_free_the_turn(run: Callable) -> None:
    async def fails() -> None:
        await asyncio.sleep(0)
        raise ValueError("broken action")

    async def recovers(future: asyncio.Future[str]) -> str:
        try:
            return await future
        except ConnectionError as error:  # an error from what it awaited reaches it where it waits
            return f"recovered from {error}"

    async def main() -> None:
        turns = OldestFirst()
        with pytest.raises(ValueError, match="broken action"):
            await turns.run(fails())
        future = asyncio.get_running_loop().create_future()
        task = asyncio.create_task(turns.run(recovers(future)))
        await ticks()
        future.set_exception(ConnectionError("action server down"))
        assert await task == "recovered from action server down"
        assert await turns.run(asyncio.sleep(0, result="still served")) == "still served"

    run(main())


def test_a_cancelled_message_frees_its_place(run: Callable) -> None:
    async def main() -> None:
        turns, log = OldestFirst(), []
        first, second, third = (Conversation(name, log) for name in ("first", "second", "third"))
        first_task = asyncio.create_task(turns.run(first.handle()))
        await ticks()
        # second and third become ready together; second is cancelled while it waits for its turn
        second_task = asyncio.create_task(turns.run(second.handle()))
        third_task = asyncio.create_task(turns.run(third.handle()))
        await asyncio.sleep(0)
        second_task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await second_task
        third.action.set_result("answer")
        assert await third_task == "answer"
        first_task.cancel()  # cancelled while it waits on the network: it unwinds, in its turn
        with pytest.raises(asyncio.CancelledError):
            await first_task
        assert "first answer" not in log and "second answer" not in log
        assert await turns.run(asyncio.sleep(0, result="next")) == "next"

    run(main())


def test_a_message_cancelled_in_the_queue_can_clean_up_in_turns(run: Callable) -> None:
    async def main() -> list[str]:
        turns, log = OldestFirst(), []
        older = [Conversation(f"older{n}", log) for n in range(10)]
        action: asyncio.Future[str] = asyncio.get_running_loop().create_future()

        async def cleans_up() -> None:
            try:
                log.append("waits")
                await action
                log.append("never")
            except asyncio.CancelledError:
                for _ in range(3):  # the clean-up itself waits, e.g. closing a connection
                    log.append("cleaning")
                    await asyncio.sleep(0)
                raise

        older_tasks = [asyncio.create_task(turns.run(conversation.handle())) for conversation in older]
        task = asyncio.create_task(turns.run(cleans_up()))
        while len(log) < 11:
            await asyncio.sleep(0)
        for conversation in older:  # ten older answers and its own come back together: it queues
            conversation.action.set_result("answer")
        action.set_result("answer")
        for _ in range(3):
            await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert await asyncio.gather(*older_tasks) == ["answer"] * 10
        assert await turns.run(asyncio.sleep(0, result="next")) == "next"
        return log

    log = run(main())
    assert log.count("cleaning") == 3 and "never" not in log
    assert [entry for entry in log if entry.endswith("answer")] == [f"older{n} answer" for n in range(10)]


def test_a_nested_call_runs_in_the_turn_of_its_caller(run: Callable) -> None:
    async def main() -> str:
        turns = OldestFirst()

        async def inner() -> str:
            await asyncio.sleep(0)
            return "inner"

        async def outer() -> str:
            return "outer+" + await turns.run(inner())

        return await turns.run(outer())

    assert run(main()) == "outer+inner"


async def finish_order(turns: OldestFirst | None) -> list[int]:
    """50 messages wait for their actions; the answers come back all at once, youngest first."""
    log: list[str] = []
    conversations = [Conversation(str(n), log) for n in range(50)]
    tasks = [asyncio.create_task(wrapped(turns, conversation.handle())) for conversation in conversations]
    while len(log) < 50:  # every message parsed and waiting for its action
        await asyncio.sleep(0)
    for conversation in reversed(conversations):
        conversation.action.set_result("answer")
    await asyncio.gather(*tasks)
    return [int(entry.split()[0]) for entry in log if entry.endswith("answer")]


def test_many_messages_are_answered_in_order_of_arrival(run: Callable) -> None:
    assert run(finish_order(None)) == list(reversed(range(50)))  # the control: in the order they became ready
    assert run(finish_order(OldestFirst())) == list(range(50))
