"""Office hours in America/Lima, the settings from the environment, and what the person is told."""

import datetime as dt

import pytest

from bot.handoff import messages as say
from bot.handoff.settings import HandoffSettings, HandoffSettingsError
from bot.offices.hours import HoursError, OfficeHours, spoken_moment

LIMA = dt.timezone(dt.timedelta(hours=-5))


def lima(*args):
    return dt.datetime(*args, tzinfo=LIMA)


def test_default_hours_are_weekdays_in_lima_time():
    hours = OfficeHours.parse()
    assert hours.is_open(lima(2026, 11, 30, 8, 30)) and hours.is_open(lima(2026, 11, 30, 16, 29))
    assert not hours.is_open(lima(2026, 11, 30, 16, 30)) and not hours.is_open(lima(2026, 11, 28, 10, 0))  # Saturday
    # 14:00 UTC is 9:00 in Lima
    assert hours.is_open(dt.datetime(2026, 11, 30, 14, 0, tzinfo=dt.timezone.utc))
    assert hours.describe() == "de lunes a viernes de 8:30 a 16:30"
    assert hours.describe(lang="en") == "Monday to Friday, 8:30 to 16:30"


def test_next_opening_skips_nights_weekends_and_holidays():
    hours = OfficeHours.parse("lun-vie 08:30-13:00,14:00-16:30; sab 09:00-12:00", holidays="2026-12-08")
    assert hours.next_opening(lima(2026, 11, 30, 13, 30)) == lima(2026, 11, 30, 14, 0)  # after lunch
    assert hours.next_opening(lima(2026, 12, 4, 18, 0)) == lima(2026, 12, 5, 9, 0)  # Friday evening → Saturday
    assert hours.next_opening(lima(2026, 12, 5, 12, 0)) == lima(2026, 12, 7, 8, 30)  # Saturday noon → Monday
    assert hours.next_opening(lima(2026, 12, 7, 17, 0)) == lima(2026, 12, 9, 8, 30)  # the 8th is a holiday
    assert hours.closes_at(lima(2026, 11, 30, 10, 0)) == lima(2026, 11, 30, 13, 0)
    assert hours.describe() == "de lunes a viernes de 8:30 a 13:00 y de 14:00 a 16:30; los sábados de 9:00 a 12:00"
    assert hours.describe("en") == "Monday to Friday, 8:30 to 13:00 and 14:00 to 16:30; on Saturdays, 9:00 to 12:00"


@pytest.mark.parametrize(("spec", "spanish", "english"), [
    ("sab 09:00-12:00", "los sábados de 9:00 a 12:00", "on Saturdays, 9:00 to 12:00"),
    ("lun 08:00-10:00", "los lunes de 8:00 a 10:00", "on Mondays, 8:00 to 10:00"),
    ("sab-dom 09:00-12:00", "sábado y domingo de 9:00 a 12:00", "Saturday and Sunday, 9:00 to 12:00"),
    ("mar-jue 08:00-12:00,13:00-24:00", "de martes a jueves de 8:00 a 12:00 y de 13:00 a 24:00",
     "Tuesday to Thursday, 8:00 to 12:00 and 13:00 to 24:00"),
    ("", "sin horario de atención configurado", "no office hours set"),
])
def test_the_schedule_is_described_in_spanish_and_in_english(spec, spanish, english):
    hours = OfficeHours.parse(spec)
    assert hours.describe() == hours.describe("es") == spanish
    assert hours.describe(lang="en") == english
    with pytest.raises(ValueError, match="fr"):
        hours.describe("fr")


def test_open_minutes_count_only_office_time():
    hours = OfficeHours.parse()
    friday_evening, monday = lima(2026, 12, 4, 16, 0), lima(2026, 12, 7, 9, 0)
    assert hours.open_minutes_between(friday_evening, monday) == 30 + 30


