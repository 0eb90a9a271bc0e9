"""What the person is told about the handoff (Spanish, plain text, short paragraphs)."""

from __future__ import annotations

import datetime as dt
import math

from bot.offices.hours import OfficeHours, spoken_moment

BACK_PAYLOAD = "/volver_al_asistente"
BACK_BUTTON = {"title": "Volver al asistente", "payload": BACK_PAYLOAD}
MENU_BUTTON = {"title": "Ver el menú", "payload": "/menu"}
RATING_BUTTONS = [
    {"title": "1 · Mala", "payload": '/calificar{"rating":"1"}'},
    {"title": "2 · Regular", "payload": '/calificar{"rating":"2"}'},
    {"title": "3 · Buena", "payload": '/calificar{"rating":"3"}'},
    {"title": "4 · Muy buena", "payload": '/calificar{"rating":"4"}'},
    {"title": "5 · Excelente", "payload": '/calificar{"rating":"5"}'},
]

INTRO = {
    "asked": "Listo, te paso con un asesor o asesora de PERÚ INFOMIGRA.",
    "unsure": ("No logro entender bien tu consulta y no quiero darte información equivocada, así que te paso "
               "con un asesor o asesora de PERÚ INFOMIGRA."),
    "safety": ("Lo que me cuentas es importante. Pasé tu consulta con prioridad a un asesor o asesora de "
               "PERÚ INFOMIGRA para que te oriente personalmente."),
}
DANGER = ("Si estás en peligro ahora mismo, llama primero al número de emergencias del país donde estás "
          "(en el Perú, 105 para la Policía).")
IN_ENGLISH = ("I am passing you to an advisor of PERÚ INFOMIGRA. Advisors write in Spanish, but you can write "
              "in English. What follows says when they will answer.")
WHILE_WAITING = ("Mientras esperas, escríbeme aquí los detalles de tu consulta (país, ciudad, qué pasó): la persona "
                 "que te atienda los leerá. Si quieres, déjanos también tu correo electrónico. "
                 "Para volver al asistente virtual, escribe «volver al asistente».")
UNAVAILABLE = ("Ahora no puedo pasarte con un asesor por un problema técnico. Para que una persona te atienda, {how} "
               "También puedes intentarlo de nuevo en unos minutos.")
FIRST_RECEIVED = "Recibido. Tu mensaje ya está en tu consulta y la persona que te atienda lo leerá."
EMAIL_NOTED = "Gracias, anotamos tu correo {email}. Igual te responderemos primero por este chat."
TAKEN = "Hola, te saluda {name}, del equipo de asesores de PERÚ INFOMIGRA. Ya estoy leyendo tu consulta."
TRANSFERRED = "Te paso con {name}, otra persona del equipo de PERÚ INFOMIGRA, que seguirá con tu consulta aquí."
MOVED_OFFICE = ("Pasamos tu consulta al equipo de {office}, que conoce mejor tu caso. Sigues en la cola y te escribirán "
                "por aquí; no tienes que volver a contar nada.")
RETURNED = ("Disculpa la demora: la persona que te atendía no puede seguir en este momento. Tu consulta volvió a la "
            "cola ({where}) y otra persona del equipo te responderá por este mismo chat.")
STILL_WAITING = ("Seguimos con tu consulta: {where}. Gracias por tu paciencia; un asesor o asesora te escribirá "
                 "por este mismo chat.")
CLOSED = ("{name} cerró la conversación. Vuelves a hablar con el asistente virtual de PERÚ INFOMIGRA: "
          "escríbeme cuando quieras.")
RATE = "¿Cómo calificas la ayuda que recibiste? Toca una opción (es opcional)."
LEFT = ("Listo, saliste de la conversación con el asesor. Vuelves a hablar con el asistente virtual: escríbeme tu "
        "pregunta o mira el menú. Si más tarde necesitas a una persona, escribe «asesor».")
RATED = "¡Gracias por tu calificación! Nos ayuda a mejorar la atención."
NOTHING_TO_RATE = "¡Gracias! Si necesitas algo más, escríbeme o mira el menú."
NOT_IN_HANDOFF = "Ya estás hablando con el asistente virtual. ¿En qué te puedo ayudar?"
TEMPLATE_NOTE = "Plantilla de WhatsApp enviada: hay una respuesta esperando; se entregará cuando la persona escriba."


def how_to_reach(contact_email: str) -> str:
    if contact_email:
        return f"escribe al correo del servicio, {contact_email}, con tu consulta y el país donde estás."
    return "escribe al correo del servicio o acércate a sus oficinas; los datos vigentes están en «Contacto»."


def minutes_phrase(minutes: float) -> str:
    if minutes < 60:
        rounded = max(5, int(math.ceil(minutes / 5) * 5))
        return f"unos {rounded} minutos"
    hours = minutes / 60
    return "alrededor de una hora" if hours < 1.5 else f"unas {round(hours)} horas"


def expected_wait(position: int, online: int, per_chat: dt.timedelta) -> float:
    """Minutes until an advisor takes the chat: the chats ahead shared among the advisors online."""
    return max(1, position) * per_chat.total_seconds() / 60 / max(1, online)


def queue_status(position: int, online: int, hours: OfficeHours, per_chat: dt.timedelta, at: dt.datetime) -> str:
    """Where the person is and when an advisor will answer, honestly (office hours, advisors online)."""
    place = "eres la primera persona en la cola" if position <= 1 else f"eres la persona número {position} en la cola"
    schedule = f"Atendemos {hours.describe()} (hora de Lima)"
    if hours.is_open(at):
        if online == 0:
            return (f"Tu consulta quedó registrada y {place}. En este momento no hay asesores conectados: "
                    "la primera persona que se conecte te responderá por este mismo chat.")
        minutes = expected_wait(position, online, per_chat)
        closes = hours.closes_at(at)
        text = f"Tu consulta quedó registrada y {place}. El tiempo de espera estimado es de {minutes_phrase(minutes)}."
        if closes is not None and at + dt.timedelta(minutes=minutes) > closes:
            opening = hours.next_opening(closes + dt.timedelta(minutes=1))
            if opening is not None:
                text += (f" Si no alcanzamos a atenderte hoy, te responderemos {spoken_moment(opening, at)} (hora de Lima), "
                         "por este mismo chat.")
        return text
    opening = hours.next_opening(at)
    when = f"{spoken_moment(opening, at)} (hora de Lima)" if opening else "en cuanto sea posible"
    return (f"Ahora estamos fuera del horario de atención. {schedule}. Tu consulta quedó registrada ({place}) y "
            f"un asesor o asesora te responderá a partir de {when}, por este mismo chat.").replace(" de el ", " del ")


def where_in_queue(position: int) -> str:
    return "eres la primera persona en la cola" if position <= 1 else f"eres la persona número {position} en la cola"


def first_name(name: str | None) -> str:
    parts = (name or "").split()
    return parts[0] if parts else "La persona que te atendía"
