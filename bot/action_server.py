"""The action server, as we run it: rasa_sdk's own app, on loopback, answering only Rasa.

    ACTION_SERVER_SECRET=… python -m bot.action_server [--actions actions] [--port 5055] [--host 127.0.0.1]

`python -m rasa_sdk` binds every interface (0.0.0.0) and runs any action for whoever calls it: a
forged call could send messages to a person or erase their data. This launcher builds the same
application (`rasa_sdk.endpoint.create_app`, with rasa_sdk's plugins, TLS options and workers) and

- binds 127.0.0.1 unless told otherwise (`--host`, or ACTION_SERVER_HOST when the action server
  runs on another machine than Rasa);
- refuses every request but `GET /health` that does not carry `Authorization: Bearer <secret>`
  with the value of ACTION_SERVER_SECRET (compared in constant time), with 401, before any action
  is looked up or run. Rasa sends the header from the action endpoint's `headers` in endpoints.yml
  (`Authorization: Bearer ${ACTION_SERVER_SECRET}`, interpolated by Rasa from its environment);
- does not start at all without ACTION_SERVER_SECRET (at least 16 characters);
- runs the daily retention job of personal data while it serves (`run_retention_while_serving`).
"""

from __future__ import annotations

import argparse
import contextlib
import hmac
import logging
import os
import sys
from collections.abc import Mapping

from rasa_sdk import utils
from rasa_sdk.cli.arguments import add_endpoint_arguments
from rasa_sdk.constants import APPLICATION_ROOT_LOGGER_NAME
from rasa_sdk.endpoint import create_app, create_ssl_context
from rasa_sdk.plugin import plugin_manager
from sanic import Sanic, response
from sanic.exceptions import SanicException
from sanic.request import Request

from bot import background, sanic_accept

logger = logging.getLogger(__name__)

SECRET_ENV = "ACTION_SERVER_SECRET"
HOST_ENV = "ACTION_SERVER_HOST"
DEFAULT_HOST = "127.0.0.1"
MIN_SECRET_CHARS = 16
OPEN_PATHS = frozenset({"/health"})


class ConfigurationError(RuntimeError):
    """The action server cannot start safely as configured."""


def secret_from_env(env: Mapping[str, str] | None = None) -> str:
    secret = (os.environ if env is None else env).get(SECRET_ENV, "").strip()
    if not secret:
        raise ConfigurationError(
            f"{SECRET_ENV} is not set: the action server does not start without it. Set the same value in the "
            f"environment of Rasa (endpoints.yml sends it as 'Authorization: Bearer ${{{SECRET_ENV}}}'); "
            "`make run` generates one per run."
        )
    if len(secret) < MIN_SECRET_CHARS:
        raise ConfigurationError(f"{SECRET_ENV} is too short: use at least {MIN_SECRET_CHARS} random characters")
    return secret


def bearer_matches(header: str | None, secret: str) -> bool:
    """Whether an Authorization header is `Bearer <secret>`; constant time in the secret."""
    scheme, _, supplied = (header or "").strip().partition(" ")
    if scheme.lower() != "bearer":
        supplied = ""
    return hmac.compare_digest(supplied.strip().encode("utf-8", "replace"), secret.encode("utf-8"))


def require_secret(app: Sanic, secret: str) -> None:
    """Answer 401 to any request but /health without the shared secret, before routing reaches an action."""

    @app.on_request
    async def check_secret(request: Request):
        if request.path in OPEN_PATHS and request.method in ("GET", "HEAD"):
            return None
        if bearer_matches(request.headers.get("authorization"), secret):
            return None
        logger.warning("action server: refused %s %s from %s (missing or wrong secret)",
                       request.method, request.path, request.remote_addr or request.ip)
        return response.json({"error": "Unauthorized"}, status=401, headers={"WWW-Authenticate": "Bearer"})


def build_app(actions: str, secret: str, cors_origins: list[str] | str | None = None) -> Sanic:
    sanic_accept.apply()  # a malformed Accept header must not turn a 401/404 into a 500
    app = create_app(actions, cors_origins=cors_origins)
    require_secret(app, secret)

    @app.exception(SanicException)  # rasa_sdk's handler answers 500 to every exception, a 404 or a 405 too
    async def http_error(_request: Request, exception: SanicException) -> response.HTTPResponse:
        return response.json({"error": str(exception)}, status=getattr(exception, "status_code", None) or 500)

    plugin_manager().hook.attach_sanic_app_extensions(app=app)
    run_retention_while_serving(app)
    return app


def run_retention_while_serving(app: Sanic) -> None:
    """The daily retention job (bot/privacy/retention.py) runs wherever the action server runs, so
    personal data expires even where no advisor desk is running; the desk runs it too, and the
    `privacy_runs` table makes it once a day whatever the number of processes. PRIVACY_RETENTION_JOB=off
    stops it."""
    from bot.privacy import retention

    if not retention.enabled():
        return

    @app.listener("after_server_start")
    async def start_retention(app: Sanic, _loop: object) -> None:
        from bot.store.db import get_engine

        engine = get_engine()
        app.ctx.background = contextlib.AsyncExitStack()
        await app.ctx.background.enter_async_context(background.running(lambda stop: retention.daily_loop(engine, stop)))

    @app.listener("before_server_stop")
    async def stop_retention(app: Sanic, _loop: object) -> None:
        stack = getattr(app.ctx, "background", None)
        if stack is not None:
            await stack.aclose()


def parser() -> argparse.ArgumentParser:
    arguments = argparse.ArgumentParser(description="PERÚ INFOMIGRA action server (rasa_sdk, authenticated)")
    add_endpoint_arguments(arguments)
    arguments.add_argument("--host", default=None,
                           help=f"interface to bind (default: {HOST_ENV} or {DEFAULT_HOST}; never all interfaces unless asked)")
    utils.add_logging_level_option_arguments(arguments)
    arguments.set_defaults(actions="actions")
    return arguments


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    utils.configure_colored_logging(args.loglevel)
    utils.update_sanic_log_level()
    logging.getLogger(APPLICATION_ROOT_LOGGER_NAME).setLevel(args.loglevel or logging.INFO)
    try:
        secret = secret_from_env()
    except ConfigurationError as exc:
        print(f"action server: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    host = args.host or os.environ.get(HOST_ENV, "").strip() or DEFAULT_HOST
    app = build_app(args.actions, secret, args.cors)
    ssl_context = create_ssl_context(args.ssl_certificate, args.ssl_keyfile, args.ssl_password)
    logger.info("Action server on %s://%s:%s (calls need the shared secret)",
                "https" if ssl_context else "http", host, args.port)
    app.run(host, args.port, ssl=ssl_context, workers=utils.number_of_sanic_workers())


if __name__ == "__main__":
    main()
