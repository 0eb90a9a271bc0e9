"""What the channels remember between messages, in our database (tables in bot/store/schema.py).

- processed provider message ids, so a retried delivery is handled once;
- per person: when they last wrote (WhatsApp's 24-hour window) and whether they opted out;
- the buttons last offered to a person, so that only payloads the assistant issued come back.

The database calls are synchronous (SQLAlchemy 1.4 in the Rasa venv): each one runs in a worker
thread so that no channel blocks Rasa's event loop.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import secrets
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from bot.rasa.channels.checks import RASA_DEFAULT_INTENTS, forced_intent
from bot.store.clock import now
from bot.store.db import get_engine
from bot.store.schema import button_choices, contacts, seen_messages
from bot.text import fold

# How many offered buttons per person are kept (older keyboards stop working after that).
KEEP_BUTTONS = 60
SEEN_FOR = dt.timedelta(days=7)


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    """SQLite gives naive datetimes back; every stored time is UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=dt.timezone.utc)
    return value


def _pressable(payload: str | None) -> str | None:
    """A stored payload, unless it is one of Rasa's own intents (`/restart`…): no button of ours
    offers them, and a person must never reach them, not even through a button."""
    return None if payload is None or forced_intent(payload) in RASA_DEFAULT_INTENTS else payload


class ChannelState:
    def __init__(self, engine: Engine | None = None):
        self.engine = engine or get_engine()

    async def _run(self, fn: Any, *args: Any) -> Any:
        return await asyncio.to_thread(fn, *args)

    # processed ids ------------------------------------------------------------------------
    def _first_time(self, key: str) -> bool:
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(seen_messages).values(key=key, seen_at=now()))
            return True
        except IntegrityError:
            return False

    async def first_time(self, key: str) -> bool:
        """Record a provider message id; False when it was already processed."""
        return await self._run(self._first_time, key)

    def _seen(self, key: str) -> bool:
        with self.engine.connect() as conn:
            return conn.execute(select(seen_messages.c.key).where(seen_messages.c.key == key)).first() is not None

    async def seen(self, key: str) -> bool:
        """True when a provider message id was handled already (`mark_seen`)."""
        return await self._run(self._seen, key)

    async def mark_seen(self, key: str) -> None:
        """Record a provider message id once its handling succeeded (a failed one stays unseen, so a
        redelivery is handled again); recording it twice is harmless."""
        await self._run(self._first_time, key)

    def _forget_old(self) -> int:
        with self.engine.begin() as conn:
            return conn.execute(delete(seen_messages).where(seen_messages.c.seen_at < now() - SEEN_FOR)).rowcount

    async def forget_old(self) -> int:
        return await self._run(self._forget_old)

    # contacts ---------------------------------------------------------------------------------
    def _touch(self, sender_id: str, channel: str, opted_out: bool | None) -> None:
        at = now()
        values: dict[str, Any] = {"last_inbound_at": at}
        if opted_out is not None:
            values.update(opted_out=opted_out, opted_out_at=at if opted_out else None)
        with self.engine.begin() as conn:
            changed = conn.execute(update(contacts).where(contacts.c.sender_id == sender_id).values(**values)).rowcount
            if not changed:
                try:
                    conn.execute(insert(contacts).values(sender_id=sender_id, channel=channel, created_at=at,
                                                         opted_out=bool(opted_out), **{k: v for k, v in values.items()
                                                                                      if k != "opted_out"}))
                except IntegrityError:  # a concurrent first message of the same person
                    conn.execute(update(contacts).where(contacts.c.sender_id == sender_id).values(**values))

    async def touch(self, sender_id: str, channel: str, opted_out: bool | None = None) -> None:
        """Record that the person wrote now; `opted_out` True/False changes their opt-out."""
        await self._run(self._touch, sender_id, channel, opted_out)

    def _contact(self, sender_id: str) -> dict | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(contacts).where(contacts.c.sender_id == sender_id)).mappings().first()
        if row is None:
            return None
        data = dict(row)
        for key in ("last_inbound_at", "opted_out_at", "created_at"):
            data[key] = _aware(data[key])
        return data

    async def contact(self, sender_id: str) -> dict | None:
        return await self._run(self._contact, sender_id)

    async def is_opted_out(self, sender_id: str) -> bool:
        row = await self.contact(sender_id)
        return bool(row and row["opted_out"])

    # buttons ----------------------------------------------------------------------------------
    def _offer(self, sender_id: str, buttons: list[dict]) -> list[str]:
        offer = secrets.token_hex(4)
        refs = [secrets.token_urlsafe(9) for _ in buttons]
        at = now()
        with self.engine.begin() as conn:
            conn.execute(insert(button_choices), [
                {"sender_id": sender_id, "offer": offer, "position": i + 1, "ref": ref,
                 "title": str(b.get("title", "")), "payload": str(b.get("payload", "")), "created_at": at}
                for i, (ref, b) in enumerate(zip(refs, buttons, strict=True))
            ])
            keep = select(button_choices.c.id).where(button_choices.c.sender_id == sender_id) \
                .order_by(button_choices.c.id.desc()).limit(KEEP_BUTTONS)
            conn.execute(delete(button_choices).where(button_choices.c.sender_id == sender_id,
                                                      button_choices.c.id.not_in(keep.scalar_subquery())))
        return refs

    async def offer(self, sender_id: str, buttons: list[dict]) -> list[str]:
        """Remember the buttons offered to a person; returns one short reference per button."""
        if not buttons:
            return []
        return await self._run(self._offer, sender_id, buttons)

    def _payload_for_ref(self, sender_id: str, ref: str) -> str | None:
        with self.engine.connect() as conn:
            return conn.execute(select(button_choices.c.payload).where(
                button_choices.c.sender_id == sender_id, button_choices.c.ref == ref)).scalar()

    async def payload_for_ref(self, sender_id: str, ref: str) -> str | None:
        """The payload of a button reference offered to this person (None if not theirs)."""
        return _pressable(await self._run(self._payload_for_ref, sender_id, ref))

    def _payload_for_reply(self, sender_id: str, reply: str) -> str | None:
        with self.engine.connect() as conn:
            latest = conn.execute(select(func.max(button_choices.c.id)).where(
                button_choices.c.sender_id == sender_id)).scalar()
            if latest is None:
                return None
            offer = conn.execute(select(button_choices.c.offer).where(button_choices.c.id == latest)).scalar()
            rows = conn.execute(select(button_choices.c.position, button_choices.c.title, button_choices.c.payload)
                                .where(button_choices.c.sender_id == sender_id, button_choices.c.offer == offer)).all()
        def loose(text: str) -> str:
            return " ".join(fold(text).replace("ñ", "n").split()).rstrip(".)")

        wanted = loose(reply)
        for position, title, payload in rows:
            if wanted == str(position) or wanted == loose(title):
                return payload
        return None

    async def payload_for_reply(self, sender_id: str, reply: str) -> str | None:
        """The payload of the latest offer's button answered by its number ("2") or its title."""
        return _pressable(await self._run(self._payload_for_reply, sender_id, reply))
