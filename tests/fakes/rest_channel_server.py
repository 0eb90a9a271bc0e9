"""The REST channel (bot.rasa.channels.rest.CheckedRestInput) alone on a Sanic server, for its tests.

    .venv/bin/python -m tests.fakes.rest_channel_server PORT

Instead of the assistant, each message that reaches Rasa's side is answered with one text: the JSON
of what the channel handed on (text, sender, input channel, metadata). Run with Rasa's environment.
"""

from __future__ import annotations

import json
import sys

from rasa.core.channels.channel import UserMessage
from sanic import Sanic

from bot.rasa.channels.rest import CheckedRestInput


def main() -> None:
    port = int(sys.argv[1])
    app = Sanic("rest_channel_test")
    channel = CheckedRestInput()

    async def on_new_message(message: UserMessage) -> None:
        handed = {"text": message.text, "sender": message.sender_id, "input_channel": message.input_channel,
                  "metadata": message.metadata}
        await message.output_channel.send_text_message(message.sender_id, json.dumps(handed))

    app.blueprint(channel.blueprint(on_new_message), url_prefix="/webhooks/rest")
    app.run("127.0.0.1", port, access_log=False)


if __name__ == "__main__":
    main()
