"""The WhatsApp channel's pure parts: splitting, numbered buttons, opt-out words, media kinds,
form parsing for Twilio's signature, configuration.

The channel lives in the Rasa environment (`.venv`), which this test environment does not
import; the cases run there in one subprocess and come back as JSON.
"""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from tests.stack import ROOT

SCRIPT = r"""
import dataclasses, json, os, sys
from urllib.parse import parse_qs, urlencode

from twilio.request_validator import RequestValidator

from bot.rasa.channels import whatsapp as wa

def parts(outbound):
    return [dataclasses.asdict(o) for o in outbound]

paragraphs = "\n\n".join(f"Párrafo {i}. " + "palabra " * 60 for i in range(8)).replace(" \n", "\n").strip()
sentences = " ".join(f"Oración número {i} del mismo párrafo, sin saltos de línea." for i in range(80))
lines = "\n".join(f"- requisito {i}: " + " ".join(["texto"] * 20) for i in range(30))
buttons = [{"title": f"Opción {i}", "payload": f"/p{i}"} for i in range(12)]
url = "https://infomigra.example.gob.pe/webhooks/whatsapp/webhook"
form = {"From": "whatsapp:+51999888777", "Body": "", "NumMedia": "1", "MediaUrl0": "https://x/m", "MessageSid": "SM" + "a" * 32}
body = urlencode(form).encode()
signature = RequestValidator("secret").compute_signature(url, form)
for name in [k for k in os.environ if k.startswith("TWILIO")]:
    del os.environ[name]
unconfigured = wa.WhatsAppInput.from_credentials(None)
os.environ.update({"TWILIO_ACCOUNT_SID": "AC" + "1" * 32, "TWILIO_AUTH_TOKEN": "t", "TWILIO_WHATSAPP_NUMBER": "whatsapp:+14155238886",
                   "TWILIO_WEBHOOK_URL": url})
configured = wa.WhatsAppInput.from_credentials(None)
os.environ["TWILIO_WHATSAPP_NUMBER"] = "+14155238886"
wrong_number = wa.WhatsAppInput.from_credentials(None)

def inbound_error(change):
    try:
        wa.Inbound.from_form(wa._Form({k: [v] for k, v in {**form, **change}.items()}))
    except ValueError as e:
        return str(e)
    return None

print(json.dumps({
    "paragraphs": [paragraphs, wa.split_text(paragraphs)],
    "sentences": [sentences, wa.split_text(sentences)],
    "lines": [lines, wa.split_text(lines)],
    "no_spaces": [len(p) for p in wa.split_text("x" * 4000)],
    "short": wa.split_text("  Hola.\n\n\n  ¿Qué tal?  "),
    "turn": parts(wa.render([{"text": "Primero."}, {"text": "¿Para qué país?", "buttons": buttons[:3]}])),
    "full_last": parts(wa.render([{"text": "a" * 1590, "buttons": buttons[:2]}])),
    "many_buttons": parts(wa.render([{"text": "x", "buttons": buttons + buttons[:2]}])),
    "image": parts(wa.render([{"text": "a"}, {"image": "https://x/i.png"}, {"text": "b"}])),
    "template": parts(wa.render([{"custom": {"content_sid": "HX" + "0" * 32, "content_variables": {"1": "Ana"}}}])),
    "only_buttons": parts(wa.render([{"buttons": [{"title": "Sí\n(confirmar)", "payload": "/afirmar"}]}])),
    "nothing": parts(wa.render([{"text": "  "}, {}])),
    "opt_out": {w: wa.is_opt_out(w) for w in ["BAJA", "baja.", " Stop ", "STOPALL", "unsubscribe", "Darme de baja",
                                              "QUIT", "stop por favor", "no quiero la baja", "bajá", "hola"]},
    "kinds": {t: wa.media_kind(t) for t in ["audio/ogg; codecs=opus", "image/jpeg", "image/webp", "video/mp4",
                                            "application/pdf", "text/vcard", "text/plain", "", "model/gltf"]},
    "form_valid": RequestValidator("secret").validate(url, wa.parse_form(body), signature),
    "sanic_style_valid": RequestValidator("secret").validate(url, wa._Form(parse_qs(body.decode())), signature),
    "unconfigured": [unconfigured.configured, unconfigured.missing],
    "configured": [configured.configured, configured.api_base],
    "wrong_number": wrong_number.missing,
    "inbound_errors": {k: inbound_error(c) for k, c in {
        "sms": {"From": "+51999888777"}, "sid": {"MessageSid": "x"}, "num": {"NumMedia": "x"}, "range": {"NumMedia": "11"},
        "lat": {"Latitude": "n", "Longitude": "1"}, "ok": {}}.items()},
}, ensure_ascii=False))
"""


