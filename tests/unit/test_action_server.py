"""The action server answers only Rasa: loopback by default, and a shared secret on every call.

A real action server (`python -m bot.action_server`, rasa_sdk's app) on a free loopback port, loaded
with tests/fakes/marker_actions.py, whose one action writes to a file: a refused call must leave the
file untouched.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from bot.action_server import ConfigurationError, bearer_matches, secret_from_env
from tests.stack import ROOT, free_port

SECRET = secrets.token_urlsafe(32)


def action_call(sender: str) -> dict:
    return {"next_action": "action_leave_mark", "sender_id": sender, "version": "3.6.21", "domain": {},
            "tracker": {"sender_id": sender, "slots": {}, "latest_message": {}, "events": [], "paused": False,
                        "followup_action": None, "active_loop": {}, "latest_action_name": None}}


def start(port: int, env: dict[str, str], *extra: str, log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "bot.action_server", "--actions", "tests.fakes.marker_actions", "--port", str(port), *extra],
        cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True)


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    work = tmp_path_factory.mktemp("action-server")
    marks = work / "marks.txt"
    port = free_port()
    env = {**os.environ, "ACTION_SERVER_SECRET": SECRET, "MARKER_ACTIONS_FILE": str(marks)}
    env.pop("ACTION_SERVER_HOST", None)
    proc = start(port, env, log=work / "actions.log")
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        assert proc.poll() is None, (work / "actions.log").read_text()
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, (work / "actions.log").read_text()
        time.sleep(0.2)
    yield url, port, proc, marks
    stop(proc)


def marks_of(marks: Path) -> list[str]:
    return marks.read_text().split() if marks.exists() else []


@pytest.mark.parametrize("headers", [
    {},
    {"Authorization": "Bearer " + secrets.token_urlsafe(32)},
    {"Authorization": "Bearer " + SECRET[:-1]},
    {"Authorization": "Bearer " + SECRET + "x"},
    {"Authorization": SECRET},  # no scheme
    {"Authorization": "Basic " + SECRET},
    {"Authorization": "Bearer"},
    {"X-Action-Server-Secret": SECRET},
], ids=["none", "wrong", "prefix", "longer", "no-scheme", "basic", "empty", "other-header"])
def test_a_forged_call_is_refused_with_401_and_runs_nothing(server, headers):
    url, _, _, marks = server
    sender = "forged-" + secrets.token_hex(4)
    response = httpx.post(f"{url}/webhook", json=action_call(sender), headers=headers, timeout=10)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert sender not in marks_of(marks)
    assert httpx.get(f"{url}/actions", headers=headers, timeout=10).status_code == 401  # the list of actions too


def test_a_compressed_forged_call_is_refused_too(server):
    import json
    import zlib
    url, _, _, marks = server
    sender = "forged-deflate-" + secrets.token_hex(4)
    body = zlib.compress(json.dumps(action_call(sender)).encode())
    response = httpx.post(f"{url}/webhook", content=body, headers={"Content-Encoding": "deflate"}, timeout=10)
    assert response.status_code == 401 and sender not in marks_of(marks)


def test_the_right_secret_runs_the_action(server):
    url, _, _, marks = server
    sender = "rasa-" + secrets.token_hex(4)
    response = httpx.post(f"{url}/webhook", json=action_call(sender), headers={"Authorization": f"Bearer {SECRET}"},
                          timeout=10)
    assert response.status_code == 200, response.text
    assert [m["text"] for m in response.json()["responses"]] == ["marca dejada"]
    assert marks_of(marks).count(sender) == 1
    listed = httpx.get(f"{url}/actions", headers={"Authorization": f"bearer {SECRET}"}, timeout=10)
    assert listed.status_code == 200 and {"name": "action_leave_mark"} in listed.json()


def test_health_needs_no_secret(server):
    url, *_ = server
    assert httpx.get(f"{url}/health", timeout=10).json() == {"status": "ok"}


def listening_addresses(port: int) -> set[str]:
    """Local addresses of the LISTEN sockets on `port` (from /proc/net/tcp and tcp6)."""
    found = set()
    for table, family in (("/proc/net/tcp", socket.AF_INET), ("/proc/net/tcp6", socket.AF_INET6)):
        if not Path(table).exists():
            continue
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            address, port_hex = fields[1].split(":")
            if int(port_hex, 16) != port or fields[3] != "0A":  # 0A = LISTEN
                continue
            raw = bytes.fromhex(address)
            raw = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))  # each 32-bit word is little-endian
            found.add(socket.inet_ntop(family, raw))
    return found


def outward_address() -> str | None:
    """An address of this machine other than loopback, if it has one."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: nothing is sent
            address = probe.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith("127.") else address


