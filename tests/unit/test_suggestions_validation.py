"""What the suggestion form accepts, how it is normalised, and the Spanish messages for the rest (no database)."""

import datetime as dt

import pytest

from bot.suggestions import dates
from bot.suggestions.reference import ALPHABET, PATTERN, new_reference, normalize_reference
from bot.suggestions.scrub import DOCUMENT_MARK, EMAIL_MARK, PHONE_MARK, scrub
from bot.suggestions.validation import (
    InvalidInput,
    contact_kind,
    validate_city,
    validate_contact,
    validate_country,
    validate_kind,
    validate_text,
    validate_topic,
)


@pytest.mark.parametrize("raw, expected", [
    ("Ana.Perez@Gmail.com", "ana.perez@gmail.com"),
    (" mailto:rosa@correo.pe ", "rosa@correo.pe"),
    ("987 654 321", "+51987654321"),          # Peruvian mobile without the country code
    ("(01) 630-6000", "+5116306000"),          # Lima landline
    ("044-123456", "+5144123456"),             # landline of a province
    ("51987654321", "+51987654321"),
    ("+51 987 654 321", "+51987654321"),
    ("+34 612 345 678", "+34612345678"),
    ("0034 612 345 678", "+34612345678"),
    ("+1 (202) 555-0143", "+12025550143"),
    ("", None),
    ("   ", None),
    (None, None),
])
def test_contacts_are_normalised(raw, expected):
    assert validate_contact(raw) == expected


@pytest.mark.parametrize("raw, words", [
    ("ana@", "correo no parece válido"),
    ("ana@@correo.com", "correo no parece válido"),
    ("ana@correo", "correo no parece válido"),
    ("612 345 678", "código de país"),         # a foreign number without its country code
    ("+51 12345", "Perú no parece completo"),
    ("+123", "no parece completo"),
    ("llámame mañana", "No entendí"),
])
def test_bad_contacts_get_a_spanish_explanation(raw, words):
    with pytest.raises(InvalidInput) as error:
        validate_contact(raw)
    assert error.value.field == "contact"
    assert words in error.value.message
    assert "nombre@correo.com" in error.value.message or "+51" in error.value.message or "+34" in error.value.message


def test_contact_kind():
    assert contact_kind("ana@correo.pe") == "email"
    assert contact_kind("+51987654321") == "phone"
    assert contact_kind(None) is None


def test_text_is_tidied_and_limited_to_2000_characters():
    assert validate_text("  Hola,\x00 el   consulado\r\n\r\n\r\n\r\nno responde.  ") == "Hola, el consulado\n\nno responde."
    assert len(validate_text("á" * 2000)) == 2000
    with pytest.raises(InvalidInput) as error:
        validate_text("x" * 2345)
    assert error.value.field == "text"
    assert error.value.message == ("Tu mensaje tiene 2.345 caracteres y el máximo es 2.000. "
                                   "¿Puedes acortarlo un poco y enviarlo de nuevo?")
    for empty in ("", "   ", "🙂🙂", None):
        with pytest.raises(InvalidInput, match="con tus propias palabras"):
            validate_text(empty)


def test_kind_country_city_and_topic():
    assert validate_kind("Queja") == "queja"
    assert validate_kind("RECONOCIMIENTO") == "reconocimiento"
    assert validate_kind("sugerencias") == "sugerencia"
    with pytest.raises(InvalidInput, match="sugerencia, inquietud, queja o reconocimiento"):
        validate_kind("reclamo")
    assert validate_country("España") == "espana"
    assert validate_country("EEUU") == "eeuu"
    assert validate_country("otro") == "otro"
    with pytest.raises(InvalidInput, match="No reconozco ese país"):
        validate_country("Narnia")
    assert validate_city("  Milán ") == "Milán"
    assert validate_city("") is None
    with pytest.raises(InvalidInput, match="ciudad"):
        validate_city("x" * 81)
    assert validate_topic("exterior") == "exterior"
    assert validate_topic("¿Trabajas en el extranjero?") == "exterior"
    assert validate_topic("trabajas en el extranjero") == "exterior"
    assert validate_topic("  atención   en el consulado ") == "atención en el consulado"
    with pytest.raises(InvalidInput, match="pocas palabras"):
        validate_topic("tema " * 40)
    with pytest.raises(InvalidInput, match="tema"):
        validate_topic("  ")


def test_reference_codes_are_unambiguous():
    codes = {new_reference(2026) for _ in range(300)}
    assert len(codes) > 290
    for code in codes:
        assert PATTERN.match(code) and code.startswith("VM-2026-")
        assert not set(code[8:]) & set("01OILU")
    assert set(ALPHABET).isdisjoint("01OILU")
    assert normalize_reference("vm 2026 7k3q9") == "VM-2026-7K3Q9"
    assert normalize_reference("VM20267K3Q9") == "VM-2026-7K3Q9"
    assert normalize_reference("VM-2026-7K3Q0") is None  # 0 is never used
    assert normalize_reference("hola") is None


def test_scrub_removes_emails_phones_and_document_numbers():
    text = ("Soy Rosa, DNI 45678912, pasaporte N° AB123456, NIE X1234567L. Escríbanme a rosa.q@gmail.com "
            "o al +34 612 345 678 / 987-654-321. RUT 12.345.678-9. Llegué el 12/05/2024 con 300 euros, tengo 45 años.")
    clean = scrub(text)
    for personal in ("45678912", "AB123456", "X1234567L", "rosa.q@gmail.com", "612 345 678", "987-654-321", "12.345.678-9"):
        assert personal not in clean
    assert EMAIL_MARK in clean and PHONE_MARK in clean and DOCUMENT_MARK in clean
    assert "Soy Rosa" in clean and "12/05/2024" in clean and "300 euros" in clean and "45 años" in clean
    assert scrub("El caso VM-2026-7K3Q9 sigue abierto") == "El caso VM-2026-7K3Q9 sigue abierto"
    assert scrub("Mi DNI es el 45678912. Gracias") == f"Mi DNI es el {DOCUMENT_MARK}. Gracias"
    assert scrub("RUT 12.345.678-K.") == f"RUT {DOCUMENT_MARK}."
    assert scrub(None) is None


def test_dates_are_peruvian_days_and_months():
    assert dates.day_start(dt.date(2026, 5, 1)) == dt.datetime(2026, 5, 1, 5, tzinfo=dt.timezone.utc)
    assert dates.month_range("2026-12") == (dt.datetime(2026, 12, 1, 5, tzinfo=dt.timezone.utc),
                                           dt.datetime(2027, 1, 1, 5, tzinfo=dt.timezone.utc))
    assert dates.add_months(dt.date(2026, 3, 31), -1) == dt.date(2026, 2, 28)
    assert dates.add_months(dt.date(2026, 1, 15), -24) == dt.date(2024, 1, 15)
    with pytest.raises(ValueError):
        dates.parse_month("2026-13")
