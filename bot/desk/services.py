"""What every desk request can reach: the stores, the settings and the templates (on app.state.desk)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import jinja2
from sqlalchemy.engine import Engine
from starlette.requests import Request
from starlette.templating import Jinja2Templates

from bot.desk.accounts import ROLE_LABELS, Accounts
from bot.desk.challenges import Challenges
from bot.desk.sections import sections_for
from bot.desk.sessions import Sessions
from bot.desk.settings import DeskSettings
from bot.desk.throttle import LoginThrottle

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
T = TypeVar("T")


def _page_context(request: Request) -> dict[str, Any]:
    """Variables every template gets: the service, the logged-in account, its CSRF token and navigation."""
    desk: Desk = request.app.state.desk
    user = getattr(request.state, "user", None)
    session = getattr(request.state, "desk_session", None)
    return {
        "service_name": desk.settings.service_name,
        "user": user,
        "csrf_token": session.csrf_token if session else None,
        "nav": sections_for(user) if user else [],
        "role_labels": ROLE_LABELS,
    }


def make_templates(extra_dirs: list[Path] | None = None) -> Jinja2Templates:
    loader = jinja2.FileSystemLoader([str(TEMPLATES), *(str(d) for d in extra_dirs or [])])
    env = jinja2.Environment(loader=loader, autoescape=True, trim_blocks=True, lstrip_blocks=True)
    return Jinja2Templates(env=env, context_processors=[_page_context])


@dataclass
class Desk:
    engine: Engine
    settings: DeskSettings
    accounts: Accounts
    sessions: Sessions
    throttle: LoginThrottle
    templates: Jinja2Templates
    challenges: Challenges

    @classmethod
    def build(cls, engine: Engine, settings: DeskSettings) -> Desk:
        return cls(
            engine=engine,
            settings=settings,
            accounts=Accounts(engine),
            sessions=Sessions(engine, settings.session_idle, settings.session_max),
            throttle=LoginThrottle(engine, settings.login_max_failures, settings.login_max_failures_per_ip, settings.login_window),
            templates=make_templates(),
            challenges=Challenges(engine),
        )

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """Run a blocking call (database, password hashing) in a worker thread."""
        return await asyncio.to_thread(fn, *args)


def desk_of(request: Request) -> Desk:
    return request.app.state.desk
