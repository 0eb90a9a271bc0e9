"""Store the "¿Te sirvió?" ratings: one per article per conversation (a second tap changes it).

Nothing personal is kept beyond the sender id, and only for a day (SENDER_KEPT), to recognise a
second tap in the same conversation; `forget_sender` clears it at once ("borrar mis datos").
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import and_, func, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from bot.feedback.schema import answer_ratings
from bot.store.clock import now

SENDER_KEPT = dt.timedelta(hours=24)
CHANNEL_MAX = 20


@dataclass(frozen=True)
class Recorded:
    """What a rating did: a new row, a changed one (the person changed their mind) or nothing new."""

    created: bool
    changed: bool


@dataclass(frozen=True)
class ArticleCounts:
    article_id: str
    useful: int
    not_useful: int
    # ratings given to the version of the article reviewed on this date (the newest rated)
    latest_reviewed: dt.date | None
    latest_useful: int
    latest_not_useful: int

    @property
    def total(self) -> int:
        return self.useful + self.not_useful


def rate(engine: Engine, *, article_id: str, last_reviewed: dt.date, useful: bool, channel: str,
         sender_id: str | None, conversation: str | None, at: dt.datetime | None = None) -> Recorded:
    """Record a rating; the same article rated again in the same conversation updates the rating."""
    at = at or now()
    values = {"article_id": article_id[:160], "last_reviewed": last_reviewed, "useful": useful,
              "channel": (channel or "unknown")[:CHANNEL_MAX], "sender_id": sender_id[:160] if sender_id else None,
              "conversation": conversation[:32] if conversation else None, "created_at": at, "updated_at": at}
    t = answer_ratings.c
    with engine.begin() as conn:
        # anonymise what no longer needs a sender (older than a conversation can last)
        conn.execute(update(answer_ratings).where(t.sender_id.is_not(None), t.created_at < at - SENDER_KEPT)
                     .values(sender_id=None, conversation=None))
        if values["sender_id"] and values["conversation"]:
            same = and_(t.sender_id == values["sender_id"], t.conversation == values["conversation"],
                        t.article_id == values["article_id"])
            previous = conn.execute(select(t.useful).where(same)).first()
            if previous is not None:
                if previous.useful == useful:
                    return Recorded(created=False, changed=False)
                conn.execute(update(answer_ratings).where(same).values(useful=useful, last_reviewed=last_reviewed,
                                                                       channel=values["channel"], updated_at=at))
                return Recorded(created=False, changed=True)
        try:
            with conn.begin_nested():
                conn.execute(insert(answer_ratings).values(**values))
        except IntegrityError:  # the same tap, twice at once: the other one stored it
            conn.execute(update(answer_ratings).where(
                t.sender_id == values["sender_id"], t.conversation == values["conversation"],
                t.article_id == values["article_id"]).values(useful=useful, updated_at=at))
            return Recorded(created=False, changed=True)
    return Recorded(created=True, changed=False)


def forget_sender(engine: Engine, sender_id: str) -> int:
    """Keep the person's ratings but without anything that points to them; how many rows changed."""
    with engine.begin() as conn:
        return conn.execute(update(answer_ratings).where(answer_ratings.c.sender_id == sender_id)
                            .values(sender_id=None, conversation=None)).rowcount


def counts(engine: Engine, start: dt.datetime, end: dt.datetime) -> list[ArticleCounts]:
    """Ratings given in [start, end), per article, most rated first."""
    t = answer_ratings.c
    query = (select(t.article_id, t.last_reviewed, t.useful, func.count())
             .where(t.created_at >= start, t.created_at < end)
             .group_by(t.article_id, t.last_reviewed, t.useful))
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    return summarize(rows)


def summarize(rows: Iterable[tuple[str, dt.date, bool, int]]) -> list[ArticleCounts]:
    per: dict[str, dict[dt.date, list[int]]] = {}
    for article_id, reviewed, useful, count in rows:
        per.setdefault(article_id, {}).setdefault(reviewed, [0, 0])[0 if useful else 1] += int(count)
    result = []
    for article_id, versions in per.items():
        latest = max(versions)
        result.append(ArticleCounts(article_id, sum(v[0] for v in versions.values()), sum(v[1] for v in versions.values()),
                                    latest, versions[latest][0], versions[latest][1]))
    return sorted(result, key=lambda c: (-c.total, c.article_id))
