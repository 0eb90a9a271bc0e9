"""Reference codes shown to the person: "VM-2026-7K3Q9" (year in Peru, five characters that cannot be
misread: no 0/O, 1/I/L or U)."""

from __future__ import annotations

import re
import secrets

PREFIX = "VM"
ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
LENGTH = 5
PATTERN = re.compile(rf"^{PREFIX}-\d{{4}}-[{ALPHABET}]{{{LENGTH}}}$")


def new_reference(year: int) -> str:
    return f"{PREFIX}-{year:04d}-" + "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def normalize_reference(value: str) -> str | None:
    """A reference as a person may type it ("vm 2026 7k3q9", "VM20267K3Q9") in its canonical form, or None."""
    compact = re.sub(r"[\s\-_.]", "", value or "").upper()
    match = re.fullmatch(rf"{PREFIX}(\d{{4}})([{ALPHABET}]{{{LENGTH}}})", compact)
    return f"{PREFIX}-{match.group(1)}-{match.group(2)}" if match else None
