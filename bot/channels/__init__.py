"""Rasa input/output channels of the assistant (run inside the Rasa server, `.venv`).

Modules here may import only what the Rasa environment has: Rasa 3.6's own libraries plus
python-telegram-bot. `checks` holds the rules every channel applies to what people send.
"""

from bot import action_timeout, logsafe, rasa_patches, sanic_accept

# Our channels load first in the Rasa server (credentials.yml): the place to speed Rasa up.
rasa_patches.apply()
# Sanic 21.12 answers 500 to any 404/405 whose request has a malformed Accept header (bot/sanic_accept.py).
sanic_accept.apply()
# Rasa waits five minutes for a custom action; a person should not (bot/action_timeout.py).
action_timeout.apply()
# python-telegram-bot's httpx logs every Bot API URL, bot token included, at INFO.
logsafe.quiet_url_loggers()
# Rasa's own log lines name conversations ("…for sender 'whatsapp:+51…'"): its handlers mask them.
logsafe.mask_senders_in_handlers()
