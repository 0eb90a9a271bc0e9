"""`infomigra suggestions …`: export, monthly counts, purge of old personal data, erasure for one person."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path

from bot.suggestions.schema import KINDS, STATUSES


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD, not {value!r}") from None


def _month(value: str) -> dt.date:
    from bot.suggestions.dates import parse_month

    try:
        return parse_month(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a month YYYY-MM, not {value!r}") from None


def _months(value: str) -> int:
    try:
        months = int(value)
    except ValueError:
        months = 0
    if months < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of months ≥ 1, not {value!r}")
    return months


def _engine(args: argparse.Namespace):  # noqa: ANN202
    from bot.store.db import get_engine

    return get_engine(args.url) if args.url else get_engine()


def _database_errors() -> tuple[type[Exception], ...]:
    from sqlalchemy.exc import OperationalError, ProgrammingError

    return OperationalError, ProgrammingError


def _fail(exc: Exception) -> int:
    print(f"database error: {str(exc).splitlines()[0]}\n(are the tables there? run `infomigra db upgrade`)", file=sys.stderr)
    return 1


def _export(args: argparse.Namespace) -> int:
    from bot.suggestions.export import export

    if args.until and args.until < args.since:
        print("--until is before --since", file=sys.stderr)
        return 2
    criteria = {"since": args.since, "until": args.until, "status": args.status, "kind": args.kind,
                "country": args.country, "topic": args.topic}
    try:
        if args.out:
            out = Path(args.out)
            out.parent.mkdir(parents=True, exist_ok=True)
            # CSV with a byte-order mark, so that spreadsheets read the accents as UTF-8
            with out.open("w", encoding="utf-8-sig" if args.format == "csv" else "utf-8", newline="") as fh:
                count = export(_engine(args), args.format, fh, include_contact=args.include_contact, **criteria)
            print(f"{count} suggestion(s) written to {out}" + (" (with contact data)" if args.include_contact else ""))
        else:
            count = export(_engine(args), args.format, sys.stdout, include_contact=args.include_contact, **criteria)
            print(f"{count} suggestion(s) exported", file=sys.stderr)
    except _database_errors() as exc:
        return _fail(exc)
    return 0


def _counts(args: argparse.Namespace) -> int:
    from bot.countries import name as country_name
    from bot.suggestions.export import monthly_counts

    try:
        counts = monthly_counts(_engine(args), args.month)
    except _database_errors() as exc:
        return _fail(exc)
    if args.json:
        print(json.dumps(counts, ensure_ascii=False, indent=2))
        return 0
    print(f"suggestions received in {counts['month']} (Peru time): {counts['total']}")
    for key in ("kind", "country", "topic", "status"):
        print(f"\nby {key}:")
        for value, count in counts[f"by_{key}"].items():
            label = f"{value} ({country_name(value)})" if key == "country" else value
            print(f"  {count:6d}  {label}")
    return 0


def _purge(args: argparse.Namespace) -> int:
    from bot.suggestions.dates import LIMA
    from bot.suggestions.service import purge

    try:
        result = purge(_engine(args), args.retention_months, dry_run=args.dry_run)
    except ValueError as exc:  # a bad SUGGESTIONS_RETENTION_MONTHS
        print(str(exc), file=sys.stderr)
        return 2
    except _database_errors() as exc:
        return _fail(exc)
    when = f"created before {result.cutoff.astimezone(LIMA).date()} ({result.retention_months} months)"
    if result.dry_run:
        print(f"dry run: {result.erased} suggestion(s) {when} would have their personal data erased; "
              f"{result.already_erased} already were")
        for reference in result.references:
            print(f"  {reference}")
    else:
        print(f"personal data erased from {result.erased} suggestion(s) {when}; {result.already_erased} already were")
    return 0


def _erase(args: argparse.Namespace) -> int:
    from bot.suggestions.service import erase_personal_data

    if not args.sender.strip():
        print("--sender must not be empty", file=sys.stderr)
        return 2
    try:
        count = erase_personal_data(_engine(args), args.sender)
    except _database_errors() as exc:
        return _fail(exc)
    print(f"personal data erased from {count} suggestion(s) of that sender")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add `suggestions` and its subcommands to the `infomigra` parser."""
    parser = sub.add_parser("suggestions", help='"la voz del migrante": export, counts, purge, erase')
    commands = parser.add_subparsers(dest="suggestions_command", required=True)
    url_help = "database URL (default: DATABASE_URL or var/infomigra.db)"

    export = commands.add_parser("export", help="suggestions received in a period, as CSV or JSON (no sender ids)")
    export.add_argument("--since", type=_date, required=True, help="first day, YYYY-MM-DD (Peru time)")
    export.add_argument("--until", type=_date, help="last day included, YYYY-MM-DD (default: up to now)")
    export.add_argument("--format", choices=("csv", "json"), default="csv", help="csv (default) or json")
    export.add_argument("--out", help="output file (default: standard output)")
    export.add_argument("--include-contact", action="store_true", help="include the e-mail or phone people left")
    export.add_argument("--status", choices=STATUSES, help="only this status")
    export.add_argument("--kind", choices=KINDS, help="only this kind")
    export.add_argument("--country", help="only this country slug (e.g. espana)")
    export.add_argument("--topic", help="only this topic (line-of-action slug or free topic)")
    export.add_argument("--url", help=url_help)
    export.set_defaults(func=_export)

    counts = commands.add_parser("counts", help="counts per kind, country, topic and status for one month")
    counts.add_argument("--month", type=_month, required=True, help="YYYY-MM (Peru time)")
    counts.add_argument("--json", action="store_true", help="print JSON")
    counts.add_argument("--url", help=url_help)
    counts.set_defaults(func=_counts)

    purge = commands.add_parser("purge", help="erase personal data of suggestions older than the retention period")
    purge.add_argument("--retention-months", type=_months,
                       help="months to keep personal data (default: SUGGESTIONS_RETENTION_MONTHS or 24)")
    purge.add_argument("--dry-run", action="store_true", help="only count and list what would be erased")
    purge.add_argument("--url", help=url_help)
    purge.set_defaults(func=_purge)

    erase = commands.add_parser("erase", help="erase the personal data of one person's suggestions")
    erase.add_argument("--sender", required=True, help="the person's sender id (e.g. whatsapp:+51987654321)")
    erase.add_argument("--url", help=url_help)
    erase.set_defaults(func=_erase)
