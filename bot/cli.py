"""`infomigra`: the command line of the project's own services."""

from __future__ import annotations

import argparse
import datetime as dt
import sys

from bot import knowledge


def _kb_check(args: argparse.Namespace) -> int:
    try:
        kb = knowledge.load(args.root) if args.root else knowledge.load()
    except knowledge.KnowledgeError as exc:
        print(f"{len(exc.problems)} problem(s) in the knowledge base:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    per_country = sum(1 for a in kb.articles.values() if a.country)
    print(f"ok: {len(kb)} articles ({per_country} per country), {len(kb.topics)} topics")
    return 0


def _kb_stale(args: argparse.Namespace) -> int:
    kb = knowledge.load(args.root) if args.root else knowledge.load()
    today = dt.date.fromisoformat(args.today) if args.today else dt.date.today()
    due = kb.stale(today, args.days)
    if not due:
        print(f"no article is past or within {args.days} days of its review date")
        return 0
    for article in due:
        state = "VENCIDO" if article.review_by < today else "pronto"
        print(f"{article.review_by}  {state:8} {article.id}  ({article.title})")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="infomigra", description="PERÚ INFOMIGRA assistant tools")
    sub = parser.add_subparsers(dest="command", required=True)

    kb = sub.add_parser("kb", help="knowledge base").add_subparsers(dest="kb_command", required=True)
    check = kb.add_parser("check", help="validate every article")
    check.add_argument("--root", help="knowledge folder (default: ./knowledge)")
    check.set_defaults(func=_kb_check)
    stale = kb.add_parser("stale", help="articles past or near their review date")
    stale.add_argument("--days", type=int, default=30, help="how many days ahead count as near (30)")
    stale.add_argument("--today", help="pretend today is this date (YYYY-MM-DD)")
    stale.add_argument("--root", help="knowledge folder (default: ./knowledge)")
    stale.set_defaults(func=_kb_stale)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
