"""Rasa gives up on a hung action server after ACTION_TIMEOUT_SECONDS, not after five minutes:
checked in the Rasa venv itself, with a channel built as the server builds it from credentials.yml."""

import textwrap

from bot.rasa.action_timeout import DEFAULT_SECONDS, seconds
from tests.rasa_venv import run_in_rasa

SCRIPT = textwrap.dedent('''
    import asyncio, os, sys, time
    from aiohttp import web
    from bot.rasa.channels.rest import CheckedRestInput
    CheckedRestInput.from_credentials(None)  # what the Rasa server does with credentials.yml first
    from rasa.core.actions import action
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.trackers import DialogueStateTracker
    from rasa.utils.endpoints import EndpointConfig

    async def hang(request):
        await asyncio.sleep(60)
        return web.json_response({"events": [], "responses": []})

    async def main():
        app = web.Application()
        app.router.add_post("/webhook", hang)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        remote = RemoteAction("action_answer_topic", EndpointConfig(f"http://127.0.0.1:{port}/webhook"))
        started = time.monotonic()
        try:
            await remote.run(None, None, DialogueStateTracker("s", []), Domain.empty())
            outcome = "answered"
        except asyncio.TimeoutError:
            outcome = "timeout"
        print(action.DEFAULT_REQUEST_TIMEOUT, outcome, round(time.monotonic() - started, 1))
        await runner.cleanup()

    asyncio.run(main())
''')


def test_the_rasa_server_waits_seconds_for_an_action_not_five_minutes():
    out = run_in_rasa(SCRIPT, timeout=120, env={"ACTION_TIMEOUT_SECONDS": "1.5"})
    configured, outcome, waited = out.split()[-3:]
    assert float(configured) == 1.5 and outcome == "timeout"
    assert 1.4 <= float(waited) < 5


def test_the_default_is_ten_seconds_and_nonsense_falls_back_to_it():
    assert DEFAULT_SECONDS == 10 and seconds({}) == 10
    assert seconds({"ACTION_TIMEOUT_SECONDS": "4"}) == 4
    assert seconds({"ACTION_TIMEOUT_SECONDS": "soon"}) == 10 and seconds({"ACTION_TIMEOUT_SECONDS": "0"}) == 10
