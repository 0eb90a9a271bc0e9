"""`infomigra handoff …`: the state of the queue, and the handoff's personal data (erasure, retention).

    infomigra handoff status                      tickets waiting and being handled, and the settings in use
    infomigra handoff erase --sender whatsapp:+51…   anonymise every ticket of a person (messages deleted)
    infomigra handoff purge [--days 365]          anonymise closed tickets older than that (HANDOFF_RETENTION_DAYS)
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys

from bot.store.clock import now


def _store(args: argparse.Namespace):  # noqa: ANN202
    from sqlalchemy import inspect

    from bot.handoff.store import HandoffStore
    from bot.store.db import get_engine

    engine = get_engine(args.url) if args.url else get_engine()
    if not inspect(engine).has_table("handoff_tickets"):
        print("the handoff's tables are missing: run `infomigra db upgrade` first", file=sys.stderr)
        raise SystemExit(2)
    return HandoffStore(engine)


def _status(args: argparse.Namespace) -> int:
    from bot.handoff.settings import HandoffSettings, HandoffSettingsError

    store = _store(args)
    try:
        settings = HandoffSettings.from_env()
    except HandoffSettingsError as exc:
        print(f"settings: {exc}", file=sys.stderr)
        return 2
    at = now()
    waiting, handled = store.waiting(), store.open_tickets()
    print(f"waiting: {len(waiting)} ({sum(1 for t in waiting if t.priority)} with priority); being handled: {len(handled)}")
    for ticket in waiting:
        minutes = (at - ticket.created_at).total_seconds() / 60
        print(f"  #{ticket.id:<6} {ticket.channel:9} {ticket.reason:7} {'PRIORITY ' if ticket.priority else ''}"
              f"waiting {minutes:.0f} min")
    print(f"office hours: {settings.hours.describe()} ({'open' if settings.hours.is_open(at) else 'closed'} now)")
    print(f"Rasa API: {settings.rasa_url} ({'JWT secret set' if settings.rasa_jwt_secret else 'RASA_JWT_SECRET NOT SET'})")
    template = settings.whatsapp_template_sid or "not set: a person who wrote over 24 h ago is not told that an answer waits"
    print(f"WhatsApp template: {template}")
    return 0


def _erase(args: argparse.Namespace) -> int:
    """The person's tickets lose everything that names them (messages, e-mail, sender id) and keep
    what the monthly report counts, as in `infomigra privacy erase`, which erases the rest too."""
    from sqlalchemy import select

    from bot.handoff.schema import handoff_tickets
    from bot.privacy.erase import anonymise_tickets

    engine = _store(args).engine
    with engine.begin() as conn:
        ids = list(conn.execute(select(handoff_tickets.c.id).where(handoff_tickets.c.sender_id == args.sender)).scalars())
        messages = anonymise_tickets(conn, ids, now())
    print(f"{len(ids)} ticket(s) of {args.sender} anonymised ({messages} message(s) deleted); "
          "`infomigra privacy erase` erases the rest of what the service holds about the person")
    return 0


def _purge(args: argparse.Namespace) -> int:
    days = args.days if args.days is not None else int(os.environ.get("HANDOFF_RETENTION_DAYS", "365") or 365)
    if days < 1:
        print("--days must be at least 1", file=sys.stderr)
        return 2
    cutoff = now() - dt.timedelta(days=days)
    from bot.privacy.retention import anonymise_closed_tickets

    count = anonymise_closed_tickets(_store(args).engine, cutoff, now())
    print(f"{count} closed ticket(s) older than {days} days anonymised (the monthly report still counts them)")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add `infomigra handoff …` to the main parser."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--url", help="database URL (default: DATABASE_URL or var/infomigra.db)")
    handoff = sub.add_parser("handoff", help="the handoff to human advisors (queue state, personal data)")
    commands = handoff.add_subparsers(dest="handoff_command", required=True)
    status = commands.add_parser("status", parents=[common], help="the queue now, and the settings in use")
    status.set_defaults(func=_status)
    erase = commands.add_parser("erase", parents=[common], help="anonymise every ticket of one person")
    erase.add_argument("--sender", required=True, help="the conversation id, e.g. whatsapp:+51999888777 or telegram:123")
    erase.set_defaults(func=_erase)
    purge = commands.add_parser("purge", parents=[common], help="anonymise closed tickets older than --days")
    purge.add_argument("--days", type=int, help="default HANDOFF_RETENTION_DAYS, or 365")
    purge.set_defaults(func=_purge)
