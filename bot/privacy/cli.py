"""`infomigra privacy …`: the erasure of one person and the retention job, by hand.

    infomigra privacy erase --sender whatsapp:+51…   everything about that conversation id (as "borrar mis datos")
    infomigra privacy retention                      apply the retention periods now (the desk does it daily)
"""

from __future__ import annotations

import argparse
import asyncio
import sys


def _engine(args: argparse.Namespace):  # noqa: ANN202
    from sqlalchemy import inspect

    from bot.store.db import get_engine

    engine = get_engine(args.url) if args.url else get_engine()
    if not inspect(engine).has_table("privacy_erasures"):
        print("the privacy tables are missing: run `infomigra db upgrade` first", file=sys.stderr)
        raise SystemExit(2)
    return engine


def _erase(args: argparse.Namespace) -> int:
    from bot.handoff.rasa_api import RasaApi
    from bot.handoff.settings import HandoffSettings
    from bot.privacy.erase import erase_person, forget_conversation

    result = erase_person(_engine(args), args.sender, requested_by="desk", staff_email=args.by)
    settings = HandoffSettings.from_env()
    api = RasaApi(settings.rasa_url, getattr(settings, "rasa_jwt_secret", "") or getattr(settings, "rasa_token", ""))

    async def forget() -> str:
        try:
            return await forget_conversation(api, args.sender, tracker_url=args.tracker_url)
        finally:
            await api.close()

    conversation = asyncio.run(forget())
    print(f"erased: {result.counts()}; conversation: {conversation}")
    return 0 if conversation != "failed" else 1


def _retention(args: argparse.Namespace) -> int:
    from bot.privacy.erase import tracker_engine
    from bot.privacy.retention import run_retention

    tracker = tracker_engine(args.tracker_url)
    try:
        print(run_retention(_engine(args), tracker))
    finally:
        if tracker is not None:
            tracker.dispose()
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--url", help="our database (default: DATABASE_URL or var/infomigra.db)")
    common.add_argument("--tracker-url", help="Rasa's tracker store (default: TRACKER_DATABASE_URL, else endpoints.yml)")
    privacy = sub.add_parser("privacy", help="personal data: erasure of one person, retention")
    commands = privacy.add_subparsers(dest="privacy_command", required=True)
    erase = commands.add_parser("erase", parents=[common], help="erase everything about one conversation id")
    erase.add_argument("--sender", required=True, help="the conversation id, e.g. whatsapp:+51999888777 or telegram:123")
    erase.add_argument("--by", required=True, help="the e-mail of the staff member doing it (audit)")
    erase.set_defaults(func=_erase)
    retention = commands.add_parser("retention", parents=[common], help="apply the retention periods now")
    retention.set_defaults(func=_retention)
