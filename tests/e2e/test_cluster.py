"""The assistant as a cluster, started by `make cluster`'s own command (bot/cluster.py): two Rasa replicas
and an action server on PostgreSQL and Redis, the desk, and nginx in front (deploy/nginx.conf).

Checked: only the webhooks, the widget and the desk are reachable through nginx (Rasa's HTTP API is not);
one conversation moves between the replicas and stays whole; a message for a widget reaches it from
either replica (socket.io through Redis); `kill -9` of a replica under load loses no acknowledged
message (nginx sends what the dead replica did not answer to the survivor) and the replica comes back.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import secrets
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import websockets
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bot.handoff.rasa_api import RasaApi
from bot.rasa_jwt import auth_headers
from bot.store.db import database_url
from tests.databases import ADMIN_URL, ensure_postgres, ensure_redis
from tests.stack import LOOPBACK_FLOOD_LIMITS, ROOT, free_port, stop_group

pytestmark = pytest.mark.e2e

READY = "Ctrl-C stops everything."
REPLICAS = re.compile(r"Rasa replicas:\s+(.*?) \(loopback only\)")
ACTIONS = re.compile(r"Action servers:\s+(.*?) \(loopback only")
API = re.compile(r"Rasa HTTP API:\s+(http://\S+)")
# A turn whose replica is killed keeps its conversation's lock until the lock's lifetime ends; the
# survivor then takes the conversation over. 15 s instead of Rasa's 60 s keeps the test short.
LOCK_LIFETIME = "15"


@dataclass
class Cluster:
    proc: subprocess.Popen
    url: str
    api_url: str
    replica_ports: list[int]
    action_ports: list[int]
    run_dir: Path
    env: dict[str, str]
    output: Path
    said: list[tuple[str, str]] = field(default_factory=list)

    def say(self, sender: str, message: str, client: httpx.Client | None = None) -> list[dict]:
        post = (client or httpx).post
        response = post(f"{self.url}/webhooks/rest/webhook", json={"sender": sender, "message": message},
                        headers={"Authorization": f"Bearer {self.env['REST_CHANNEL_TOKEN']}"}, timeout=120)
        assert response.status_code == 200, f"{message!r} from {sender}: {response.status_code} {response.text[:200]}"
        return response.json()

    def api_headers(self) -> dict[str, str]:
        return auth_headers(self.env["RASA_JWT_SECRET"], "tests")

    def tracker(self, sender: str) -> dict:
        response = httpx.get(f"{self.api_url}/conversations/{sender}/tracker", headers=self.api_headers(), timeout=60)
        response.raise_for_status()
        return response.json()

    def upstreams(self, request: str) -> list[str]:
        """The replica addresses nginx's access log names for requests starting with `request`."""
        lines = (self.run_dir / "nginx-access.log").read_text(encoding="utf-8").splitlines()
        return [m.group(1) for line in lines if f'"{request}' in line
                for m in [re.search(r'" \d{3} (\S+(?:, \S+)*) [\d.]+$', line)] if m]

    def replica_pid(self, port: int) -> int:
        return _pid(f"bot.rasa.server run .*--port {port} ")

    def action_server_pid(self, port: int) -> int:
        return _pid(f"bot.action_server --actions actions --port {port}$")

    def answers(self, url: str, headers: dict[str, str] | None = None) -> bool:
        try:
            return httpx.get(url, headers=headers, timeout=5).status_code == 200
        except httpx.HTTPError:
            return False

    def replica_answers(self, port: int) -> bool:
        return self.answers(f"http://127.0.0.1:{port}/status", self.api_headers())

    def talk_while_killing(self, pid: int, conversations: int = 10) -> list[str]:
        """`conversations` people talk at once; `pid` gets SIGKILL during their third round. Every
        message must be answered and stored with its answer; returns the senders."""
        senders = [f"kill-{uuid.uuid4().hex[:6]}-{n}" for n in range(conversations)]
        acknowledged: dict[str, list[str]] = {s: [] for s in senders}
        errors: list[str] = []
        third_round = threading.Event()

        def converse(sender: str) -> None:
            with httpx.Client() as client:
                for n, message in enumerate(ROUNDS):
                    if n == 2:
                        third_round.set()
                    try:
                        if self.say(sender, message, client):
                            acknowledged[sender].append(message)
                        else:
                            errors.append(f"{sender}: no answer to {message!r}")
                    except (AssertionError, httpx.HTTPError) as exc:
                        errors.append(f"{sender}: {message!r}: {exc}")

        threads = [threading.Thread(target=converse, args=(s,)) for s in senders]
        for thread in threads:
            thread.start()
        third_round.wait(timeout=300)
        os.kill(pid, signal.SIGKILL)
        for thread in threads:
            thread.join(timeout=600)
        assert not errors, errors
        assert all(acknowledged[s] == ROUNDS for s in senders)
        for sender in senders:  # every acknowledged message is stored with its answer
            tracker = self.tracker(sender)
            missing = [m for m in ROUNDS if not answered(tracker, m)]
            assert not missing, f"{sender}: {missing} not stored with an answer"
        return senders


