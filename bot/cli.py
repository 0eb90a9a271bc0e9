"""`infomigra`: the command line of the project's own services."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from bot import knowledge
from bot.desk.cli import register as register_desk
from bot.handoff.cli import register as register_handoff
from bot.privacy.cli import register as register_privacy
from bot.report.cli import register as register_report
from bot.suggestions.cli import register as register_suggestions

# How `kb check` names the languages of the variants in its summary line.
LANGUAGE_NAMES = {"en": "English"}


def _kb_check(args: argparse.Namespace) -> int:
    try:
        kb = knowledge.load(args.root) if args.root else knowledge.load()
    except knowledge.KnowledgeError as exc:
        print(f"{len(exc.problems)} problem(s) in the knowledge base:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    per_country = sum(1 for a in kb.articles.values() if a.country)
    in_other = "".join(f", {len(by_id)} in {LANGUAGE_NAMES.get(lang, lang)}" for lang, by_id in sorted(kb.variants.items()))
    print(f"ok: {len(kb)} articles ({per_country} per country), {len(kb.topics)} topics{in_other}")
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


def _kb_html(args: argparse.Namespace) -> int:
    from bot.knowledge.html import render_html

    kb = knowledge.load(args.root) if args.root else knowledge.load()
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_html(kb), encoding="utf-8")
    print(f"{len(kb)} articles written to {out}")
    return 0


def _db_upgrade(args: argparse.Namespace) -> int:
    from alembic import command
    from alembic.config import Config

    from bot.store.db import ROOT, database_url

    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "bot" / "store" / "migrations"))
    if args.url:
        config.set_main_option("sqlalchemy.url", args.url)
    command.upgrade(config, "heads")  # independent branches (desk, suggestions) all apply
    print(f"database is at the latest revision: {_safe(args.url or database_url())}")
    return 0


def _safe(url: str) -> str:
    """A database URL without its password, for printing."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


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
    page = kb.add_parser("html", help="the whole knowledge base as one HTML page for proof-reading")
    page.add_argument("--out", default="results/knowledge.html", help="output file (results/knowledge.html)")
    page.add_argument("--root", help="knowledge folder (default: ./knowledge)")
    page.set_defaults(func=_kb_html)

    db = sub.add_parser("db", help="our own tables").add_subparsers(dest="db_command", required=True)
    upgrade = db.add_parser("upgrade", help="create or upgrade the tables (Alembic) in DATABASE_URL")
    upgrade.add_argument("--url", help="database URL (default: DATABASE_URL or var/infomigra.db)")
    upgrade.set_defaults(func=_db_upgrade)
    register_desk(sub)
    register_handoff(sub)
    register_suggestions(sub)
    register_privacy(sub)
    register_report(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
