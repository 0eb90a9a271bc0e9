"""`rasa …` with the HTTP API's JWT secret taken from the environment, never from the command line, and
with our changes to Rasa applied for `run`, `shell` and `test` (bot/rasa/startup.py).

    RASA_JWT_SECRET=… .venv/bin/python -m bot.rasa.server run --enable-api --model … [other rasa run options]

Rasa 3.6 reads its JWT secret only from `--jwt-secret` (rasa/cli/arguments/run.py: no environment
variable), and a command line is readable by every user of the machine (`ps`, /proc/<pid>/cmdline).
This launcher adds `--jwt-secret` and `--jwt-method HS256` to Rasa's own argument list inside the
process (the process's visible command line stays without it), then runs Rasa's CLI unchanged.

With `--enable-api` it refuses to start without RASA_JWT_SECRET (at least 32 characters), and it
refuses `--auth-token`/`--jwt-secret` on the command line: the API accepts only short-lived HS256
tokens signed with the secret (bot/rasa_jwt.py), sent as `Authorization: Bearer`, never `?token=`.
"""

from __future__ import annotations

import os
import sys

from bot.rasa_jwt import MIN_SECRET_CHARS, SECRET_ENV

FORBIDDEN = ("-t", "--auth-token", "--jwt-secret", "--jwt-method", "--jwt-private-key")


def rasa_argv(argv: list[str], env: dict[str, str] | os._Environ) -> list[str]:
    for arg in argv:
        if arg.split("=", 1)[0] in FORBIDDEN or (arg.startswith("-t") and not arg.startswith("--")):  # also -tX
            raise SystemExit(f"bot.rasa.server: {arg.split('=', 1)[0]} is not accepted on the command line; "
                             f"the HTTP API's secret comes from {SECRET_ENV}")
    if "--enable-api" not in argv:
        return argv
    secret = env.get(SECRET_ENV, "").strip()
    if len(secret) < MIN_SECRET_CHARS:
        raise SystemExit(f"bot.rasa.server: {SECRET_ENV} is {'too short' if secret else 'not set'}: Rasa's HTTP API "
                         f"does not start without a secret of at least {MIN_SECRET_CHARS} characters "
                         "(`make run` generates one per run)")
    return [*argv, f"--jwt-secret={secret}", "--jwt-method=HS256"]  # "=": a secret may start with "-"


# Subcommands that run the assistant's model: they run with our changes to Rasa (bot/rasa/startup.py), so
# `rasa test` checks the predictions of the code the server runs. Training and data checks run Rasa as is.
PATCHED_COMMANDS = ("run", "shell", "test")


def main() -> None:
    sys.argv = [sys.argv[0], *rasa_argv(sys.argv[1:], os.environ)]
    if len(sys.argv) > 1 and sys.argv[1] in PATCHED_COMMANDS:
        from bot.rasa import patches, startup

        try:
            startup.apply()
        except patches.WrongRasaVersion as error:
            raise SystemExit(f"bot.rasa.server: {error}") from None
    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":
    main()
