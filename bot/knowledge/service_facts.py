"""The service's facts that depend on how it is run, written in articles as placeholders.

`{{horario_asesores}}`: when the advisors answer, from HANDOFF_OFFICE_HOURS / HANDOFF_TIMEZONE (the
handoff's own settings; the format is bot/offices/hours.py's), e.g. "de lunes a viernes de 8:30 a 16:30 (hora de Lima)".
`{{correo_servicio}}`: the service's e-mail, INFOMIGRA_CONTACT_EMAIL; unset, where the ministry
publishes it. So `info/contacto` states the hours and the address the running service keeps, and
never one that the deployment does not (`infomigra kb check` refuses any other placeholder).
Both are worded in the article's language ("es", or "en" for an English variant: "Monday to Friday,
8:30 to 16:30 (Lima time)").
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from functools import cache

from bot.offices.hours import DEFAULT_HOURS, HoursError, OfficeHours

PLACEHOLDER = re.compile(r"\{\{\s*([a-z_]+)\s*\}\}")
NAMES = frozenset({"horario_asesores", "correo_servicio"})
NO_EMAIL = "la dirección que publica el MTPE en su página oficial, https://www.gob.pe/institucion/mtpe"
NO_EMAIL_EN = "the address the MTPE publishes on its official page, https://www.gob.pe/institucion/mtpe"
ZONE_NAMES = {"America/Lima": "hora de Lima"}
ZONE_NAMES_EN = {"America/Lima": "Lima time"}
# By language: the e-mail sentence when none is set, the time zone's name (a known one, any other),
# and the hours when HANDOFF_OFFICE_HOURS cannot be read.
WORDS: dict[str, tuple[str, dict[str, str], str, str]] = {
    "es": (NO_EMAIL, ZONE_NAMES, "hora de {}", "en horario de oficina, hora de Lima"),
    "en": (NO_EMAIL_EN, ZONE_NAMES_EN, "{} time", "in office hours, Lima time"),
}


def facts(env: Mapping[str, str] | None = None, lang: str = "es") -> dict[str, str]:
    """The placeholders' values for this process's environment, worded in `lang`."""
    env = os.environ if env is None else env
    if lang not in WORDS:
        raise ValueError(f"no {lang!r} wording of the service facts (only {', '.join(WORDS)})")
    no_email, zone_names, other_zone, unreadable = WORDS[lang]
    zone = env.get("HANDOFF_TIMEZONE", "").strip() or "America/Lima"
    try:
        hours = OfficeHours.parse(env.get("HANDOFF_OFFICE_HOURS", "").strip() or DEFAULT_HOURS,
                                  env.get("HANDOFF_HOLIDAYS", ""), zone).describe(lang)
        hours = f"{hours} ({zone_names.get(zone, other_zone.format(zone))})"
    except HoursError:  # the handoff refuses to start with it; an article still reads well
        hours = unreadable
    return {"horario_asesores": hours, "correo_servicio": env.get("INFOMIGRA_CONTACT_EMAIL", "").strip() or no_email}


@cache
def _current(lang: str = "es") -> dict[str, str]:
    return facts(lang=lang)


def fill(text: str, values: Mapping[str, str] | None = None, lang: str = "es") -> str:
    """`text` with its placeholders replaced (this process's facts in `lang` unless `values` are given)."""
    if "{{" not in text:
        return text
    values = _current(lang) if values is None else values
    return PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def unknown(text: str) -> list[str]:
    """The placeholders of `text` that are not service facts."""
    return sorted({name for name in PLACEHOLDER.findall(text) if name not in NAMES})