@pytest.mark.parametrize(("spec", "holidays", "zone", "reason"), [
    ("lunes 8-16", "", "America/Lima", "La hora «8» no se entiende: escríbala con horas y minutos, por ejemplo 08:30"),
    ("lun-vie 08:30", "", "America/Lima",
     "El tramo «08:30» no se entiende: escriba la hora de apertura y la de cierre, por ejemplo 08:30-16:30"),
    ("xyz 08:00-09:00", "", "America/Lima", "El día «xyz» no se entiende: escriba lun, mar, mie, jue, vie, sab o dom"),
    ("lun 10:00-09:00", "", "America/Lima", "En «10:00-09:00» la hora de cierre debe ser posterior a la de apertura"),
    ("lun 25:00-26:00", "", "America/Lima", "La hora «25:00» no existe: las horas van de 00:00 a 24:00"),
    ("siempre", "", "America/Lima",
     "El horario «siempre» no se entiende: escriba los días y luego las horas, por ejemplo «lun-vie 08:30-16:30»"),
    ("lun-vie 08:30-16:30", "2026-12-25, navidad", "America/Lima",
     "El feriado «navidad» no es una fecha: escríbalo como 2026-12-25 (año-mes-día)"),
    ("lun-vie 08:30-16:30", "", "Lima/Peru", "La zona horaria «Lima/Peru» no existe: escriba una como America/Lima"),
])
def test_bad_hours_are_refused_with_a_reason_in_spanish(spec, holidays, zone, reason):
    with pytest.raises(HoursError) as refused:
        OfficeHours.parse(spec, holidays, zone)
    assert str(refused.value) == reason


def test_settings_from_the_environment():
    settings = HandoffSettings.from_env({"HANDOFF_OFFICE_HOURS": "mon-fri 09:00-18:00", "HANDOFF_REPLY_MINUTES": "3",
                                         "RASA_URL": "http://rasa:5005/", "RASA_JWT_SECRET": "t",
                                         "HANDOFF_WHATSAPP_TEMPLATE_SID": "HX" + "a" * 32})
    assert settings.reply_timeout == dt.timedelta(minutes=3) and settings.rasa_url == "http://rasa:5005"
    assert settings.hours.is_open(lima(2026, 11, 30, 17, 0))
    for env in ({"HANDOFF_REPLY_MINUTES": "pronto"}, {"HANDOFF_OFFICE_HOURS": "siempre"},
                {"HANDOFF_WHATSAPP_TEMPLATE_SID": "HX1"}, {"HANDOFF_COMPACT_EVERY": "1"}, {"HANDOFF_TIMEZONE": "Lima/Peru"}):
        with pytest.raises(HandoffSettingsError):
            HandoffSettings.from_env(env)
    with pytest.raises(HandoffSettingsError) as refused:  # the variable, then what is wrong with it
        HandoffSettings.from_env({"HANDOFF_OFFICE_HOURS": "siempre"})
    assert str(refused.value).startswith("HANDOFF_OFFICE_HOURS") and "«siempre» no se entiende" in str(refused.value)


def test_what_the_person_is_told_in_and_out_of_office_hours():
    hours, per_chat = OfficeHours.parse(), dt.timedelta(minutes=10)
    inside = say.queue_status(3, 2, hours, per_chat, lima(2026, 11, 30, 10, 0))
    assert "número 3 en la cola" in inside and "unos 15 minutos" in inside
    nobody = say.queue_status(1, 0, hours, per_chat, lima(2026, 11, 30, 10, 0))
    assert "primera persona en la cola" in nobody and "no hay asesores conectados" in nobody
    late = say.queue_status(4, 1, hours, per_chat, lima(2026, 11, 30, 16, 0))
    assert "Si no alcanzamos a atenderte hoy, te responderemos mañana a las 8:30" in late
    weekend = say.queue_status(1, 0, hours, per_chat, lima(2026, 12, 5, 11, 0))
    assert "fuera del horario de atención" in weekend and "a partir del lunes 07/12 a las 8:30 (hora de Lima)" in weekend
    assert "este mismo chat" in weekend
    assert spoken_moment(lima(2026, 12, 1, 8, 30), lima(2026, 11, 30, 20, 0)) == "mañana a las 8:30"
