"""Rasa input/output channels of the assistant (run inside the Rasa server, `.venv`).

Modules here may import only what the Rasa environment has: Rasa 3.6's own libraries plus
python-telegram-bot. `checks` holds the rules every channel applies to what people send.

Importing them changes nothing in Rasa. When Rasa builds a channel from credentials.yml (its
`from_credentials`, Rasa's extension point for channels, at server start and after Rasa configured its
logging), the channel applies our changes to Rasa (bot/rasa/startup.py) if `python -m bot.rasa.server`
has not already: a server started as plain `rasa run` runs the same code.
"""
