"""`make cluster`'s configuration (bot/cluster.py): the shared environment and nginx's config, checked by nginx."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from sqlalchemy.engine import make_url

from bot.cluster import SECRETS, nginx_config, service_env


def test_the_environment_points_at_the_machine_services_and_shares_one_set_of_secrets():
    env = service_env({})
    assert make_url(env["DATABASE_URL"]).render_as_string(hide_password=False) == "postgresql://postgres@127.0.0.1:5432/infomigra"
    assert env["WEB_SOCKETIO_REDIS_URL"] == "redis://127.0.0.1:6379/2"
    assert env["FLOOD_TRUSTED_PROXIES"] == "127.0.0.1"
    assert all(len(env[name]) >= 40 for name in SECRETS)
    assert service_env({})["RASA_JWT_SECRET"] != env["RASA_JWT_SECRET"]  # generated per run when not given


def test_other_services_and_given_secrets_are_taken_from_the_environment():
    env = service_env({"POSTGRES_HOST": "db.internal", "POSTGRES_PORT": "6432", "POSTGRES_DB": "im", "POSTGRES_USER": "bot",
                       "POSTGRES_PASSWORD": "p@ss:w/rd", "REDIS_HOST": "cache", "REDIS_PASSWORD": "s3cret",
                       "REDIS_USE_SSL": "true", "RASA_JWT_SECRET": "given"})
    url = make_url(env["DATABASE_URL"])
    assert (url.host, url.port, url.database, url.username, url.password) == ("db.internal", 6432, "im", "bot", "p@ss:w/rd")
    assert env["WEB_SOCKETIO_REDIS_URL"] == "rediss://:s3cret@cache:6379/2"
    assert env["RASA_JWT_SECRET"] == "given"


@pytest.fixture
def conf(tmp_path):
    (tmp_path / "tmp").mkdir()
    text = nginx_config(tmp_path, [5101, 5102], [5201, 5202], 5301, "127.0.0.1", 8080, 5401, 5402)
    path = tmp_path / "nginx.conf"
    path.write_text(text)
    return path, text


def test_nginx_accepts_the_filled_in_config(conf):
    path, text = conf
    assert not re.search(r"\{[a-z_]+\}", text), "a placeholder was left"
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    done = subprocess.run([nginx, "-t", "-p", str(path.parent), "-c", str(path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_only_the_webhooks_the_widget_and_the_desk_listen_beyond_loopback(conf):
    _, text = conf
    listens = re.findall(r"listen (\S+);", text)
    assert listens == ["127.0.0.1:8080", "127.0.0.1:5402", "127.0.0.1:5401"]  # public, actions, Rasa's API
    public = text[text.index("listen 127.0.0.1:8080;"):text.index("listen 127.0.0.1:5402;")]
    assert re.findall(r"location (\S+) \{", public) == ["/webhooks/", "/socket.io/", "/"]
    assert "proxy_pass http://desk;" in public.split("location / {")[1]
    for port in (5101, 5102):  # each replica in both upstreams, left out for a while when it fails
        assert text.count(f"server 127.0.0.1:{port} max_fails=1 fail_timeout=5s;") == 2
