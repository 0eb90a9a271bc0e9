"""Run code in the Rasa environment (`.venv`) from a test, which runs in ours (`.venv-svc`).

Rasa 3.6 and its pinned libraries live only in `.venv` (README, "Architecture"), so a test of code that
runs inside the Rasa server writes its check as a script and runs it there with `run_in_rasa`: from the
project's root (so `bot` and `tests` import), with a minimal environment, failing with the script's
stderr. Inside such a script, `Stamps` gives events increasing timestamps, as a conversation has.
"""

from __future__ import annotations

import subprocess
from typing import Any

from tests.conftest import ROOT

RASA_PYTHON = ROOT / ".venv/bin/python"
RASA_ENV = {"PATH": "/usr/bin:/bin", "TF_CPP_MIN_LOG_LEVEL": "3", "RASA_TELEMETRY_ENABLED": "false",
            "SQLALCHEMY_SILENCE_UBER_WARNING": "1"}


def run_in_rasa(script: str, *args: str, timeout: float = 300, env: dict[str, str] | None = None) -> str:
    """The script's standard output; the test fails (with its stderr) if it exits with an error. `env`
    adds variables to the minimal environment."""
    result = subprocess.run([str(RASA_PYTHON), "-c", script, *args], cwd=ROOT, capture_output=True, text=True,
                            timeout=timeout, env={**RASA_ENV, **(env or {})})
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


class Stamps:
    """`at(event)`: the event, stamped 1.5 s after the previous one (in a script run by `run_in_rasa`)."""

    def __init__(self, start: float = 1_700_000_000.0, step: float = 1.5) -> None:
        self.now, self.step = start, step

    def __call__(self, event: Any) -> Any:
        self.now += self.step
        event.timestamp = self.now
        return event