def _pid(pattern: str) -> int:
    found = subprocess.run(["pgrep", "-f", pattern], capture_output=True, text=True)
    pids = [int(p) for p in found.stdout.split()]
    assert len(pids) == 1, f"{pattern}: pids {pids}"
    return pids[0]


# Six turns of a conversation, each answered by the action server (articles, menus) or by Rasa alone.
ROUNDS = ["hola", "/info_contacto", "/menu", "/retorno_ley_incentivos", "/info_contacto", "/menu"]


def answered(tracker: dict, message: str) -> bool:
    """Some user event with this text is followed by a bot event before the next user event."""
    events = [e for e in tracker["events"] if e["event"] in ("user", "bot")]
    for i, event in enumerate(events):
        if event["event"] == "user" and event.get("text") == message:
            for later in events[i + 1:]:
                if later["event"] == "user":
                    break
                if later["event"] == "bot":
                    return True
    return False


@pytest.fixture(scope="module")
def cluster(tmp_path_factory) -> Iterator[Cluster]:
    ensure_postgres()
    ensure_redis()
    admin = make_url(ADMIN_URL)
    name = f"infomigra_cluster_{uuid.uuid4().hex[:10]}"
    run_dir = tmp_path_factory.mktemp("cluster")
    env = {**os.environ, **LOOPBACK_FLOOD_LIMITS, "POSTGRES_HOST": admin.host or "127.0.0.1",
           "POSTGRES_PORT": str(admin.port or 5432), "POSTGRES_USER": admin.username or "postgres",
           "POSTGRES_PASSWORD": admin.password or "", "POSTGRES_DB": name, "REDIS_HOST": "127.0.0.1", "REDIS_PORT": "6379",
           "TICKET_LOCK_LIFETIME": LOCK_LIFETIME,
           **{k: secrets.token_urlsafe(32) for k in ("RASA_JWT_SECRET", "ACTION_SERVER_SECRET", "REST_CHANNEL_TOKEN",
                                                       "WEB_SESSION_SECRET")}}
    env.pop("DATABASE_URL", None)
    output = run_dir / "cluster.out"
    port = free_port()
    proc = subprocess.Popen([str(ROOT / ".venv-svc/bin/python"), "-m", "bot.cluster", "--replicas", "2", "--actions", "2",
                             "--port", str(port), "--run-dir", str(run_dir)],
                            cwd=ROOT, env=env, stdout=output.open("w"), stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 360
        while READY not in output.read_text():
            assert proc.poll() is None, f"the cluster exited with {proc.returncode}:\n{output.read_text()[-3000:]}"
            assert time.monotonic() < deadline, f"the cluster is not ready after 360 s:\n{output.read_text()[-3000:]}"
            time.sleep(0.5)
        banner = output.read_text()
        def ports(pattern: re.Pattern[str]) -> list[int]:
            return [int(address.rsplit(":", 1)[1]) for address in pattern.search(banner).group(1).split(", ")]

        yield Cluster(proc, f"http://127.0.0.1:{port}", API.search(banner).group(1), ports(REPLICAS), ports(ACTIONS), run_dir,
                      env, output)
    finally:
        stop_group(proc, timeout=90)  # the cluster stops its processes first
        engine = create_engine(database_url(ADMIN_URL), isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()


def test_only_the_channels_the_widget_and_the_desk_are_exposed(cluster):
    for path in ("/version", "/status", "/conversations/x/tracker", "/model/parse"):
        response = httpx.get(cluster.url + path, timeout=10)
        assert response.status_code == 404 and "3.6.21" not in response.text, f"{path} reached Rasa's HTTP API through nginx"
    assert httpx.get(f"{cluster.url}/webhooks/rest/", timeout=10).json() == {"status": "ok"}
    assert httpx.get(f"{cluster.url}/webhooks/web/demo", timeout=10).status_code == 200
    assert httpx.get(f"{cluster.url}/login", timeout=10).status_code == 200  # the desk
    handshake = httpx.get(f"{cluster.url}/socket.io/?EIO=4&transport=polling", timeout=10)
    assert handshake.status_code == 200 and '"sid"' in handshake.text
    # Rasa's HTTP API: on loopback for the desk, through any replica
    assert httpx.get(f"{cluster.api_url}/status", headers=cluster.api_headers(), timeout=10).status_code == 200
    assert re.search(rf"listen 127\.0\.0\.1:{cluster.api_url.rsplit(':', 1)[1]};", (cluster.run_dir / "nginx.conf").read_text())


def test_one_conversation_moves_between_the_replicas_and_stays_whole(cluster):
    sender = f"cl-{uuid.uuid4().hex[:8]}"
    before = len(cluster.upstreams("POST /webhooks/rest/webhook"))
    messages = ROUNDS
    for message in messages:
        assert cluster.say(sender, message), f"no answer to {message!r}"
    served = cluster.upstreams("POST /webhooks/rest/webhook")[before:]
    assert {int(a.rsplit(":", 1)[1]) for a in served} == set(cluster.replica_ports), served  # round robin: both served
    tracker = cluster.tracker(sender)
    assert [e["text"] for e in tracker["events"] if e["event"] == "user"] == messages
    missing = [m for m in messages if not answered(tracker, m)]
    assert not missing, f"not stored with an answer: {missing}"  # e.g. an action call that failed


async def _widget_session(url: str) -> tuple[websockets.WebSocketClientProtocol, str]:
    """A widget's socket.io connection (Engine.IO 4 over a websocket) with a new session: (socket, sender)."""
    ws = await websockets.connect(url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket",
                                  origin=url)
    assert (await ws.recv()).startswith("0")  # engine.io open
    await ws.send("40")
    assert (await ws.recv()).startswith("40")  # socket.io connect
    await ws.send('42["session_request",{}]')
    while True:
        packet = await ws.recv()
        if packet.startswith('42["session_confirm"'):
            return ws, "web:" + json.loads(packet[2:])[1]["session_id"]


async def _next_bot_message(ws: websockets.WebSocketClientProtocol) -> dict:
    while True:
        packet = await asyncio.wait_for(ws.recv(), timeout=30)
        if packet == "2":  # engine.io ping
            await ws.send("3")
        elif packet.startswith('42["bot_uttered"'):
            return json.loads(packet[2:])[1]


def test_a_message_for_a_widget_reaches_it_from_either_replica(cluster):
    async def run() -> list[str]:
        ws, sender = await _widget_session(cluster.url)
        received = []
        try:
            for port in cluster.replica_ports:  # each replica in turn emits to the widget's session
                api = RasaApi(f"http://127.0.0.1:{port}", cluster.env["RASA_JWT_SECRET"])
                try:
                    await api.append(sender, [{"event": "bot", "text": f"desde la réplica {port}"}], "web")
                finally:
                    await api.close()
                received.append((await _next_bot_message(ws))["text"])
        finally:
            await ws.close()
        return received

    assert asyncio.run(run()) == [f"desde la réplica {port}" for port in cluster.replica_ports]


def test_kill_9_of_a_replica_under_load_loses_no_acknowledged_message(cluster):
    victim = cluster.replica_ports[0]
    pid = cluster.replica_pid(victim)
    cluster.talk_while_killing(pid)
    # the cluster starts the replica again and nginx sends it requests once it answers
    deadline = time.monotonic() + 300
    while not cluster.replica_answers(victim):
        assert time.monotonic() < deadline, "the killed replica did not come back"
        time.sleep(1)
    assert cluster.replica_pid(victim) != pid
    assert "rasa-1 had stopped; started again" in cluster.output.read_text()
    # nginx leaves a failed replica out for its fail_timeout (5 s), then tries it again: talk until it serves
    sender, served = f"back-{uuid.uuid4().hex[:6]}", set()
    before = len(cluster.upstreams("POST /webhooks/rest/webhook"))
    deadline = time.monotonic() + 120
    while str(victim) not in served:
        assert time.monotonic() < deadline, "the restarted replica gets no requests from nginx"
        assert cluster.say(sender, "/menu")
        served = {a.rsplit(":", 1)[1] for a in cluster.upstreams("POST /webhooks/rest/webhook")[before:]}
        time.sleep(0.5)


def test_kill_9_of_an_action_server_under_load_loses_no_acknowledged_message(cluster):
    victim = cluster.action_ports[0]
    pid = cluster.action_server_pid(victim)
    cluster.talk_while_killing(pid)
    deadline = time.monotonic() + 120
    while not cluster.answers(f"http://127.0.0.1:{victim}/health"):
        assert time.monotonic() < deadline, "the killed action server did not come back"
        time.sleep(0.5)
    assert cluster.action_server_pid(victim) != pid
    assert "actions-1 had stopped; started again" in cluster.output.read_text()