def test_by_default_it_listens_on_loopback_only(server):
    _, port, proc, _ = server
    assert proc.poll() is None
    assert listening_addresses(port) == {"127.0.0.1"}
    outward = outward_address()
    if outward:
        with socket.socket() as client, pytest.raises(OSError):
            client.settimeout(2)
            client.connect((outward, port))


def test_it_does_not_start_without_a_secret(tmp_path):
    for value in (None, "", "   ", "corto"):
        env = {**os.environ, "MARKER_ACTIONS_FILE": str(tmp_path / "m")}
        env.pop("ACTION_SERVER_SECRET", None)
        if value is not None:
            env["ACTION_SERVER_SECRET"] = value
        port = free_port()
        proc = start(port, env, log=tmp_path / "refused.log")
        try:
            assert proc.wait(timeout=60) == 2
        finally:
            stop(proc)
        assert "ACTION_SERVER_SECRET" in (tmp_path / "refused.log").read_text()
        assert not listening_addresses(port)


def test_secret_and_header_checks():
    with pytest.raises(ConfigurationError):
        secret_from_env({})
    assert secret_from_env({"ACTION_SERVER_SECRET": f"  {SECRET} "}) == SECRET
    assert bearer_matches(f"Bearer {SECRET}", SECRET) and bearer_matches(f"bearer  {SECRET} ", SECRET)
    assert not bearer_matches(None, SECRET) and not bearer_matches("", SECRET) and not bearer_matches("Bearer ñ", SECRET)


def test_it_runs_the_daily_retention_job_while_it_serves(tmp_path):
    """Personal data expires where no desk runs: the action server runs the retention job, once a day."""
    from sqlalchemy import select

    from bot.privacy.schema import privacy_runs
    from bot.store.db import get_engine

    database = f"sqlite:///{tmp_path / 'infomigra.db'}"
    env = {**os.environ, "ACTION_SERVER_SECRET": SECRET, "MARKER_ACTIONS_FILE": str(tmp_path / "m"),
           "DATABASE_URL": database, "PRIVACY_RETENTION_JOB": "on", "REPORTS_DIR": str(tmp_path / "reports"),
           "TRACKER_DATABASE_URL": f"sqlite:///{tmp_path / 'rasa.db'}"}  # never the real tracker store
    subprocess.run([str(ROOT / ".venv-svc/bin/infomigra"), "db", "upgrade"], cwd=ROOT, env=env, check=True,
                   capture_output=True, timeout=120)
    port = free_port()
    proc = start(port, env, log=tmp_path / "actions.log")
    engine = get_engine(database)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, (tmp_path / "actions.log").read_text()
            with engine.connect() as conn:
                runs = conn.execute(select(privacy_runs.c.day, privacy_runs.c.finished_at)).all()
            if runs and runs[0].finished_at is not None:
                break
            assert time.monotonic() < deadline, (tmp_path / "actions.log").read_text()
            time.sleep(0.2)
    finally:
        stop(proc)
        engine.dispose()
    assert len(runs) == 1  # today's run, recorded: a second process (the desk) skips the day
