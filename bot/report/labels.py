"""What the report calls things (Spanish, for the Dirección de Migración Laboral)."""

from __future__ import annotations

from bot import countries
from bot.knowledge.model import LINES

CHANNELS = {"whatsapp": "WhatsApp", "telegram": "Telegram", "web": "Web (chat del portal)", "rest": "REST (API)",
            "correo": "Correo", "unknown": "Sin canal"}
DOORS = {"web": "Web (chat del portal)", "whatsapp": "WhatsApp", "telegram": "Telegram", "correo": "Correo electrónico",
         "ventanilla": "Ventanilla (presencial)"}
OUTCOMES = {"answered": "Respondida por el asistente", "escalated": "Derivada a un asesor", "unresolved": "Sin resolver",
            "browsed": "Solo saludo o menú"}
REASONS = {"asked": "La persona pidió un asesor", "unsure": "El asistente no entendió dos veces", "safety": "Tema de seguridad"}
OFFERS = {"taken": "Eligió un artículo ofrecido", "refused": "Respondió «Ninguna de estas»",
          "other": "Escribió otra cosa o se fue", "none_found": "No se encontró ningún artículo",
          "escalated": "Se derivó a un asesor"}
KINDS = {"sugerencia": "Sugerencia", "inquietud": "Inquietud", "queja": "Queja", "reconocimiento": "Reconocimiento"}
STATUSES = {"new": "Nueva", "in_review": "En revisión", "forwarded": "Derivada", "answered": "Respondida", "archived": "Archivada"}
NO_LINE = "Sin tema identificado"
MAIN_OFFICE = "Sin oficina asignada"


def channel(key: str) -> str:
    return CHANNELS.get(key, key.capitalize())


def line(key: str) -> str:
    return LINES.get(key, key)


def country(slug: str) -> str:
    return "Otro país (sin especificar)" if slug == countries.OTHER else countries.name(slug)
