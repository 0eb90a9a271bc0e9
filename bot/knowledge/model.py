"""One knowledge-base article: its front matter, its body, and the checks on both."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path

import yaml

from bot import countries
from bot.knowledge import service_facts

LINES: dict[str, str] = {
    "emigrar": "¿Vas a trabajar en el extranjero?",
    "retorno": "¿Vas a retornar al Perú?",
    "exterior": "¿Trabajas en el extranjero?",
    "peru": "¿Eres trabajador migrante andino o extranjero?",
    "info": "Panel informativo y el servicio",
    "seguridad": "Seguridad: fraude, trata y emergencias",
}

REQUIRED = ("id", "title", "summary", "line", "sources", "last_reviewed", "review_by", "keywords")
OPTIONAL = ("country", "lang", "cost", "duration")
# The first message of an answer: written, never cut from the body, and short enough for one phone screen.
SUMMARY_MAX = 300
# An article is reviewed at least this often: `review_by` at most this many months after `last_reviewed`.
REVIEW_MONTHS = 6
# Procedure articles (fnmatch patterns of ids): each states what the procedure costs and how long it
# takes, in front-matter keys of their own (the figure with its source, or where to check it).
PROCEDURES = ("emigrar/tramites/*", "peru/*", "retorno/ley-incentivos", "info/sivitma")
PROCEDURE_KEYS = ("cost", "duration")
# Languages an article can have besides Spanish. A variant lives beside its Spanish original as
# `<id>.<lang>.md`, with the same id and `lang: <lang>`; a Spanish article has no `lang` key.
VARIANT_LANGS = ("en",)
ID_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*(?:/[a-z0-9]+(?:-[a-z0-9]+)*)*$")
KB_LINK = re.compile(r"\[([^\]]+)\]\(kb:([^)\s]+)\)")


class KnowledgeError(ValueError):
    """The knowledge base has problems; `problems` lists each one as "file: what is wrong"."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass(frozen=True)
class Source:
    title: str
    url: str


@dataclass(frozen=True)
class Article:
    id: str
    title: str
    summary: str
    line: str
    country: str | None
    sources: tuple[Source, ...]
    last_reviewed: dt.date
    review_by: dt.date
    keywords: tuple[str, ...]
    body: str
    path: Path
    lang: str = "es"
    cost: str | None = None
    duration: str | None = None

    @property
    def topic(self) -> str:
        """The id without its country: `emigrar/tramites/espana` → `emigrar/tramites`."""
        return self.id.rsplit("/", 1)[0] if self.country else self.id

    @property
    def links(self) -> list[tuple[str, str]]:
        """Internal links of the body as (text, target id)."""
        return KB_LINK.findall(self.body)


def _as_date(value: object) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return None
    return None


def is_procedure(article_id: str) -> bool:
    return any(fnmatchcase(article_id, pattern) for pattern in PROCEDURES)


