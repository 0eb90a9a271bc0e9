"""An e-mail received by the service's mailbox (directive 5.6), as the desk needs it (issue 16).

`parse(raw)` reads the bytes of one message (RFC 5322, as IMAP hands them over) with the standard
library's modern parser and gives an `InboundMail`: who wrote (address and name), the subject, the text
the person wrote (the plain-text part, or the HTML part reduced to text without running or keeping any
markup; the quoted earlier messages of a reply cut off), the attachments (name, type, size, bytes), the
thread it belongs to (`Message-ID`, `In-Reply-To`, `References`) and, when it was written by a machine,
why (`automatic`): such a message is shown to advisors but never answered, so that the service never
loops with an auto-responder, a bounce or a mailing list (RFC 3834 and the usual headers).

Nothing here touches the network or the database: the mailbox reader and the desk use it.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import html
import re
from dataclasses import dataclass
from email.message import EmailMessage, Message
from email.utils import getaddresses, parsedate_to_datetime
from html.parser import HTMLParser

TEXT_MAX = 20_000  # characters of the person's text kept (a chat message has far fewer)
ATTACHMENTS_MAX = 10
ATTACHMENT_BYTES_MAX = 10 * 1024 * 1024  # larger files are listed, not kept
MESSAGE_ID = re.compile(r"<[^<>\s]+>")

# Precedence values of bulk and automatic mail (RFC 2076, RFC 3834 §3.1.8).
AUTOMATIC_PRECEDENCE = frozenset({"bulk", "junk", "list", "auto_reply"})
# Senders that are systems, not people.
SYSTEM_SENDER = re.compile(r"^(mailer-daemon|postmaster|no-?reply|do-?not-?reply)@", re.I)
# Headers some auto-responders set instead of Auto-Submitted.
AUTORESPONDER_HEADERS = ("X-Autoreply", "X-Autorespond", "X-Auto-Response-Suppress")
# Where a reply's quoted earlier message starts: "El lun, 1 dic 2026 a las 10:00, Ana <…> escribió:",
# "On Mon, … wrote:", Outlook's separator lines.
QUOTE_START = re.compile(
    r"^\s*(?:(?:El|On)\s.{0,200}?(?:escribió|wrote)\s*:\s*$"
    r"|-{2,}\s*(?:Mensaje original|Original Message|Forwarded message|Mensaje reenviado)\s*-{2,}\s*$"
    r"|_{20,}\s*$)",
    re.I | re.M,
)


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    size: int
    data: bytes | None  # None: over ATTACHMENT_BYTES_MAX, listed but not kept


@dataclass(frozen=True)
class InboundMail:
    message_id: str | None
    sender: str  # the address, lower-case; "" when the message has no usable From
    sender_name: str
    subject: str
    text: str
    attachments: tuple[Attachment, ...]
    in_reply_to: str | None
    references: tuple[str, ...]
    date: dt.datetime | None
    automatic: str | None  # why no answer may be sent (a machine wrote it); None: a person did

    @property
    def thread_keys(self) -> tuple[str, ...]:
        """The message ids this one answers, the nearest first: where its conversation may be found."""
        keys = ([self.in_reply_to] if self.in_reply_to else []) + list(reversed(self.references))
        return tuple(dict.fromkeys(keys))


def parse(raw: bytes) -> InboundMail:
    # The modern policy always builds an EmailMessage (get_body, iter_attachments).
    message: EmailMessage = email.message_from_bytes(raw, policy=email.policy.default)  # type: ignore[assignment]
    sender_name, sender = _sender(message)
    return InboundMail(
        message_id=_one_id(message.get("Message-ID")),
        sender=sender,
        sender_name=sender_name,
        subject=_header(message, "Subject")[:300],
        text=strip_quoted(_body_text(message))[:TEXT_MAX],
        attachments=tuple(_attachments(message)),
        in_reply_to=_one_id(message.get("In-Reply-To")),
        references=tuple(MESSAGE_ID.findall(_header(message, "References")))[-20:],
        date=_date(message),
        automatic=automatic_reason(message, sender),
    )


def automatic_reason(message: Message, sender: str | None = None) -> str | None:
    """Why this message must not be answered (a machine wrote it, or it went to a list), or None."""
    submitted = _header(message, "Auto-Submitted").lower()
    if submitted and submitted.split(";")[0].strip() != "no":
        return f"Auto-Submitted: {submitted[:40]}"
    precedence = _header(message, "Precedence").lower()
    if precedence in AUTOMATIC_PRECEDENCE:
        return f"Precedence: {precedence}"
    for name in ("List-Id", "List-Unsubscribe", "List-Post"):
        if message.get(name) is not None:
            return f"mailing list ({name})"
    for name in AUTORESPONDER_HEADERS:
        if message.get(name) is not None:
            return f"auto-responder ({name})"
    return_path = message.get("Return-Path")
    if return_path is not None and str(return_path).strip() in ("<>", ""):
        return "empty return path (a bounce)"
    if message.get_content_type() == "multipart/report":
        return "delivery report"
    sender = _sender(message)[1] if sender is None else sender
    if not sender:
        return "no sender address"
    if SYSTEM_SENDER.match(sender):
        return f"system sender ({sender.split('@')[0]})"
    return None


def strip_quoted(text: str) -> str:
    """The part of a reply the person wrote: up to the line that introduces the quoted earlier message,
    without the lines quoted with ">" after it; the whole text when nothing is quoted."""
    match = QUOTE_START.search(text)
    if match and text[:match.start()].strip():
        text = text[:match.start()]
    lines = text.rstrip().splitlines()
    while lines and (lines[-1].lstrip().startswith(">") or not lines[-1].strip()):
        lines.pop()
    return "\n".join(lines).strip() if lines else text.strip()


class _TextOfHtml(HTMLParser):
    """The text a reader sees in an HTML body: no script, style or head; blocks as paragraphs, line
    breaks and list items as lines."""

    SKIP = frozenset({"script", "style", "head", "title", "template", "noscript"})
    PARAGRAPH = frozenset({"p", "div", "blockquote", "table", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6"})
    LINE = frozenset({"br", "li", "tr"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in self.SKIP:
            self.skipping += 1
        elif tag in self.PARAGRAPH:
            self.parts.append("\n\n")
        elif tag in self.LINE:
            self.parts.append("\n- " if tag == "li" else "\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif tag in self.PARAGRAPH:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def html_to_text(markup: str) -> str:
    """Plain text from HTML: tags and what scripts and styles hold dropped, entities decoded, blank runs
    folded. The result is text to show as text (never markup)."""
    parser = _TextOfHtml()
    parser.feed(markup)
    parser.close()
    text = html.unescape("".join(parser.parts)).replace("\xa0", " ")
    lines = [re.sub(r"[ \t\r\f\v]+", " ", line).strip() for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _header(message: Message, name: str) -> str:
    value = message.get(name)
    try:
        return " ".join(str(value).split()) if value is not None else ""
    except Exception:  # a header the parser could not decode
        return ""


def _sender(message: Message) -> tuple[str, str]:
    for name, address in getaddresses([_header(message, "Reply-To") or _header(message, "From")]):
        address = address.strip().lower()
        if "@" in address and len(address) <= 254 and not any(c.isspace() for c in address):
            return name.strip()[:120], address
    return "", ""


def _one_id(value: object) -> str | None:
    found = MESSAGE_ID.findall(str(value or ""))
    return found[0][:250] if found else None


def _date(message: Message) -> dt.datetime | None:
    try:
        value = parsedate_to_datetime(_header(message, "Date"))
    except (TypeError, ValueError, IndexError):
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


def _content(part: Message) -> str:
    try:
        content = part.get_content()
    except (LookupError, ValueError, AssertionError):  # an unknown charset or a broken encoding
        payload = part.get_payload(decode=True) or b""
        content = payload.decode("utf-8", errors="replace")
    return content if isinstance(content, str) else ""


def _body_text(message: EmailMessage) -> str:
    try:
        body = message.get_body(preferencelist=("plain", "html"))
    except (KeyError, IndexError):
        body = None
    if body is None:
        return ""
    text = _content(body)
    if body.get_content_type() == "text/html":
        text = html_to_text(text)
    return text.replace("\r\n", "\n").replace("\x00", "").strip()


def _attachments(message: EmailMessage) -> list[Attachment]:
    found: list[Attachment] = []
    for part in message.iter_attachments():
        if len(found) == ATTACHMENTS_MAX:
            break
        if part.is_multipart():
            continue
        data = part.get_payload(decode=True) or b""
        name = " ".join(str(part.get_filename() or "adjunto").split())[:200]
        name = re.sub(r"[\\/\x00-\x1f]", "_", name)  # a name to show and to offer for download, never a path
        found.append(Attachment(name, part.get_content_type(), len(data),
                                data if len(data) <= ATTACHMENT_BYTES_MAX else None))
    return found
