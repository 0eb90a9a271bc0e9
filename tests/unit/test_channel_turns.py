"""A turn that failed or answered nothing is never silence, unless an advisor has the conversation
(bot/rasa/channels/turns.py): checked in the Rasa venv, where the channels run."""

import subprocess
import textwrap

from tests.conftest import ROOT

SCRIPT = textwrap.dedent('''
    import asyncio, types
    from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
    from bot.rasa.channels.turns import run_turn, technical_problem

    class Tracker:
        def __init__(self, paused): self.paused = paused
        def is_paused(self): return self.paused

    def app(paused):
        async def retrieve(sender_id): return Tracker(paused)
        store = types.SimpleNamespace(retrieve=retrieve)
        agent = types.SimpleNamespace(tracker_store=store, processor=PROCESSOR)
        return types.SimpleNamespace(ctx=types.SimpleNamespace(agent=agent))

    PROCESSOR = types.SimpleNamespace(on_circuit_break=None)

    async def answers(message): await message.output_channel.send_text_message(message.sender_id, "Hola")
    async def silent(message): return None
    async def fails(message): raise RuntimeError("the tracker store is down")

    async def outcome(handler, paused=False):
        out = CollectingOutputChannel()
        return await run_turn(app(paused), handler, UserMessage("hola", out, "telegram:123456789", input_channel="telegram"),
                              lambda: bool(out.messages))

    async def main():
        print(await outcome(answers), await outcome(silent), await outcome(fails), await outcome(silent, paused=True))
        # the broken turn of a failing action ends with action_listen, so the next turn starts afresh
        from rasa.shared.core.trackers import DialogueStateTracker
        tracker = DialogueStateTracker("telegram:1", [])
        PROCESSOR.on_circuit_break(tracker, None, None)
        print("circuit", tracker.latest_action_name)
        print(technical_problem({"INFOMIGRA_CONTACT_EMAIL": "consultas@example.gob.pe"}))
        print(technical_problem({}))

    asyncio.run(main())
''')


def test_a_failed_or_silent_turn_is_reported_unless_the_conversation_is_paused():
    result = subprocess.run([str(ROOT / ".venv/bin/python"), "-c", SCRIPT], cwd=ROOT, capture_output=True, text=True,
                            env={"TF_CPP_MIN_LOG_LEVEL": "3", "PATH": "/usr/bin:/bin"}, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    verdicts, circuit, with_email, without = result.stdout.strip().splitlines()[-4:]
    assert circuit == "circuit action_listen"
    assert verdicts == "True False False True"  # answered, silent, raised, paused
    assert with_email.startswith("Tenemos un problema técnico") and "consultas@example.gob.pe" in with_email
    assert without.startswith("Tenemos un problema técnico") and "@" not in without
    assert "123456789" not in result.stderr  # the failures were logged with the sender masked
    assert "telegram:···6789" in result.stderr
