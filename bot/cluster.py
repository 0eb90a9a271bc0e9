"""`make cluster`: the assistant as several processes on PostgreSQL and Redis, behind nginx.

    python -m bot.cluster --replicas 2 --actions 1 --port 8080

Starts, on this machine: the migrations of our tables, M action servers, N Rasa replicas (each on a
loopback port, with deploy/endpoints.production.yml: conversations in PostgreSQL, locks in Redis, the
web widget's emits shared through Redis), the desk, and nginx (Debian's package) with deploy/nginx.conf,
which alone listens on the public address. It watches them: a replica, action server or the desk that
dies is started again and rejoins; Ctrl-C (or SIGTERM) stops everything.

Where PostgreSQL and Redis are: POSTGRES_HOST/PORT/DB/USER/PASSWORD and REDIS_HOST/PORT/PASSWORD/USE_SSL
(defaults: the machine's own, 127.0.0.1:5432 database "infomigra" as user postgres, 127.0.0.1:6379).
Secrets (RASA_JWT_SECRET, ACTION_SERVER_SECRET, REST_CHANNEL_TOKEN, WEB_SESSION_SECRET) come from the
environment; one missing is generated for this run and shared by every process, so all the replicas
accept each other's widget sessions. The run's files (nginx config, logs) go to --run-dir.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url

from bot.rasa_jwt import auth_headers
from bot.store.db import database_url

ROOT = Path(__file__).resolve().parent.parent
NGINX_TEMPLATE = ROOT / "deploy" / "nginx.conf"
ENDPOINTS = ROOT / "deploy" / "endpoints.production.yml"
MODEL = ROOT / "models" / "infomigra.tar.gz"
SVC_PYTHON = ROOT / ".venv-svc" / "bin" / "python"
RASA_PYTHON = ROOT / ".venv" / "bin" / "python"
INFOMIGRA = ROOT / ".venv-svc" / "bin" / "infomigra"
SECRETS = ("RASA_JWT_SECRET", "ACTION_SERVER_SECRET", "REST_CHANNEL_TOKEN", "WEB_SESSION_SECRET")
DEFAULTS = {"POSTGRES_HOST": "127.0.0.1", "POSTGRES_PORT": "5432", "POSTGRES_DB": "infomigra", "POSTGRES_USER": "postgres",
            "POSTGRES_PASSWORD": "", "REDIS_HOST": "127.0.0.1", "REDIS_PORT": "6379", "REDIS_PASSWORD": "",
            "REDIS_USE_SSL": "false"}
REDIS_SOCKETIO_DB = 2  # the lock store uses db 1 (deploy/endpoints.production.yml)
_PLACEHOLDER = re.compile(r"\{(run|rasa_servers|actions_servers|desk_port|host|port|api_port|actions_port|replicas|action_servers)\}")


class ClusterError(Exception):
    """The cluster cannot start (a missing tool, a service that does not answer): the message says which."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _servers(ports: list[int]) -> str:
    return "\n".join(f"        server 127.0.0.1:{p} max_fails=1 fail_timeout=5s;" for p in ports)


def nginx_config(run_dir: Path, rasa_ports: list[int], action_ports: list[int], desk_port: int, host: str, port: int,
                 api_port: int, actions_port: int) -> str:
    """deploy/nginx.conf with this run's addresses filled in."""
    values = {"run": str(run_dir), "rasa_servers": _servers(rasa_ports), "actions_servers": _servers(action_ports),
              "desk_port": str(desk_port), "host": host, "port": str(port), "api_port": str(api_port),
              "actions_port": str(actions_port), "replicas": str(len(rasa_ports)), "action_servers": str(len(action_ports))}
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], NGINX_TEMPLATE.read_text(encoding="utf-8"))


