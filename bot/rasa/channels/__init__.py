"""Rasa input/output channels of the assistant (run inside the Rasa server, `.venv`).

Modules here may import only what the Rasa environment has: Rasa 3.6's own libraries plus
python-telegram-bot. `checks` holds the rules every channel applies to what people send.
"""

from bot.rasa import startup

# Our channels load first in the Rasa server (credentials.yml), after Rasa has configured its logging.
startup.apply()
