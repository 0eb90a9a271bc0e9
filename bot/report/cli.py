"""`infomigra report --month YYYY-MM [--out DIR] [--tracker-url URL] [--database-url URL]`."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from sqlalchemy.engine import Engine

from bot.report.output import reports_dir


def _month(value: str) -> str:
    from bot.suggestions import dates

    try:
        return f"{dates.parse_month(value):%Y-%m}"
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected YYYY-MM-DD, not {value!r}") from None


def generate(month: str, out: Path | None = None, *, tracker_url: str | None = None, engine: Engine | None = None,
             endpoints: Path | None = None, today: dt.date | None = None) -> list[Path]:
    """Build the month's report and write it (default folder: REPORTS_DIR or var/reports, then YYYY-MM).
    `engine`: our tables (default: DATABASE_URL)."""
    from bot.report.build import build
    from bot.report.output import write
    from bot.report.tracker import open_store, resolve_url
    from bot.store.db import get_engine

    tracker = open_store(resolve_url(tracker_url, endpoints))
    try:
        report = build(month, tracker_engine=tracker, engine=engine or get_engine(), today=today)
    finally:
        tracker.dispose()
    return write(report, out or reports_dir() / month)


def _run(args: argparse.Namespace) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    from bot.report.tracker import TrackerStoreError

    try:
        from bot.store.db import get_engine

        paths = generate(args.month, Path(args.out) if args.out else None, tracker_url=args.tracker_url,
                         engine=get_engine(args.database_url), endpoints=Path(args.endpoints) if args.endpoints else None,
                         today=args.today)
    except TrackerStoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except SQLAlchemyError as exc:
        print(f"error: the database could not be read ({type(exc).__name__}); check the URL and that it is reachable",
              file=sys.stderr)
        return 1
    print(f"report for {args.month}: {paths[0]}")
    print(f"{len(paths) - 1} CSV files in {paths[0].parent}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    report = sub.add_parser("report", help="the monthly report (HTML with charts, and CSV files)")
    report.add_argument("--month", required=True, type=_month, help="the month, YYYY-MM")
    report.add_argument("--out", help="output folder (default: $REPORTS_DIR/YYYY-MM or var/reports/YYYY-MM)")
    report.add_argument("--tracker-url", help="Rasa's SQL tracker store (default: $TRACKER_DATABASE_URL, else the "
                                              "tracker_store of --endpoints)")
    report.add_argument("--endpoints", help="Rasa endpoints file to read the tracker store from (default: endpoints.yml)")
    report.add_argument("--database-url", help="our tables (default: $DATABASE_URL or var/infomigra.db)")
    report.add_argument("--today", type=_date, help="date for the articles due for review (default: today)")
    report.set_defaults(func=_run)