def service_env(base: Mapping[str, str]) -> dict[str, str]:
    """The environment every process of the cluster shares: the services' addresses and the secrets."""
    env = {**DEFAULTS, **base}
    for name in SECRETS:
        env[name] = env.get(name) or secrets.token_urlsafe(32)
    url = URL.create("postgresql", username=env["POSTGRES_USER"], password=env["POSTGRES_PASSWORD"] or None,
                     host=env["POSTGRES_HOST"], port=int(env["POSTGRES_PORT"]), database=env["POSTGRES_DB"])
    env.setdefault("DATABASE_URL", url.render_as_string(hide_password=False))
    scheme = "rediss" if env["REDIS_USE_SSL"].strip().lower() == "true" else "redis"
    auth = f":{env['REDIS_PASSWORD']}@" if env["REDIS_PASSWORD"] else ""
    env.setdefault("WEB_SOCKETIO_REDIS_URL", f"{scheme}://{auth}{env['REDIS_HOST']}:{env['REDIS_PORT']}/{REDIS_SOCKETIO_DB}")
    env.setdefault("FLOOD_TRUSTED_PROXIES", "127.0.0.1")  # nginx: the client is in X-Forwarded-For
    env.update(RASA_TELEMETRY_ENABLED="false", TF_CPP_MIN_LOG_LEVEL="2", SQLALCHEMY_SILENCE_UBER_WARNING="1")
    return env


