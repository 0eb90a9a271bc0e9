"""Everything that runs inside the Rasa server, in one room: the channels (`channels/`), the NLU
components (`nlu/`), the conversation store (`tracker_store.py`), the lock store (`lock_store.py`),
our changes to Rasa's own code (`patches.py`, `states.py`, `oldest_first.py`, `action_events.py`,
`action_timeout.py`) and the entry point that applies them (`server.py`, through `startup.py`).
Rasa loads each by its dotted name from config.yml, endpoints.yml and credentials.yml."""