@pytest.fixture(scope="module")
def case():
    env = {**os.environ, "PYTHONPATH": str(ROOT), "RASA_TELEMETRY_ENABLED": "false"}
    done = subprocess.run([str(ROOT / ".venv/bin/python"), "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_paragraphs_are_packed_into_messages_of_at_most_1600(case):
    text, parts = case["paragraphs"]
    assert len(text) > 3200 and len(parts) >= 3
    assert all(len(p) <= 1600 for p in parts)
    assert "\n\n".join(parts) == text  # cut only between paragraphs
    assert all(len(a) + 2 + len(b.split("\n\n")[0]) > 1600 for a, b in zip(parts, parts[1:], strict=False))  # packed


def test_a_long_paragraph_is_cut_between_sentences(case):
    text, parts = case["sentences"]
    assert len(parts) >= 3 and all(len(p) <= 1600 for p in parts)
    assert " ".join(parts) == text
    assert all(p.endswith(".") for p in parts)


def test_a_long_list_is_cut_between_lines(case):
    text, parts = case["lines"]
    assert len(parts) >= 2 and all(len(p) <= 1600 for p in parts)
    assert "\n".join(parts) == text


def test_text_without_spaces_is_cut_hard_and_blank_lines_are_normalized(case):
    assert case["no_spaces"] == [1600, 1600, 800]
    assert case["short"] == ["Hola.\n\n¿Qué tal?"]


def test_buttons_become_a_numbered_list_on_the_last_message(case):
    (only,) = case["turn"]
    assert only["body"] == "Primero.\n\n¿Para qué país?\n\n1. Opción 0\n2. Opción 1\n3. Opción 2\nResponde con el número de tu opción."
    assert [b["payload"] for b in only["buttons"]] == ["/p0", "/p1", "/p2"]


def test_the_list_gets_its_own_message_when_the_last_text_is_full(case):
    text, block = case["full_last"]
    assert text["body"] == "a" * 1590 and not text["buttons"]
    assert block["body"].startswith("1. Opción 0\n2. Opción 1") and len(block["buttons"]) == 2


def test_at_most_ten_distinct_buttons(case):
    (message,) = case["many_buttons"]
    assert [b["payload"] for b in message["buttons"]] == [f"/p{i}" for i in range(10)]
    assert "\n10. Opción 9\n" in message["body"] and "Opción 10" not in message["body"]


def test_images_templates_and_lone_buttons(case):
    assert [(p["body"], p["media_url"]) for p in case["image"]] == [("a", []), ("", ["https://x/i.png"]), ("b", [])]
    (template,) = case["template"]
    assert template["content_sid"].startswith("HX") and json.loads(template["content_variables"]) == {"1": "Ana"}
    (lone,) = case["only_buttons"]
    assert lone["body"] == "1. Sí (confirmar)\nResponde con el número de tu opción."
    assert case["nothing"] == []


def test_opt_out_words_are_whole_messages_only(case):
    assert case["opt_out"] == {
        "BAJA": True, "baja.": True, " Stop ": True, "STOPALL": True, "unsubscribe": True, "Darme de baja": True,
        "QUIT": True, "stop por favor": False, "no quiero la baja": False, "bajá": True, "hola": False,
    }


def test_media_kinds(case):
    assert case["kinds"] == {
        "audio/ogg; codecs=opus": "audio", "image/jpeg": "image", "image/webp": "sticker", "video/mp4": "video",
        "application/pdf": "document", "text/vcard": "contact", "text/plain": "document", "": "file", "model/gltf": "file",
    }


def test_empty_fields_are_kept_for_the_signature(case):
    """Twilio signs every field, empty ones too (an image without caption has `Body=`)."""
    assert case["form_valid"] is True
    assert case["sanic_style_valid"] is False  # what parsing without blank values would do


def test_configuration_comes_from_the_environment(case):
    configured, missing = case["unconfigured"]
    assert configured is False
    assert missing == ["TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_WHATSAPP_NUMBER", "TWILIO_WEBHOOK_URL"]
    assert case["configured"] == [True, "https://api.twilio.com"]
    assert case["wrong_number"] == ["TWILIO_WHATSAPP_NUMBER (whatsapp:+E164)"]


def test_inbound_fields_are_checked(case):
    errors = case["inbound_errors"]
    assert errors.pop("ok") is None
    assert all(errors.values()), errors
