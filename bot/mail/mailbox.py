"""The service's mailbox on the wire: new messages read over IMAP, answers sent over SMTP (issue 16).

- `Mailbox.unseen()`: the messages of the folder not yet taken, as (UID, bytes), oldest first, read
  with `BODY.PEEK[]` so that reading marks nothing; `Mailbox.taken(uids)` marks them `\\Seen` once the
  desk has stored them, so a message is never lost between the two (a crash in between reads it again;
  the desk recognises it by its Message-ID).
- `send(settings, message)`: hands one message to the SMTP server; it returns the recipients the server
  accepted and raises `MailError` when it accepted none (or could not be reached), so the caller marks
  an answer as sent only after the server took it, and tries again later otherwise.

Standard library clients (`imaplib`, `smtplib`) with the security the settings ask for (TLS checked
against the system's certificates), each call on its own connection, with the settings' timeout.
"""

from __future__ import annotations

import contextlib
import imaplib
import re
import smtplib
import ssl
from collections.abc import Iterator, Sequence
from email.message import EmailMessage

from bot.mail.settings import MailSettings, Server

FETCH_LIMIT = 50  # messages read per round; the rest wait for the next
UID = re.compile(rb"UID (\d+)")


class MailError(Exception):
    """The mail server could not be reached, refused the login, or refused the message."""


class Mailbox:
    def __init__(self, settings: MailSettings) -> None:
        self.settings = settings

    @contextlib.contextmanager
    def _session(self) -> Iterator[imaplib.IMAP4]:
        server, timeout = self.settings.imap, self.settings.timeout
        try:
            if server.security == "ssl":
                client: imaplib.IMAP4 = imaplib.IMAP4_SSL(server.host, server.port, ssl_context=ssl.create_default_context(),
                                                          timeout=timeout)
            else:
                client = imaplib.IMAP4(server.host, server.port, timeout=timeout)
                if server.security == "starttls":
                    client.starttls(ssl.create_default_context())
            client.login(server.user, server.password)
            status, _ = client.select(_quoted(self.settings.folder))
            if status != "OK":
                raise MailError(f"the folder {self.settings.folder!r} cannot be opened")
        except (OSError, imaplib.IMAP4.error) as exc:
            raise MailError(f"IMAP {server.host}:{server.port}: {exc}") from exc
        try:
            yield client
        except (OSError, imaplib.IMAP4.error) as exc:
            raise MailError(f"IMAP {server.host}:{server.port}: {exc}") from exc
        finally:
            with contextlib.suppress(Exception):
                client.logout()

    def unseen(self, limit: int = FETCH_LIMIT) -> list[tuple[int, bytes]]:
        """The folder's unseen messages (at most `limit`, oldest first), without marking them."""
        with self._session() as client:
            status, data = client.uid("SEARCH", None, "UNSEEN")
            if status != "OK":
                raise MailError("the mailbox refused the search for new messages")
            uids = sorted(int(uid) for uid in (data[0] or b"").split())[:limit]
            found: list[tuple[int, bytes]] = []
            for uid in uids:
                status, parts = client.uid("FETCH", str(uid), "(UID BODY.PEEK[])")
                raw = next((part[1] for part in parts or [] if isinstance(part, tuple) and UID.search(part[0])), None)
                if status == "OK" and raw is not None:
                    found.append((uid, bytes(raw)))
            return found

    def taken(self, uids: Sequence[int]) -> None:
        """Mark these messages as read: the desk has stored them."""
        if not uids:
            return
        with self._session() as client:
            status, _ = client.uid("STORE", ",".join(str(int(uid)) for uid in uids), "+FLAGS.SILENT", r"(\Seen)")
            if status != "OK":
                raise MailError("the mailbox refused to mark messages as read")


def send(settings: MailSettings, message: EmailMessage) -> list[str]:
    """Hand the message to the SMTP server; the recipients it accepted. Raises MailError otherwise."""
    server: Server = settings.smtp
    recipients = [address for _, address in _addresses(message)]
    if not recipients:
        raise MailError("the message has no recipient")
    try:
        with _smtp(server, settings.timeout) as client:
            refused = client.send_message(message, from_addr=settings.address, to_addrs=recipients)
    except smtplib.SMTPException as exc:
        raise MailError(f"SMTP {server.host}:{server.port} refused the message: {exc}") from exc
    except OSError as exc:
        raise MailError(f"SMTP {server.host}:{server.port} cannot be reached: {exc}") from exc
    return [address for address in recipients if address not in refused]


@contextlib.contextmanager
def _smtp(server: Server, timeout: float) -> Iterator[smtplib.SMTP]:
    if server.security == "ssl":
        client: smtplib.SMTP = smtplib.SMTP_SSL(server.host, server.port, timeout=timeout,
                                                context=ssl.create_default_context())
    else:
        client = smtplib.SMTP(server.host, server.port, timeout=timeout)
    try:
        if server.security == "starttls":
            client.starttls(context=ssl.create_default_context())
        if server.user:
            client.login(server.user, server.password)
        yield client
    finally:
        with contextlib.suppress(Exception):
            client.quit()


def _addresses(message: EmailMessage) -> list[tuple[str, str]]:
    from email.utils import getaddresses

    return [(name, address) for name, address in getaddresses(message.get_all("To", []) + message.get_all("Cc", []))
            if "@" in address]


def _quoted(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'