def months_after(day: dt.date, months: int) -> dt.date:
    """The same day `months` later (the month's last day when it is shorter: 31/08 + 6 → 28/02)."""
    year, month = divmod(day.month - 1 + months, 12)
    year, month = day.year + year, month + 1
    for last in (31, 30, 29, 28):
        try:
            return dt.date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def parse_article(path: Path, root: Path, today: dt.date | None = None) -> tuple[Article | None, list[str]]:
    """Parse and check one file. Returns the article (None if unusable) and its problems."""
    today = today or dt.date.today()
    where = str(path.relative_to(root.parent) if root.parent in path.parents else path)
    problems: list[str] = []

    def bad(message: str) -> None:
        problems.append(f"{where}: {message}")

    text = path.read_text(encoding="utf-8")
    if not text.startswith("---\n"):
        bad("missing YAML front matter (the file must start with '---')")
        return None, problems
    try:
        _, head, body = text.split("---\n", 2)
        meta = yaml.safe_load(head)
    except ValueError:
        bad("front matter is not closed by a '---' line")
        return None, problems
    except yaml.YAMLError as exc:
        bad(f"front matter is not valid YAML: {exc}")
        return None, problems
    if not isinstance(meta, dict):
        bad("front matter must be a mapping of keys")
        return None, problems

    for key in REQUIRED:
        if meta.get(key) in (None, "", []):
            bad(f"missing required field '{key}'")
    for key in meta:
        if key not in REQUIRED and key not in OPTIONAL:
            bad(f"unknown field '{key}'")

    relative = path.relative_to(root).as_posix()
    file_lang = next((lang for lang in VARIANT_LANGS if relative.endswith(f".{lang}.md")), None)
    lang = meta.get("lang")
    if "lang" in meta and lang not in VARIANT_LANGS:
        bad(f"lang '{lang}' is not allowed: only {', '.join(VARIANT_LANGS)} (a Spanish article has no lang)")
    elif lang and lang != file_lang:
        bad(f"lang '{lang}' needs a file name ending in '.{lang}.md'")
    elif file_lang and lang != file_lang:
        bad(f"a '.{file_lang}.md' file must declare 'lang: {file_lang}'")

    article_id = str(meta.get("id", ""))
    expected_id = relative[: -len(f".{file_lang}.md")] if file_lang else path.relative_to(root).with_suffix("").as_posix()
    if article_id and article_id != expected_id:
        bad(f"id '{article_id}' does not match its path (expected '{expected_id}')")
    if article_id and not ID_PATTERN.match(article_id):
        bad(f"id '{article_id}' must be lowercase ASCII words separated by '/' and '-'")

    line = meta.get("line")
    if line is not None and line not in LINES:
        bad(f"line '{line}' is not one of {', '.join(LINES)}")
    elif line and article_id and article_id.split("/")[0] != line:
        bad(f"line '{line}' does not match the id's first segment")

    country = meta.get("country")
    if country is not None:
        if country not in countries.NAMES:
            bad(f"unknown country '{country}'")
        elif article_id.rsplit("/", 1)[-1] != country:
            bad(f"country '{country}' must be the last segment of the id")

    sources: list[Source] = []
    raw_sources = meta.get("sources") or []
    if not isinstance(raw_sources, list):
        bad("sources must be a list")
        raw_sources = []
    for i, src in enumerate(raw_sources, 1):
        if not isinstance(src, dict) or set(src) != {"title", "url"}:
            bad(f"source {i} must have exactly 'title' and 'url'")
            continue
        if not str(src["url"]).startswith("https://"):
            bad(f"source {i} url is not https: {src['url']}")
        sources.append(Source(str(src["title"]), str(src["url"])))

    last_reviewed = _as_date(meta.get("last_reviewed"))
    review_by = _as_date(meta.get("review_by"))
    if "last_reviewed" in meta and last_reviewed is None:
        bad("last_reviewed is not a date (YYYY-MM-DD)")
    if "review_by" in meta and review_by is None:
        bad("review_by is not a date (YYYY-MM-DD)")
    if last_reviewed and last_reviewed > today:
        bad(f"last_reviewed {last_reviewed} is in the future")
    if last_reviewed and review_by and review_by <= last_reviewed:
        bad("review_by must be after last_reviewed")
    elif last_reviewed and review_by and review_by > months_after(last_reviewed, REVIEW_MONTHS):
        bad(f"review_by {review_by} is more than {REVIEW_MONTHS} months after last_reviewed {last_reviewed} "
            f"(at most {months_after(last_reviewed, REVIEW_MONTHS)})")

    summary = meta.get("summary")
    if summary not in (None, "") and not isinstance(summary, str):
        bad("summary must be text")
        summary = None
    summary = " ".join(str(summary or "").split())
    if len(summary) > SUMMARY_MAX:
        bad(f"summary has {len(summary)} characters; at most {SUMMARY_MAX} (the first message of the answer)")

    texts: dict[str, str | None] = {}
    for key in PROCEDURE_KEYS:
        value = meta.get(key)
        if value is not None and not isinstance(value, str):
            bad(f"{key} must be text (the figure and its source, or where to check it)")
            value = None
        texts[key] = " ".join(value.split()) if isinstance(value, str) and value.strip() else None
        if article_id and is_procedure(article_id) and not texts[key]:
            bad(f"a procedure article needs '{key}': what the official source says, "
                "or that it gives no figure and where to check it")

    keywords = meta.get("keywords") or []
    if isinstance(keywords, list):  # a bare number such as 911 is a keyword too
        keywords = [str(k) if isinstance(k, (int, float)) and not isinstance(k, bool) else k for k in keywords]
    if not isinstance(keywords, list) or not all(isinstance(k, str) for k in keywords):
        bad("keywords must be a list of words or phrases")
        keywords = []

    body = body.strip()
    if not body:
        bad("the article has no body")
    for target in re.findall(r"\]\((?!kb:|https://)([^)]*)\)", body):
        bad(f"link '{target}' is neither kb:<id> nor https://")
    for name in service_facts.unknown(body):
        bad(f"placeholder {{{{{name}}}}} is not a service fact (known: {', '.join(sorted(service_facts.NAMES))})")
    if service_facts.PLACEHOLDER.search(summary):
        bad("the summary cannot hold a placeholder: its length must be the one sent")

    if problems:
        return None, problems
    return (
        Article(
            id=article_id,
            title=str(meta["title"]).strip(),
            summary=summary,
            line=str(line),
            country=country,
            sources=tuple(sources),
            last_reviewed=last_reviewed,  # type: ignore[arg-type]
            review_by=review_by,  # type: ignore[arg-type]
            keywords=tuple(k.strip() for k in keywords),
            body=body,
            path=path,
            lang=str(lang or "es"),
            cost=texts["cost"],
            duration=texts["duration"],
        ),
        problems,
    )
