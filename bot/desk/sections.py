"""The desk's sections: navigation, home cards and who may open each one.

A section whose feature is not built yet gets a placeholder page (see bot.desk.app); a feature
serves its own routes under the section's path and the placeholder disappears.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.desk.accounts import DeskUser


@dataclass(frozen=True)
class Section:
    label: str
    path: str
    roles: tuple[str, ...]
    description: str


SECTIONS: tuple[Section, ...] = (
    Section("Cola de conversaciones", "/cola", ("advisor", "supervisor"),
            "Conversaciones que esperan a un asesor: tome una, responda en el canal de la persona y ciérrela."),
    Section("Sugerencias", "/sugerencias", ("reviewer", "supervisor"),
            "La voz del migrante: sugerencias, inquietudes, quejas y reconocimientos para revisar."),
    Section("Ventanilla", "/ventanilla", ("advisor", "supervisor"),
            "Atención presencial: registrar una consulta en ventanilla y entregar los artículos impresos o por correo."),
    Section("Datos personales", "/datos-personales", ("advisor", "supervisor"),
            "Borrar todos los datos de una persona que lo pide por correo o teléfono (Ley 29733)."),
    Section("Informes", "/informes", ("supervisor",),
            "El informe mensual del servicio: conversaciones, valoraciones, derivaciones y vacíos de contenido."),
    Section("Oficinas", "/oficinas", ("supervisor",),
            "La sede central y las oficinas regionales: sus regiones, su horario y qué asesores trabajan en cada una."),
    Section("Cuentas", "/cuentas", ("supervisor",),
            "Las cuentas del personal: sus roles y oficinas, y activarlas o desactivarlas. Las crea un administrador."),
)


def sections_for(user: DeskUser) -> list[Section]:
    return [s for s in SECTIONS if user.has_any(s.roles)]
