"""Sanic 21.12 (Rasa's and rasa_sdk's pin) answers 500 instead of its 404/405/400 to any request with a
malformed Accept header (`Accept: x`, `text/html;q=abc`, `a/b/c`): the error page renderer reads
`request.accept`, whose parser raises `InvalidHeader` while the first error is being handled, and
Sanic gives up with "An error occurred while handling an error". Found by tests/e2e/test_fuzz.py on
every Rasa route (the channels' webhooks included). Here a malformed Accept header counts as none
(any type is acceptable, RFC 9110 12.5.1), so the error keeps its own status.
"""

from __future__ import annotations

from typing import Any

from sanic.exceptions import InvalidHeader
from sanic.headers import AcceptContainer, parse_accept
from sanic.request import Request


def _accept(self: Any) -> AcceptContainer:
    if self.parsed_accept is None:
        try:
            self.parsed_accept = parse_accept(self.headers.getone("accept", ""))
        except (InvalidHeader, ValueError, IndexError):  # a bad type, or a bad q value (float("abc"))
            self.parsed_accept = AcceptContainer()
    return self.parsed_accept


def apply() -> None:
    if Request.accept.fget is not _accept:
        Request.accept = property(_accept)
