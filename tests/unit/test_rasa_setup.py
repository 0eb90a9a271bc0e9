"""`python -m bot.rasa.server` applies our changes to Rasa for `run`, `shell` and `test` (so `rasa test`
predicts with the code the server runs), not for training, and refuses a Rasa version the patches were
not written for. Checked in the Rasa venv itself."""

import textwrap

import pytest

from bot.rasa.patches import RASA_VERSION, WrongRasaVersion, check_version
from tests.rasa_venv import run_in_rasa

SCRIPT = textwrap.dedent('''
    import sys
    import rasa
    version, command = sys.argv[1], sys.argv[2]
    rasa.__version__ = version
    sys.argv = ["rasa", command, "--help"]
    from bot.rasa import server as rasa_server
    try:
        rasa_server.main()
    except SystemExit as stop:
        print("exit:", stop.code if isinstance(stop.code, str) else "")
    from rasa.core.policies.rule_policy import RulePolicy
    from rasa.core.actions import action
    print("patched:", RulePolicy._get_possible_keys.__module__ == "bot.rasa.patches",
          "timeout:", action.DEFAULT_REQUEST_TIMEOUT)
''')


def launch(version: str, command: str) -> str:
    out = run_in_rasa(SCRIPT, version, command, timeout=300)
    return out


@pytest.mark.parametrize("command", ["test", "shell", "run"])
def test_the_commands_that_run_the_model_run_the_patched_code(command):
    out = launch(RASA_VERSION, command)
    assert "patched: True timeout: 10.0" in out


def test_training_runs_rasa_as_it_is():
    out = launch(RASA_VERSION, "train")
    assert "patched: False timeout: 300" in out


def test_another_rasa_version_is_refused_before_anything_runs():
    out = launch("3.6.22", "run")
    assert "exit: bot.rasa.server: bot/rasa/patches.py replaces internals of Rasa 3.6.21 and this is Rasa 3.6.22" in out
    assert "patched: False" in out


def test_the_version_check():
    check_version(RASA_VERSION)
    with pytest.raises(WrongRasaVersion, match="this is Rasa 3.7.0"):
        check_version("3.7.0")


CHANNEL_SCRIPT = textwrap.dedent('''
    from rasa.core.policies.rule_policy import RulePolicy
    from rasa.core.actions import action

    def patched():
        return RulePolicy._get_possible_keys.__module__ == "bot.rasa.patches" and action.DEFAULT_REQUEST_TIMEOUT == 10.0

    from bot.rasa.channels.web import WebInput
    import bot.rasa.channels.rest, bot.rasa.channels.telegram, bot.rasa.channels.whatsapp  # noqa: E401,F401
    print("imported:", patched())
    WebInput.from_credentials({})  # what Rasa does with credentials.yml at server start
    print("built:", patched())
''')


def test_importing_the_channels_changes_nothing_and_rasa_building_one_applies_our_changes():
    out = run_in_rasa(CHANNEL_SCRIPT, timeout=300)
    assert "imported: False" in out and "built: True" in out
