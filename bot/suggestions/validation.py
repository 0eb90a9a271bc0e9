"""Checks and normalisation of what a person gives the suggestion form.

Every check returns the normalised value or raises `InvalidInput`, whose `message` is a polite
Spanish sentence that the form can say as it is, and whose `field` names what was wrong.
"""

from __future__ import annotations

import re
import unicodedata

from bot import countries
from bot.knowledge.model import LINES
from bot.suggestions.schema import CITY_MAX, CONTACT_MAX, KINDS, TEXT_MAX, TOPIC_MAX
from bot.text import fold


class InvalidInput(ValueError):
    """Input a person gave that cannot be stored; `message` is for that person (Spanish)."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_EMAIL = re.compile(rf"^[a-z0-9.!#$%&'*+/=?^_`{{|}}~-]+@{_LABEL}(?:\.{_LABEL})*\.[a-z]{{2,63}}$")
_PHONE_CHARS = re.compile(r"^\+?[0-9\s().\-/]+$")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SPACES = re.compile(r"[ \t]+")

CONTACT_HELP = ("Escribe un correo electrónico (por ejemplo nombre@correo.com) o un teléfono con su código de país "
                "(por ejemplo +34 612 345 678, o 987 654 321 si es un celular del Perú).")


def _miles(n: int) -> str:
    return f"{n:,}".replace(",", ".")


def clean_text(value: str) -> str:
    """Unicode NFC, no control characters (PostgreSQL refuses NUL), tidy spaces and blank lines."""
    value = unicodedata.normalize("NFC", str(value)).replace("\r\n", "\n").replace("\r", "\n")
    value = _CONTROL.sub("", value)
    lines = [_SPACES.sub(" ", line).strip() for line in value.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _one_line(value: str | None) -> str:
    return " ".join(clean_text(value or "").split())


def validate_text(value: str | None) -> str:
    text = clean_text(value or "")
    if not any(ch.isalnum() for ch in text):
        raise InvalidInput("text", "Escribe tu mensaje con tus propias palabras, por favor.")
    if len(text) > TEXT_MAX:
        raise InvalidInput("text", f"Tu mensaje tiene {_miles(len(text))} caracteres y el máximo es {_miles(TEXT_MAX)}. "
                                   "¿Puedes acortarlo un poco y enviarlo de nuevo?")
    return text


def validate_kind(value: str | None) -> str:
    key = fold(_one_line(value))
    for kind in KINDS:
        if key in (kind, kind + "s", kind + "es"):
            return kind
    raise InvalidInput("kind", "Elige el tipo de mensaje: sugerencia, inquietud, queja o reconocimiento.")


def validate_country(value: str | None) -> str:
    """A country slug ("espana"), `countries.OTHER` for a country outside the list."""
    slug = countries.normalize(_one_line(value))
    if slug is None:
        raise InvalidInput("country", "No reconozco ese país. Escríbelo de nuevo (por ejemplo «España» o «Estados Unidos») "
                                      "o elige «Otro país».")
    return slug


def validate_city(value: str | None) -> str | None:
    city = _one_line(value)
    if not city:
        return None
    if len(city) > CITY_MAX:
        raise InvalidInput("city", f"El nombre de la ciudad es muy largo (máximo {CITY_MAX} caracteres).")
    if not any(ch.isalpha() for ch in city):
        raise InvalidInput("city", "Escribe el nombre de la ciudad donde vives, por favor.")
    return city


def _line_titles() -> dict[str, str]:
    titles = {fold(slug): slug for slug in LINES}
    titles.update({" ".join(fold(title).strip("¿?").split()): slug for slug, title in LINES.items()})
    return titles


def validate_topic(value: str | None) -> str:
    """A line-of-action slug (`emigrar`, `retorno`, `exterior`, `peru`, `info`, `seguridad`, given as the
    slug or its title) or a short free topic."""
    topic = _one_line(value)
    slug = _line_titles().get(" ".join(fold(topic).strip("¿?").split()))
    if slug:
        return slug
    if not any(ch.isalnum() for ch in topic):
        raise InvalidInput("topic", "¿Sobre qué tema es tu mensaje? Elige una opción o escríbelo en pocas palabras.")
    if len(topic) > TOPIC_MAX:
        raise InvalidInput("topic", f"Describe el tema en pocas palabras (máximo {TOPIC_MAX} caracteres); "
                                    "los detalles van en el mensaje.")
    return topic


def _email(value: str) -> str | None:
    candidate = value.strip().removeprefix("mailto:").strip().strip("<>").lower()
    if "@" not in candidate:
        return None
    if len(candidate) > CONTACT_MAX or not _EMAIL.match(candidate) or ".." in candidate:
        raise InvalidInput("contact", "Ese correo no parece válido. " + CONTACT_HELP)
    local = candidate.split("@", 1)[0]
    if local.startswith(".") or local.endswith(".") or len(local) > 64:
        raise InvalidInput("contact", "Ese correo no parece válido. " + CONTACT_HELP)
    return candidate


def _phone(value: str) -> str:
    raw = value.strip()
    if not _PHONE_CHARS.match(raw) or raw.count("+") > 1:
        raise InvalidInput("contact", "No entendí ese dato de contacto. " + CONTACT_HELP)
    international = raw.startswith("+")
    digits = re.sub(r"\D", "", raw)
    if not international and digits.startswith("00"):
        international, digits = True, digits[2:]
    if not international:
        if len(digits) == 9 and digits.startswith("9"):  # Peruvian mobile
            return "+51" + digits
        if len(digits) == 9 and digits.startswith("0") and digits[1] != "0":  # Peruvian landline with its area code
            return "+51" + digits[1:]
        if len(digits) == 11 and digits.startswith("519"):
            return "+" + digits
        raise InvalidInput("contact", "Para un teléfono fuera del Perú, escríbelo con su código de país, "
                                      "por ejemplo +34 612 345 678.")
    if digits.startswith("51"):
        national = digits[2:]
        if (len(national) == 9 and national.startswith("9")) or (len(national) == 8 and national[0] in "12345678"):
            return "+" + digits
        raise InvalidInput("contact", "Ese número del Perú no parece completo: un celular tiene 9 dígitos y empieza "
                                      "con 9 (por ejemplo +51 987 654 321); un fijo lleva el código de la ciudad.")
    if not 8 <= len(digits) <= 15 or digits.startswith("0"):
        raise InvalidInput("contact", "Ese teléfono no parece completo. " + CONTACT_HELP)
    return "+" + digits


def validate_contact(value: str | None) -> str | None:
    """An e-mail address (lower-cased) or a phone number in E.164 form ("+51987654321"); None when empty.
    Peruvian numbers may be written without the country code (9 digits starting with 9, or 0 + area code)."""
    value = _one_line(value)
    if not value:
        return None
    email = _email(value)
    if email is not None:
        return email
    return _phone(value)


def contact_kind(contact: str | None) -> str | None:
    """"email", "phone" or None, for a contact returned by `validate_contact`."""
    if not contact:
        return None
    return "email" if "@" in contact else "phone"
