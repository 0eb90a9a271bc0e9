"""What the desk does with a handed-over conversation, through the store and Rasa's HTTP API.

Every message to the person is first stored (delivery 'pending'), then sent as a `bot` event;
if Rasa is down it stays pending and the worker tries again, so nothing is lost across restarts.
WhatsApp's 24-hour rule: outside the window an answer is 'held', a template (Twilio ContentSid)
tells the person an answer is waiting, and the held answers go out when they write again.

Resuming (an advisor closes, the person goes back to the assistant) starts a new Rasa session
with the slots carried over: the assistant then never replays the advisor conversation, which
stays whole in our tables (and in the tracker store's earlier session).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

from bot.handoff import messages as say
from bot.handoff.escalation import HANDOFF_LOOP, transcript
from bot.handoff.rasa_api import RasaApi, RasaRefused, RasaUnavailable
from bot.handoff.settings import HandoffSettings
from bot.handoff.store import WHATSAPP_WINDOW, HandoffError, HandoffStore, Message, Ticket
from bot.mail.mailbox import MailError
from bot.mail.schema import CHANNEL as MAIL_CHANNEL
from bot.offices.directory import Offices
from bot.store.clock import now
from bot.store.leader import Leadership

if TYPE_CHECKING:
    from bot.mail.door import MailDoor

logger = logging.getLogger(__name__)
T = TypeVar("T")

NOT_CARRIED = {"handoff", "handoff_inbox", "requested_slot", "kb_offer"}
MAX_WAITING_NOTICES = 3
RESUME_RETRY = dt.timedelta(seconds=10)


class HandoffService:
    def __init__(self, store: HandoffStore, api: RasaApi, settings: HandoffSettings, mail: MailDoor | None = None,
                 rounds: list[Callable[[dt.datetime], Awaitable[None]]] | None = None):
        self.store = store
        self.api = api
        self.settings = settings
        self.mail = mail  # the e-mail door (bot/mail/door.py): its conversations are answered over SMTP, not Rasa
        self.rounds = rounds or []  # other doors' steps in the worker's round (the window's waiting WhatsApp sends)
        self._resume_tries: dict[int, dt.datetime] = {}
        self._resuming: set[int] = set()  # tickets being given back right now (an advisor's close, the worker)

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        return await asyncio.to_thread(fn, *args, **kwargs)

    # --- delivering --------------------------------------------------------------------------------
    def _bot_event(self, message: Message, ticket: Ticket) -> dict:
        text = message.text
        metadata: dict[str, Any] = {"handoff_ticket": ticket.id, "handoff_message": message.id}
        if message.author_id:
            name = say.first_name(message.author_name)
            metadata.update(advisor_id=message.author_id, advisor_name=name)
            if ticket.channel != "web" and message.role == "advisor":  # the web widget shows the name itself
                text = f"{name} (asesoría PERÚ INFOMIGRA):\n{text}"
        event: dict[str, Any] = {"event": "bot", "text": text, "metadata": metadata}
        return event

    def _outside_window(self, ticket: Ticket, at: dt.datetime) -> bool:
        if ticket.channel != "whatsapp":
            return False
        last = self.store.last_inbound(ticket.sender_id)
        return last is None or at - last > WHATSAPP_WINDOW

    async def deliver(self, message_id: int, claimed: bool = False) -> str:
        """Send one stored message to the person; returns its delivery state afterwards. Only the caller that
        claimed the message sends it (`claimed`: the worker's `claim_due` did; otherwise it is claimed here):
        a message another caller has claimed ("sending") is left to that caller, never sent twice."""
        message = await self.run(self.store.message, message_id)
        if not claimed and (message.delivery != "pending" or not await self.run(self.store.claim, message_id)):
            return (await self.run(self.store.message, message_id)).delivery or ""
        if claimed and message.delivery != "sending":
            return message.delivery or ""
        ticket = await self.run(self.store.get, message.ticket_id)
        assert ticket is not None
        if ticket.channel == MAIL_CHANNEL:
            return await self._deliver_mail(ticket, message)
        at = now()
        if await self.run(self._outside_window, ticket, at):
            await self.run(self.store.hold, message_id)
            await self._template(ticket, at)
            return "held"
        try:
            await self.api.append(ticket.sender_id, [self._bot_event(message, ticket)], ticket.channel)
        except (RasaUnavailable, RasaRefused) as exc:
            state = await self.run(self.store.failed, message_id, str(exc))
            logger.warning("handoff: message %s of ticket %s not delivered (%s): %s", message_id, ticket.id, state, exc)
            return state
        await self.run(self.store.delivered, message_id)
        return "sent"

    async def _deliver_mail(self, ticket: Ticket, message: Message) -> str:
        """An e-mail conversation's message goes out over SMTP; sent only once the server took it."""
        try:
            if self.mail is None:
                raise MailError("the e-mail door is not configured in this desk process (MAIL_IMAP_HOST)")
            await self.run(self.mail.send, ticket, message)
        except MailError as exc:
            state = await self.run(self.store.failed, message.id, str(exc))
            logger.warning("handoff: e-mail %s of ticket %s not sent (%s): %s", message.id, ticket.id, state, exc)
            return state
        await self.run(self.store.delivered, message.id)
        return "sent"

    async def _template(self, ticket: Ticket, at: dt.datetime) -> None:
        """Tell a WhatsApp person outside the 24-hour window that an answer waits (once per wait)."""
        last = await self.run(self.store.last_of_kind, ticket.id, "template")
        inbound = await self.run(self.store.last_inbound, ticket.sender_id)
        if last is not None and (inbound is None or last.created_at > inbound):
            return
        if not self.settings.whatsapp_template_sid:
            logger.warning("handoff: ticket %s: WhatsApp answer held (the person wrote more than 24 h ago) and "
                           "HANDOFF_WHATSAPP_TEMPLATE_SID is not set, so the person is not told", ticket.id)
            await self.run(self.store.add_message, ticket.id, "system",
                           "Respuesta retenida: la persona escribió hace más de 24 horas y no hay plantilla de WhatsApp "
                           "configurada (HANDOFF_WHATSAPP_TEMPLATE_SID); se entregará cuando vuelva a escribir.",
                           kind="template", delivery=None)
            return
        event = {"event": "bot", "text": None, "data": {"custom": {"content_sid": self.settings.whatsapp_template_sid}},
                 "metadata": {"handoff_ticket": ticket.id}}
        try:
            await self.api.append(ticket.sender_id, [event], ticket.channel)
        except (RasaUnavailable, RasaRefused) as exc:
            logger.warning("handoff: template for ticket %s not sent: %s", ticket.id, exc)
            return
        await self.run(self.store.add_message, ticket.id, "system", say.TEMPLATE_NOTE, kind="template", delivery="sent", at=at)

    async def notify(self, ticket: Ticket, text: str, kind: str, author_id: int | None = None,
                     author_name: str | None = None) -> None:
        if ticket.channel == MAIL_CHANNEL:  # a chat's notices (taken, waiting…) are not e-mailed: kept for the desk
            await self.run(self.store.add_message, ticket.id, "system", text, kind=kind, author_id=author_id,
                           author_name=author_name, delivery=None)
            return
        message = await self.run(self.store.add_message, ticket.id, "system", text, kind=kind, author_id=author_id,
                                 author_name=author_name)
        await self.deliver(message.id)

    # --- advisor actions ---------------------------------------------------------------------------
    async def take(self, ticket_id: int, advisor_id: int, advisor_name: str) -> Ticket:
        ticket, taken = await self.run(self.store.take, ticket_id, advisor_id)
        if taken:
            await self.notify(ticket, say.TAKEN.format(name=say.first_name(advisor_name)), "taken", advisor_id, advisor_name)
        return ticket

    async def reply(self, ticket_id: int, advisor_id: int, advisor_name: str, text: str, supervisor: bool = False,
                    article_id: str | None = None) -> Message:
        ticket = await self.run(self.store.require_owner, ticket_id, advisor_id, supervisor)
        if ticket.status != "active":
            raise HandoffError("Esta conversación se está cerrando: ya no admite respuestas.")
        if ticket.advisor_id == advisor_id and ticket.accepted_at is None:
            await self.run(self.store.accept, ticket_id, advisor_id)
        message = await self.run(self.store.add_message, ticket_id, "advisor", text, author_id=advisor_id, author_name=advisor_name,
                                 article_id=article_id)
        await self.deliver(message.id)
        return await self.run(self.store.message, message.id)

    async def transfer(self, ticket_id: int, from_id: int, to_id: int, to_name: str, supervisor: bool = False) -> Ticket:
        ticket = await self.run(self.store.transfer, ticket_id, from_id, to_id, supervisor)
        await self.notify(ticket, say.TRANSFERRED.format(name=say.first_name(to_name)), "transfer")
        return ticket

    async def move_to_office(self, ticket_id: int, office_id: int, office_name: str, actor_id: int,
                             supervisor: bool = False) -> Ticket:
        """Another office's queue takes the conversation (bot/offices); the person is told, on a chat."""
        ticket = await self.run(self.store.move_to_office, ticket_id, office_id, actor_id, supervisor)
        await self.notify(ticket, say.MOVED_OFFICE.format(office=office_name), "office")
        return ticket

    async def give_back(self, ticket_id: int, advisor_id: int, supervisor: bool = False) -> Ticket:
        ticket = await self.run(self.store.require_owner, ticket_id, advisor_id, supervisor)
        returned = await self.run(self.store.return_to_queue, ticket_id, "given back", advisor_id, ticket.advisor_id)
        if returned is None:
            raise HandoffError("La conversación cambió mientras tanto; vuelva a intentarlo.")
        await self._tell_returned(returned)
        return returned

    async def close(self, ticket_id: int, advisor_id: int, supervisor: bool = False) -> Ticket:
        ticket = await self.run(self.store.require_owner, ticket_id, advisor_id, supervisor)
        if ticket.status != "active":
            raise HandoffError("Esta conversación ya se está cerrando.")
        closed = await self.run(self.store.close, ticket_id, "advisor", advisor_id, ticket.advisor_id)
        if closed.status == "closed":
            await self.resume(closed)
        return await self.run(self.store.get, ticket_id)  # type: ignore[return-value]

    # --- resuming ----------------------------------------------------------------------------------
    async def _slots(self, sender_id: str) -> dict[str, Any]:
        tracker = await self.api.tracker(sender_id)
        slots = tracker.get("slots") if isinstance(tracker, dict) else None
        return {k: v for k, v in (slots or {}).items() if v is not None and k not in NOT_CARRIED}

    def _farewell(self, ticket: Ticket) -> tuple[list[dict], bool]:
        if ticket.closed_by == "person":
            return [{"text": say.LEFT, "buttons": [say.MENU_BUTTON]}], False
        name = say.first_name(ticket.advisor_name) if ticket.advisor_name else "La persona que te atendía"
        return [{"text": say.CLOSED.format(name=name)}, {"text": say.RATE, "buttons": say.RATING_BUTTONS}], True

    async def resume(self, ticket: Ticket) -> bool:
        """Give the conversation back to the assistant: a new session with the slots carried over,
        not paused, `handoff` false, then the farewell (and the rating question after an advisor).
        Once: an advisor's close and the worker's round may both try it at the same moment, in this
        process or in two desk processes (a claim in the database, `store.claim_resume`)."""
        if ticket.id in self._resuming:
            return False
        self._resuming.add(ticket.id)
        try:
            if not await self.run(self.store.claim_resume, ticket.id):
                current = await self.run(self.store.get, ticket.id)
                return current is not None and current.resumed_at is not None  # done, or under way elsewhere
            resumed = await self._resume(ticket)
            if not resumed:
                await self.run(self.store.release_resume, ticket.id)
            return resumed
        finally:
            self._resuming.discard(ticket.id)

    async def _resume(self, ticket: Ticket) -> bool:
        if ticket.channel == MAIL_CHANNEL:  # no assistant behind an e-mail: the conversation just ends here
            await self.run(self.store.mark_resumed, ticket.id, False, now())
            return True
        detailed = await self.run(self.store.detailed, ticket.id) or ticket
        texts, rate = self._farewell(detailed)
        at = now()
        if await self.run(self._outside_window, detailed, at):
            texts, rate = [], False  # WhatsApp would refuse free text now
        try:
            slots = await self._slots(ticket.sender_id)
            events: list[dict] = [{"event": "session_started"}]
            events += [{"event": "slot", "name": k, "value": v} for k, v in slots.items()]
            events += [{"event": "slot", "name": "handoff", "value": False}, {"event": "action", "name": "action_listen"}]
            events += [{"event": "bot", "text": t["text"], "data": {"buttons": t.get("buttons") or []},
                        "metadata": {"handoff_ticket": ticket.id}} for t in texts]
            await self.api.append(ticket.sender_id, events, ticket.channel)
        except (RasaUnavailable, RasaRefused) as exc:
            logger.warning("handoff: conversation of ticket %s not resumed yet: %s", ticket.id, exc)
            return False
        await self.run(self.store.mark_resumed, ticket.id, rate, at)
        for text in texts:
            await self.run(self.store.add_message, ticket.id, "system", text["text"], kind="closed", delivery="sent", at=at)
        self._resume_tries.pop(ticket.id, None)
        return True

    async def compact(self, ticket: Ticket) -> bool:
        """A long handoff: start a new Rasa session that stays paused (Rasa replays only that)."""
        if ticket.channel == MAIL_CHANNEL:  # no Rasa session to keep short
            await self.run(self.store.compacted, ticket.id)
            return True
        try:
            slots = await self._slots(ticket.sender_id)
            events: list[dict] = [{"event": "session_started"}]
            events += [{"event": "slot", "name": k, "value": v} for k, v in slots.items()]
            events += [{"event": "slot", "name": "handoff", "value": True}, {"event": "active_loop", "name": HANDOFF_LOOP},
                       {"event": "pause"}, {"event": "action", "name": "action_listen"}]
            await self.api.append(ticket.sender_id, events, ticket.channel)
        except (RasaUnavailable, RasaRefused) as exc:
            logger.warning("handoff: session of ticket %s not compacted: %s", ticket.id, exc)
            return False
        await self.run(self.store.compacted, ticket.id)
        return True

    async def reconcile(self, ticket: Ticket) -> int:
        """Record what the person wrote during the handoff that is in Rasa's tracker but not here (the
        action server was down when it arrived); returns how many messages were added."""
        if not ticket.is_open or ticket.channel == MAIL_CHANNEL:
            return 0
        try:
            tracker = await self.api.tracker(ticket.sender_id)
        except (RasaUnavailable, RasaRefused):
            return 0
        since = ticket.created_at.timestamp()
        added = 0
        events = [e for e in (tracker or {}).get("events") or [] if isinstance(e, dict)]
        for row in transcript(events):
            at = row.get("at")
            if row["role"] != "person" or at is None or at.timestamp() <= since or not row.get("source_key"):
                continue
            _, recorded = await self.run(self.store.record_person_message, ticket.sender_id, row["text"],
                                         source_key=row["source_key"], attachments=row.get("attachments"), at=at)
            added += recorded
        if added:
            logger.info("handoff: %d message(s) of ticket %s recovered from Rasa's tracker", added, ticket.id)
        return added

    # --- the worker's rounds -----------------------------------------------------------------------
    async def _tell_returned(self, ticket: Ticket) -> None:
        position = await self.run(self.store.position, ticket)
        await self.notify(ticket, say.RETURNED.format(where=say.where_in_queue(position)), "returned")

    async def end_requests(self) -> None:
        """The person asked to go back to the assistant."""
        for ticket in await self.run(self.store.end_requested):
            try:
                closed = await self.run(self.store.close, ticket.id, "person")
            except HandoffError:
                continue
            await self.resume(closed)

    async def release_held(self, at: dt.datetime) -> None:
        for ticket in await self.run(self.store.held_tickets):
            if not await self.run(self._outside_window, ticket, at):
                await self.run(self.store.release_held, ticket.id, at)

    async def deliver_due(self, at: dt.datetime) -> None:
        await self.run(self.store.reset_stale_sending)
        for message in await self.run(self.store.claim_due, at):
            await self.deliver(message.id, claimed=True)

    async def finish_closing(self) -> None:
        for ticket in await self.run(self.store.open_tickets):
            if ticket.status == "closing" and not await self.run(self.store.undelivered, ticket.id) \
                    and await self.run(self.store.finish_closing, ticket.id):
                await self.resume(ticket)

    async def resume_pending(self, at: dt.datetime) -> None:
        for ticket in await self.run(self.store.not_resumed):
            tried = self._resume_tries.get(ticket.id)
            if tried and at - tried < RESUME_RETRY:
                continue
            self._resume_tries[ticket.id] = at
            await self.resume(ticket)

    async def timeouts(self, at: dt.datetime) -> None:
        s = self.settings
        for ticket in await self.run(self.store.open_tickets):
            if ticket.status != "active":
                continue
            why = None
            if ticket.accepted_at is None and ticket.assigned_at and at - ticket.assigned_at > s.take_timeout:
                why = "transfer not taken"
            elif ticket.accepted_at is not None and ticket.owes_reply:
                first = await self.run(self.store.first_unanswered_at, ticket)
                if first is not None and at - first > s.reply_timeout:
                    why = "advisor did not answer"
            if why:
                returned = await self.run(self.store.return_to_queue, ticket.id, why, None, ticket.advisor_id, at)
                if returned is not None:
                    logger.info("handoff: ticket %s back in the queue (%s)", ticket.id, why)
                    await self._tell_returned(returned)
        hours_of = await self.run(Offices(self.store.engine).all_hours, s.hours)
        for ticket in await self.run(self.store.waiting):
            hours = hours_of.get(ticket.office_id, s.hours) if ticket.office_id is not None else s.hours  # its office's
            if not hours.is_open(at):
                continue
            since = max(ticket.queued_at, ticket.waiting_notice_at or ticket.queued_at)
            if hours.open_minutes_between(since, at) * 60 < s.waiting_notice.total_seconds():
                continue
            if await self.run(self.store.has_kind, ticket.id, "waiting") >= MAX_WAITING_NOTICES:
                continue
            await self.run(self.store.waiting_noticed, ticket.id, at)
            position = await self.run(self.store.position, ticket)
            await self.notify(ticket, say.STILL_WAITING.format(where=say.where_in_queue(position)), "waiting")

    async def compact_long(self) -> None:
        for ticket in [*await self.run(self.store.waiting), *await self.run(self.store.open_tickets)]:
            if ticket.status in ("waiting", "active") and ticket.messages_since_compaction >= self.settings.compact_every:
                await self.compact(ticket)

    async def read_mail(self) -> None:
        """The service's mailbox into the queue (bot/mail/door.py), when this desk has the e-mail door."""
        if self.mail is None:
            return
        try:
            outcomes = await self.run(self.mail.read_once)
        except MailError as exc:  # the mail server is down or refuses us: the next round tries again
            logger.warning("handoff: the mailbox could not be read: %s", exc)
            return
        if outcomes.get("new"):
            await self.deliver_due(now())  # the acknowledgements, without waiting for the next round

    async def tick(self, at: dt.datetime | None = None) -> None:
        """One round of the worker; each step is safe to run from several processes."""
        at = at or now()
        for step in (self.read_mail, self.end_requests, lambda: self.release_held(at), lambda: self.deliver_due(at),
                     self.finish_closing,
                     lambda: self.resume_pending(at), lambda: self.timeouts(at), self.compact_long,
                     *(functools.partial(step, at) for step in self.rounds)):
            try:
                await step()
            except Exception:
                logger.exception("handoff: a worker step failed")


async def run_worker(service: HandoffService, every: float = 1.0, stop: asyncio.Event | None = None,
                     leader: Leadership | None = None) -> None:
    """Call `tick` every `every` seconds until `stop` is set (or the task is cancelled). With `leader`,
    only while this process holds the lease: of several desk processes, one works and the others wait
    to take over (each step is also safe to run twice, so a handover cannot double a delivery)."""
    stop = stop or asyncio.Event()
    try:
        while not stop.is_set():
            if leader is None or await asyncio.to_thread(leader.held):
                await service.tick()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=every)
    finally:
        if leader is not None:
            await asyncio.to_thread(leader.release)
