"""Real mail servers for the e-mail door's tests, on loopback, each test its own.

- `imap_server()`: Debian's Dovecot (installed by `make mail-server`) with a configuration of its own
  in a temporary folder: one account, a Maildir, plain-text login allowed only because it listens on
  127.0.0.1. The package's system service is not used.
- `smtp_server()`: aiosmtpd's SMTP server in a thread, keeping what it receives; it can be told to
  refuse the next messages with a temporary error (451), as a busy server does.
"""

from __future__ import annotations

import contextlib
import email
import email.policy
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path

import pytest

USER, PASSWORD = "buzon@infomigra.test", "clave-de-prueba"
SERVICE_ADDRESS = "infomigra@trabajo.gob.pe"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as conn:
            return conn.recv(64).startswith(b"* OK")
    except OSError:
        return False


@dataclass
class ImapServer:
    host: str
    port: int
    user: str
    password: str
    folder: Path


@contextlib.contextmanager
def imap_server() -> Iterator[ImapServer]:
    dovecot = shutil.which("dovecot") or ("/usr/sbin/dovecot" if Path("/usr/sbin/dovecot").exists() else None)
    if dovecot is None:
        pytest.fail("Dovecot is not installed: `make mail-server` installs it (Debian's dovecot-imapd)")
    root = Path(tempfile.mkdtemp(prefix="infomigra-imap-"))
    root.chmod(0o755)  # Dovecot's own users must reach the mailbox
    port = free_port()
    for name in ("run", "state", "mail", "home"):
        (root / name).mkdir()
    (root / "users").write_text(f"{USER}:{{PLAIN}}{PASSWORD}\n")
    (root / "dovecot.conf").write_text(f"""
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:{root}/mail/%u
first_valid_uid = 0
mail_uid = dovecot
mail_gid = dovecot
default_internal_user = dovecot
default_login_user = dovenull
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users
}}
userdb {{
  driver = static
  args = uid=dovecot gid=dovecot home={root}/home/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
""")
    shutil.chown(root / "mail", "dovecot", "dovecot")
    shutil.chown(root / "home", "dovecot", "dovecot")
    process = subprocess.Popen([dovecot, "-F", "-c", str(root / "dovecot.conf")], stdout=subprocess.DEVNULL,
                               stderr=subprocess.STDOUT)
    try:
        for _ in range(300):  # it listens within moments; give up after 30 s
            if _answers(port) or process.poll() is not None:
                break
            time.sleep(0.1)
        if not _answers(port):
            log = (root / "dovecot.log").read_text() if (root / "dovecot.log").exists() else ""
            pytest.fail(f"Dovecot did not start on 127.0.0.1:{port}: {log[-2000:]}")
        yield ImapServer("127.0.0.1", port, USER, PASSWORD, root)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(root, ignore_errors=True)


@dataclass
class SmtpServer:
    host: str
    port: int
    received: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    refuse_next: int = 0  # answer "451" to this many messages, then accept


class _Handler:
    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 - aiosmtpd's hook name
        if self.server.refuse_next > 0:
            self.server.refuse_next -= 1
            return "451 4.3.0 Try again later"
        self.server.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.server.received.append(email.message_from_bytes(envelope.original_content, policy=email.policy.default))
        return "250 OK"


@contextlib.contextmanager
def smtp_server() -> Iterator[SmtpServer]:
    from aiosmtpd.controller import Controller

    server = SmtpServer("127.0.0.1", free_port())
    controller = Controller(_Handler(server), hostname=server.host, port=server.port)
    controller.start()
    try:
        yield server
    finally:
        controller.stop()


def mail_env(imap: ImapServer, smtp: SmtpServer | None = None, **extra: str) -> dict[str, str]:
    """The MAIL_* variables (bot/mail/settings.py) of a desk reading `imap` and sending through `smtp`."""
    return {"MAIL_IMAP_HOST": imap.host, "MAIL_IMAP_PORT": str(imap.port), "MAIL_IMAP_SECURITY": "none",
            "MAIL_IMAP_USER": imap.user, "MAIL_IMAP_PASSWORD": imap.password,
            "MAIL_SMTP_HOST": "127.0.0.1", "MAIL_SMTP_PORT": str(smtp.port if smtp else 9), "MAIL_SMTP_SECURITY": "none",
            "MAIL_SMTP_USER": "", "MAIL_ADDRESS": SERVICE_ADDRESS, "MAIL_TIMEOUT_SECONDS": "10", **extra}