def ensure_database(url: str) -> None:
    """Create the PostgreSQL database of DATABASE_URL if it is not there (the tracker store shares it)."""
    target = make_url(url)
    admin = create_engine(database_url(target.set(database="postgres").render_as_string(hide_password=False)),
                          isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": target.database}).first()
            if not exists:
                conn.execute(text(f'CREATE DATABASE "{target.database}"'))
    except Exception as exc:  # the server is down or refuses us: say where we looked
        raise ClusterError(f"PostgreSQL at {target.host}:{target.port or 5432} does not answer or refuses us "
                           f"({type(exc).__name__}); set POSTGRES_HOST/PORT/USER/PASSWORD") from exc
    finally:
        admin.dispose()


@dataclass
class Process:
    """One process of the cluster, restarted when it dies unless the cluster is stopping."""

    name: str
    args: list[str]
    log: Path
    ready: Callable[[], bool]
    env: dict[str, str]
    popen: subprocess.Popen | None = None

    def start(self) -> None:
        self.popen = subprocess.Popen(self.args, cwd=ROOT, env=self.env, stdout=self.log.open("a"),
                                      stderr=subprocess.STDOUT, start_new_session=True)

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def stop(self) -> None:
        if self.popen is None or self.popen.poll() is not None:
            return
        os.killpg(self.popen.pid, signal.SIGTERM)
        try:
            self.popen.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait()


def _answers(url: str, headers: Callable[[], dict[str, str]] | None = None) -> Callable[[], bool]:
    def check() -> bool:
        try:
            return httpx.get(url, headers=headers() if headers else None, timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    return check


@dataclass
class Cluster:
    replicas: int
    actions: int
    host: str
    port: int
    run_dir: Path
    env: dict[str, str]
    processes: list[Process] = field(default_factory=list)
    rasa_ports: list[int] = field(default_factory=list)
    action_ports: list[int] = field(default_factory=list)
    api_port: int = 0
    actions_port: int = 0

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def api_url(self) -> str:
        """Rasa's HTTP API across the replicas, on loopback only."""
        return f"http://127.0.0.1:{self.api_port}"

    def process(self, name: str) -> Process:
        return next(p for p in self.processes if p.name == name)

    def _plan(self) -> None:
        env, run = self.env, self.run_dir
        self.action_ports = action_ports = [free_port() for _ in range(self.actions)]
        self.rasa_ports = [free_port() for _ in range(self.replicas)]
        desk_port, self.api_port, self.actions_port = free_port(), free_port(), free_port()
        for i, port in enumerate(action_ports):
            self.processes.append(Process(
                f"actions-{i + 1}", [str(SVC_PYTHON), "-m", "bot.action_server", "--actions", "actions", "--port", str(port)],
                run / f"actions-{i + 1}.log", _answers(f"http://127.0.0.1:{port}/health"), env))
        jwt = lambda: auth_headers(env["RASA_JWT_SECRET"], "cluster")  # noqa: E731
        replica_env = {**env, "ACTION_SERVER_URL": f"http://127.0.0.1:{self.actions_port}/webhook"}  # nginx, any of them
        for i, port in enumerate(self.rasa_ports):
            self.processes.append(Process(
                f"rasa-{i + 1}", [str(RASA_PYTHON), "-m", "bot.rasa.server", "run", "--model", str(MODEL), "--endpoints",
                                  str(ENDPOINTS), "--credentials", str(ROOT / "credentials.yml"), "--port", str(port),
                                  "--interface", "127.0.0.1", "--enable-api"],
                run / f"rasa-{i + 1}.log", _answers(f"http://127.0.0.1:{port}/status", jwt), replica_env))
        desk_env = {**env, "RASA_URL": self.api_url}
        self.processes.append(Process(
            "desk", [str(INFOMIGRA), "desk", "serve", "--host", "127.0.0.1", "--port", str(desk_port),
                     "--forwarded-allow-ips", "127.0.0.1", "--log-level", "warning"],
            run / "desk.log", _answers(f"http://127.0.0.1:{desk_port}/login"), desk_env))
        (run / "tmp").mkdir(parents=True, exist_ok=True)
        conf = run / "nginx.conf"
        conf.write_text(nginx_config(run, self.rasa_ports, action_ports, desk_port, self.host, self.port, self.api_port,
                                     self.actions_port), encoding="utf-8")
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        self.processes.append(Process("nginx", [nginx, "-p", str(run), "-c", str(conf), "-g", "daemon off;"],
                                      run / "nginx.log", _answers(f"{self.url}/webhooks/rest/"), env))

    def start(self, timeout: float = 240) -> None:
        if not MODEL.exists():
            raise ClusterError(f"{MODEL} is missing: run `make train` first")
        if not (shutil.which("nginx") or Path("/usr/sbin/nginx").exists()):
            raise ClusterError("nginx is not installed (`make cluster` installs Debian's nginx-light)")
        self.run_dir.mkdir(parents=True, exist_ok=True)
        ensure_database(self.env["DATABASE_URL"])
        subprocess.run([str(INFOMIGRA), "db", "upgrade"], cwd=ROOT, env=self.env, check=True, stdout=subprocess.DEVNULL)
        self._plan()
        for proc in self.processes:
            proc.start()
        deadline = time.monotonic() + timeout
        for proc in self.processes:
            while not proc.ready():
                if not proc.alive():
                    raise ClusterError(f"{proc.name} exited with {proc.popen.returncode}; see {proc.log}")
                if time.monotonic() > deadline:
                    raise ClusterError(f"{proc.name} not ready after {timeout:.0f} s; see {proc.log}")
                time.sleep(0.3)

    def watch_once(self) -> list[str]:
        """Start again what died; the names of what was restarted."""
        restarted = []
        for proc in self.processes:
            if not proc.alive():
                proc.start()
                restarted.append(proc.name)
        return restarted

    def stop(self) -> None:
        for proc in reversed(self.processes):
            proc.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.cluster", description=__doc__.split("\n\n")[0])
    parser.add_argument("--replicas", type=int, default=int(os.environ.get("REPLICAS", "2")), help="Rasa replicas (2)")
    parser.add_argument("--actions", type=int, default=int(os.environ.get("ACTIONS", "1")), help="action servers (1)")
    parser.add_argument("--host", default=os.environ.get("CLUSTER_HOST", "127.0.0.1"), help="public address (127.0.0.1)")
    parser.add_argument("--port", type=int, default=int(os.environ.get("CLUSTER_PORT", "8080")), help="public port (8080)")
    parser.add_argument("--run-dir", type=Path, default=ROOT / "var" / "cluster", help="config and logs (var/cluster)")
    args = parser.parse_args(argv)
    if args.replicas < 1 or args.actions < 1:
        parser.error("--replicas and --actions must be at least 1")
    cluster = Cluster(args.replicas, args.actions, args.host, args.port, args.run_dir.resolve(), service_env(os.environ))
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        cluster.start()
    except (ClusterError, subprocess.CalledProcessError) as exc:
        print(f"cluster: {exc}", file=sys.stderr)
        cluster.stop()
        return 1
    print(f"\n  Assistant (nginx):  {cluster.url}  (webhooks /webhooks/*, widget {cluster.url}/webhooks/web/demo, desk /)\n"
          f"  Rasa replicas:      {', '.join(f'127.0.0.1:{p}' for p in cluster.rasa_ports)} (loopback only)\n"
          f"  Action servers:     {', '.join(f'127.0.0.1:{p}' for p in cluster.action_ports)} (loopback only, "
          f"through 127.0.0.1:{cluster.actions_port})\n"
          f"  Rasa HTTP API:      {cluster.api_url} (loopback only, for the desk)\n"
          f"  Logs and config:    {cluster.run_dir}\n  Ctrl-C stops everything.\n", flush=True)
    try:
        while not stopping:
            for name in cluster.watch_once():
                print(f"cluster: {name} had stopped; started again", flush=True)
            time.sleep(1)
    finally:
        cluster.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
