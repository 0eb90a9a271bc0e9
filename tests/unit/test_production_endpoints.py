"""deploy/endpoints.production.yml as Rasa reads it (in the Rasa venv): every ${VAR} substituted
(Rasa does it only in unquoted values), and each value reaching its store with the right type.
Rasa's substitution always yields text; the ports become numbers where the stores take them."""

import json
import textwrap

from tests.rasa_venv import run_in_rasa

ENV = {"ACTION_SERVER_URL": "http://actions:5055/webhook", "ACTION_SERVER_SECRET": "s3cr3t-actions",
       "POSTGRES_HOST": "db.internal", "POSTGRES_PORT": "5433", "POSTGRES_DB": "rasa", "POSTGRES_USER": "rasa_user",
       "POSTGRES_PASSWORD": "12345", "REDIS_HOST": "redis.internal", "REDIS_PORT": "6380", "REDIS_PASSWORD": "r3dis",
       "REDIS_USE_SSL": "false"}

SCRIPT = textwrap.dedent('''
    import json, sys
    from rasa.core.lock_store import LockStore
    from rasa.core.tracker_store import SQLTrackerStore, validate_port
    from rasa.core.utils import number_of_sanic_workers
    from rasa.utils.endpoints import read_endpoint_config

    path = sys.argv[1]
    out = {}
    for name in ("action_endpoint", "tracker_store", "lock_store"):
        config = read_endpoint_config(path, name)
        out[name] = {"type": config.type, "url": config.url, "headers": config.headers,
                     "kwargs": {key: [value, type(value).__name__] for key, value in config.kwargs.items()}}
    tracker = read_endpoint_config(path, "tracker_store").kwargs
    url = SQLTrackerStore.get_db_url(tracker["dialect"], out["tracker_store"]["url"], validate_port(tracker["port"]),
                                     tracker["db"], tracker["username"], tracker["password"])
    out["tracker_url"] = {"port": [url.port, type(url.port).__name__], "password": url.password, "host": url.host}
    lock_config = read_endpoint_config(path, "lock_store")
    lock_store = LockStore.create(lock_config)  # as Rasa builds it at startup; Redis is not contacted yet
    connection = lock_store.red.connection_pool.connection_kwargs
    out["lock_store_built"] = {"class": type(lock_store).__name__, "prefix": lock_store.prefix,
                               **{key: [connection.get(key), type(connection.get(key)).__name__]
                                  for key in ("host", "port", "db", "password")},
                               "ssl": lock_store.red.connection_pool.connection_class.__name__}
    out["workers"] = number_of_sanic_workers(lock_config)
    print(json.dumps(out))
''')

MISSING = textwrap.dedent('''
    import sys
    from rasa.utils.endpoints import read_endpoint_config
    try:
        read_endpoint_config(sys.argv[1], "lock_store")
    except Exception as error:
        print(type(error).__name__, error)
''')


def run_rasa(script, env):
    return run_in_rasa(script, "deploy/endpoints.production.yml", timeout=120, env=env).strip().splitlines()[-1]


def strings(value):
    """Every text inside a read config (values and header values), to look for a ${...} left over."""
    if isinstance(value, dict):
        return [text for item in value.values() for text in strings(item)]
    if isinstance(value, list):
        return [text for item in value for text in strings(item)]
    return [value] if isinstance(value, str) else []


def test_every_variable_of_the_production_endpoints_is_substituted_with_the_right_type():
    out = json.loads(run_rasa(SCRIPT, {**ENV, "SANIC_WORKERS": "2"}))
    assert not [text for text in strings(out) if "${" in text]

    action = out["action_endpoint"]
    assert action["url"] == "http://actions:5055/webhook"
    assert action["headers"] == {"Authorization": "Bearer s3cr3t-actions"}
    assert action["kwargs"]["enable_selective_domain"] == [True, "bool"]

    tracker = out["tracker_store"]
    assert tracker["type"] == "bot.rasa.tracker_store.SQLTrackerStore" and tracker["url"] == "db.internal"
    assert tracker["kwargs"] == {"cache_size": [1000, "int"], "shared": [True, "bool"], "dialect": ["postgresql", "str"],
                                 "port": ["5433", "str"], "db": ["rasa", "str"], "username": ["rasa_user", "str"],
                                 "password": ["12345", "str"]}
    # a numeric password stays text; the port becomes a number in the database URL Rasa builds
    assert out["tracker_url"] == {"port": [5433, "int"], "password": "12345", "host": "db.internal"}

    lock = out["lock_store"]
    assert lock["type"] == "bot.rasa.lock_store.FifoRedisLockStore" and lock["url"] == "redis.internal"
    assert lock["kwargs"] == {"port": ["6380", "str"], "password": ["r3dis", "str"], "use_ssl": ["false", "str"],
                              "db": [1, "int"], "key_prefix": ["infomigra", "str"]}
    # the text "false" must not turn SSL on, as it would in Rasa's own RedisLockStore (any non-empty text is true)
    assert out["lock_store_built"] == {"class": "FifoRedisLockStore", "prefix": "infomigra:fifolock:",
                                       "host": ["redis.internal", "str"], "port": [6380, "int"], "db": [1, "int"],
                                       "password": ["r3dis", "str"], "ssl": "Connection"}
    assert out["workers"] == 2  # Rasa accepts this lock store for several Sanic workers


def test_ssl_and_an_empty_redis_password():
    out = json.loads(run_rasa(SCRIPT, {**ENV, "REDIS_PASSWORD": "", "REDIS_USE_SSL": "true"}))
    assert out["lock_store_built"]["password"] == [None, "NoneType"]  # no AUTH
    assert out["lock_store_built"]["ssl"] == "SSLConnection"


def test_rasa_refuses_the_file_when_a_variable_is_missing():
    env = {name: value for name, value in ENV.items() if name != "REDIS_PORT"}
    assert "REDIS_PORT" in run_rasa(MISSING, env)
