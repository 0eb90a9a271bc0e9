"""The service's facts that depend on how it is run, written in articles as placeholders.

`{{horario_asesores}}`: when the advisors answer, from HANDOFF_OFFICE_HOURS / HANDOFF_TIMEZONE (the
handoff's own settings, bot/handoff/hours.py), e.g. "de lunes a viernes de 8:30 a 16:30 (hora de Lima)".
`{{correo_servicio}}`: the service's e-mail, INFOMIGRA_CONTACT_EMAIL; unset, where the ministry
publishes it. So `info/contacto` states the hours and the address the running service keeps, and
never one that the deployment does not (`infomigra kb check` refuses any other placeholder).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from functools import cache

from bot.handoff.hours import DEFAULT_HOURS, HoursError, OfficeHours

PLACEHOLDER = re.compile(r"\{\{\s*([a-z_]+)\s*\}\}")
NAMES = frozenset({"horario_asesores", "correo_servicio"})
NO_EMAIL = "la dirección que publica el MTPE en su página oficial, https://www.gob.pe/institucion/mtpe"
ZONE_NAMES = {"America/Lima": "hora de Lima"}


def facts(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The placeholders' values for this process's environment."""
    env = os.environ if env is None else env
    zone = env.get("HANDOFF_TIMEZONE", "").strip() or "America/Lima"
    try:
        hours = OfficeHours.parse(env.get("HANDOFF_OFFICE_HOURS", "").strip() or DEFAULT_HOURS,
                                  env.get("HANDOFF_HOLIDAYS", ""), zone).describe()
        hours = f"{hours} ({ZONE_NAMES.get(zone, 'hora de ' + zone)})"
    except HoursError:  # the handoff refuses to start with it; an article still reads well
        hours = "en horario de oficina, hora de Lima"
    return {"horario_asesores": hours, "correo_servicio": env.get("INFOMIGRA_CONTACT_EMAIL", "").strip() or NO_EMAIL}


@cache
def _current() -> dict[str, str]:
    return facts()


def fill(text: str, values: Mapping[str, str] | None = None) -> str:
    """`text` with its placeholders replaced (this process's facts unless `values` are given)."""
    if "{{" not in text:
        return text
    values = _current() if values is None else values
    return PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def unknown(text: str) -> list[str]:
    """The placeholders of `text` that are not service facts."""
    return sorted({name for name in PLACEHOLDER.findall(text) if name not in NAMES})
