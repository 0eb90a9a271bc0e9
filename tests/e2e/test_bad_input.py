"""Bad input gets a polite answer or a 4xx, never a 500, and the server keeps answering."""

import httpx
import pytest

from bot.rasa.channels.checks import UNREADABLE

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("message", ["", "   \n\t ", "😀🙏🇵🇪", "???", "…"])
def test_messages_without_words_get_a_polite_answer(stack, message):
    replies = stack.say("bad-input-empty", message)
    assert [r["text"] for r in replies] == [UNREADABLE]


@pytest.mark.parametrize(
    "message",
    ["hola " * 800, "привет 你好 مرحبا ¿qué necesito para trabajar en España?", "¡¡Hola!! ¿Cómo estás? ñandú"],
)
def test_long_and_mixed_script_messages_are_answered(stack, message):
    replies = stack.say("bad-input-mixed", message)
    assert replies and all(r.get("text") for r in replies)


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"message": "hola"}, 400),  # unknown sender
        ({"sender": "", "message": "hola"}, 400),
        ({"sender": None, "message": "hola"}, 400),
        ({"sender": {"a": 1}, "message": "hola"}, 400),
        ({"sender": "whatsapp:+51999999999", "message": "hola"}, 400),  # another channel's namespace
        ({"sender": "x" * 200, "message": "hola"}, 400),
        ({"sender": "ana"}, 400),
        ({"sender": "ana", "message": 5}, 400),
        ({"sender": "ana", "message": "a" * 10_000}, 413),
        ([1, 2], 400),
        ("hola", 400),
    ],
)
def test_malformed_requests_get_a_4xx(stack, body, status):
    response = httpx.post(stack.webhook(), json=body, headers=stack.rest_headers(), timeout=30)
    assert response.status_code == status
    assert "error" in response.json()


@pytest.mark.parametrize(
    ("content", "content_type"),
    [("{not json", "application/json"), ("sender=a&message=hola", "application/x-www-form-urlencoded"),
     ("x" * 2_000_000, "application/json"), ("", "application/json")],
)
def test_malformed_bodies_and_content_types_get_a_4xx(stack, content, content_type):
    response = httpx.post(stack.webhook(), content=content, headers={"content-type": content_type, **stack.rest_headers()},
                          timeout=30)
    assert 400 <= response.status_code < 500


def test_server_still_answers_after_bad_input(stack):
    assert stack.say("bad-input-after", "hola")


def test_http_api_requires_a_jwt(stack):  # more in test_security.py
    assert httpx.get(f"{stack.rasa_url}/status", timeout=10).status_code == 401
    assert httpx.get(f"{stack.rasa_url}/status", params={"token": "wrong"}, timeout=10).status_code == 401
    assert httpx.get(f"{stack.rasa_url}/status", headers=stack.api_headers(), timeout=10).status_code == 200
