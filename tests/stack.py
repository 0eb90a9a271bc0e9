"""Start the real assistant on loopback: the action server and the Rasa server, each its own process.

Used by the end-to-end tests and by the benchmark. Every process gets free ports, a fresh SQLite
tracker store in a temporary folder, and is stopped (and reaped) at the end.

Every credential is fresh per stack, as with `make run`: the action server's shared secret
(ACTION_SERVER_SECRET, sent by Rasa from the generated endpoints.yml), the REST channel's bearer token
(REST_CHANNEL_TOKEN: `say()` and `rest_headers()`) and the HTTP API's JWT secret (RASA_JWT_SECRET:
`api_headers()` signs a short-lived admin JWT; the API takes no `?token=`).
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from bot.rasa_jwt import auth_headers

ROOT = Path(__file__).resolve().parent.parent
# INFOMIGRA_MODEL lets a developer test a model trained elsewhere (e.g. on a branch of the data).
MODEL = Path(os.environ.get("INFOMIGRA_MODEL", ROOT / "models" / "infomigra.tar.gz"))


# The flood limits (bot/rasa/channels/limits.py) are off unless a test sets them (tests/e2e/test_flood.py,
# test_webchat.py): every test client is one address (127.0.0.1), and a scripted conversation sends a
# person's messages faster than any person does.
LOOPBACK_FLOOD_LIMITS = {"FLOOD_SENDER_PER_MINUTE": "0", "FLOOD_ADDRESS_PER_MINUTE": "0",
                         "FLOOD_WEB_CONNECTIONS_PER_ADDRESS": "0"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Stack:
    rasa_url: str
    actions_url: str
    jwt_secret: str
    rest_token: str
    action_secret: str
    rasa: subprocess.Popen
    actions: subprocess.Popen
    log_dir: Path
    env: dict[str, str]  # the environment of both servers (with the secrets above), e.g. to restart one
    database_url: str = ""
    start_actions: Callable[[], subprocess.Popen] | None = None
    load_seconds: float = 0.0

    def kill_actions(self) -> None:
        """SIGKILL the action server, as a crash would."""
        os.killpg(self.actions.pid, signal.SIGKILL)
        self.actions.wait()

    def restart_actions(self) -> None:
        assert self.start_actions is not None
        self.actions = self.start_actions()
        _wait(f"{self.actions_url}/health", self.actions, self.log_dir / "actions.log", 60)

    def webhook(self) -> str:
        return f"{self.rasa_url}/webhooks/rest/webhook"

    def rest_headers(self) -> dict[str, str]:
        """What a REST channel client must send."""
        return {"Authorization": f"Bearer {self.rest_token}"}

    def api_headers(self) -> dict[str, str]:
        """What a caller of Rasa's HTTP API must send: a fresh admin JWT (valid for a minute)."""
        return auth_headers(self.jwt_secret, "tests")

    def say(self, sender: str, text: str, client: httpx.Client | None = None) -> list[dict]:
        post = (client or httpx).post
        response = post(self.webhook(), json={"sender": sender, "message": text}, headers=self.rest_headers(), timeout=60)
        response.raise_for_status()
        return response.json()

    def parse(self, text: str) -> dict:
        """What the model understands of a message (Rasa's /model/parse): intent, entities, ranking."""
        response = httpx.post(f"{self.rasa_url}/model/parse", json={"text": text}, headers=self.api_headers(), timeout=30)
        response.raise_for_status()
        return response.json()

    def tracker(self, sender: str) -> dict:
        response = httpx.get(f"{self.rasa_url}/conversations/{sender}/tracker", headers=self.api_headers(), timeout=30)
        response.raise_for_status()
        return response.json()


