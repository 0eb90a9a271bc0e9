"""Remove personal data from free text: e-mail addresses, phone numbers and document numbers.

Used when a person asks to erase their data and when old suggestions are purged; the text keeps its
meaning ("me escribieron de [correo eliminado]") without saying who wrote it.
"""

from __future__ import annotations

import re

EMAIL_MARK = "[correo eliminado]"
PHONE_MARK = "[teléfono eliminado]"
DOCUMENT_MARK = "[documento eliminado]"

_EMAIL = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
# A document named as such: "DNI 12345678", "pasaporte: AB123456", "CE N° 001234567", "RUT 12.345.678-9".
_NAMED_DOCUMENT = re.compile(
    r"(?P<label>\b(?:dni|d\.n\.i\.?|pasaporte|passport|carn[eé](?:\s+de\s+extranjer[ií]a)?|c\.?e\.?|nie|nif|rut|run|"
    r"c[eé]dula(?:\s+de\s+identidad)?|documento(?:\s+de\s+identidad)?|ssn|codice\s+fiscale|permesso)"
    r"(?:\s*(?:n[°º.o]?|nro\.?|número|numero|no\.|#|:))*\s*)"
    r"(?P<number>[A-Z]{0,3}\d[\d.\-]{2,}\d[A-Z]?(?:-[\dkK])?)",
    re.IGNORECASE,
)
# Letters and digits mixed, with at least 5 digits: NIE X1234567L, DNI 12345678Z, AB1234567, codice fiscale.
_ALPHANUMERIC_ID = re.compile(r"\b(?=(?:[A-Za-z]*\d){5})(?=[A-Za-z0-9]*[A-Za-z])[A-Za-z0-9]{6,20}\b")
# Seven or more digits, possibly grouped with spaces, dots, dashes or parentheses, maybe after a "+".
_NUMBER = re.compile(r"(?<![\w+])\+?\(?\d(?:[\s.\-()]{0,2}\d){6,}\)?(?!\w)")


def _number(match: re.Match[str]) -> str:
    text = match.group(0)
    digits = re.sub(r"\D", "", text)
    if not text.startswith("+") and len(digits) == 8 and digits == text:
        return DOCUMENT_MARK  # a Peruvian DNI is 8 plain digits
    return PHONE_MARK


def scrub(text: str | None) -> str | None:
    """The text with e-mails, phone numbers and document numbers replaced by marks."""
    if not text:
        return text
    text = _EMAIL.sub(EMAIL_MARK, text)
    text = _NAMED_DOCUMENT.sub(lambda m: m.group("label") + DOCUMENT_MARK, text)
    text = _ALPHANUMERIC_ID.sub(DOCUMENT_MARK, text)
    return _NUMBER.sub(_number, text)
