"""What our code changes inside the Rasa process, in one place.

Called by `python -m bot.rasa.server` before Rasa's CLI runs `run`, `shell` or `test` (so `rasa test`
predicts with the same patched code the server runs), and by each of our input channels when Rasa builds
it from credentials.yml (`from_credentials`: a server started some other way). Each step applies once;
importing our modules applies nothing.
"""

from __future__ import annotations

from bot import logsafe, sanic_accept
from bot.rasa import action_timeout, patches


def apply() -> None:
    # Speed (bot/rasa/patches.py); refuses a Rasa version the patches were not written for.
    patches.apply()
    # Sanic 21.12 answers 500 to any 404/405 whose request has a malformed Accept header (bot/sanic_accept.py).
    sanic_accept.apply()
    # Rasa waits five minutes for a custom action; a person should not (bot/rasa/action_timeout.py).
    action_timeout.apply()
    # python-telegram-bot's httpx logs every Bot API URL, bot token included, at INFO.
    logsafe.quiet_url_loggers()
    # Rasa's own log lines name conversations ("…for sender 'whatsapp:+51…'"): its handlers mask them
    # (the handlers Rasa has configured by then; `run` loads the channels after configuring logging).
    logsafe.mask_senders_in_handlers()