def _wait(url: str, proc: subprocess.Popen, log: Path, timeout: float,
          headers: Callable[[], dict[str, str]] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args[0]} exited with {proc.returncode}; log:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(url, headers=headers() if headers else None, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise TimeoutError(f"{url} not ready after {timeout:.0f}s; log:\n{log.read_text()[-3000:]}")


def stop_group(proc: subprocess.Popen, timeout: float = 20) -> None:
    """Stop a process started with start_new_session and everything it started: SIGTERM, then SIGKILL."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@contextmanager
def running_stack(work_dir: Path, extra_env: dict[str, str] | None = None,
                  credentials: Path = ROOT / "credentials.yml", tracker_store: str | None = None) -> Iterator[Stack]:
    """The whole assistant on free loopback ports, with its own SQLite files under `work_dir`
    (or DATABASE_URL from `extra_env`). `extra_env` configures channels (secrets, fake API URLs);
    `tracker_store`, the keys of endpoints.yml's `tracker_store` (indented YAML) instead of a SQLite file."""
    if not MODEL.exists():
        raise RuntimeError(f"{MODEL} is missing: run `make train` first")
    work_dir.mkdir(parents=True, exist_ok=True)
    rasa_port, actions_port = free_port(), free_port()
    secrets_env = {"RASA_JWT_SECRET": secrets.token_urlsafe(32), "REST_CHANNEL_TOKEN": secrets.token_urlsafe(32),
                   "ACTION_SERVER_SECRET": secrets.token_urlsafe(32)}
    endpoints = work_dir / "endpoints.yml"
    endpoints.write_text(
        f"action_endpoint:\n  url: http://127.0.0.1:{actions_port}/webhook\n  enable_selective_domain: true\n"
        "  headers:\n    Authorization: Bearer ${ACTION_SERVER_SECRET}\n"
        "tracker_store:\n" + (tracker_store or f"  type: bot.rasa.tracker_store.SQLTrackerStore\n  dialect: sqlite\n"
                                                f"  db: {work_dir / 'tracker.db'}\n  cache_size: 1000\n")
    )
    env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2",
           "SQLALCHEMY_SILENCE_UBER_WARNING": "1", "DATABASE_URL": f"sqlite:///{work_dir / 'infomigra.db'}",
           **LOOPBACK_FLOOD_LIMITS, **secrets_env, **(extra_env or {})}
    subprocess.run([str(ROOT / ".venv-svc/bin/infomigra"), "db", "upgrade"], cwd=ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL)
    actions_log, rasa_log = work_dir / "actions.log", work_dir / "rasa.log"

    def start_actions() -> subprocess.Popen:
        return subprocess.Popen(
            [str(ROOT / ".venv-svc/bin/python"), "-m", "bot.action_server", "--actions", "actions",
             "--port", str(actions_port)],
            cwd=ROOT, env=env, stdout=actions_log.open("a"), stderr=subprocess.STDOUT, start_new_session=True,
        )

    actions = start_actions()
    started = time.monotonic()
    rasa = subprocess.Popen(
        [str(ROOT / ".venv/bin/python"), "-m", "bot.rasa.server", "run", "--model", str(MODEL),
         "--endpoints", str(endpoints), "--credentials", str(credentials), "--port", str(rasa_port),
         "--interface", "127.0.0.1", "--enable-api"],  # the JWT secret comes from RASA_JWT_SECRET
        cwd=ROOT, env=env, stdout=rasa_log.open("w"), stderr=subprocess.STDOUT, start_new_session=True,
    )
    stack = Stack(f"http://127.0.0.1:{rasa_port}", f"http://127.0.0.1:{actions_port}", env["RASA_JWT_SECRET"],
                  env["REST_CHANNEL_TOKEN"], env["ACTION_SERVER_SECRET"], rasa, actions, work_dir, env,
                  database_url=env["DATABASE_URL"], start_actions=start_actions)
    try:
        _wait(f"{stack.actions_url}/health", actions, actions_log, 60)
        _wait(f"{stack.rasa_url}/status", rasa, rasa_log, 180, stack.api_headers)
        stack.load_seconds = time.monotonic() - started
        yield stack
    finally:
        stop_group(rasa)
        stop_group(stack.actions)
