"""The web widget's session tokens, origin policy and history (bot/rasa/channels/web_session.py)."""

import logging
import uuid

from bot.rasa.channels.web_session import SessionTokens, history_messages, origin_policy, sender_for, session_secret

SECRET = b"a-long-test-secret-0123456789"


def test_a_token_verifies_to_its_session_and_nothing_else():
    tokens = SessionTokens(SECRET)
    session_id, token = tokens.issue()
    assert str(uuid.UUID(session_id)) == session_id
    assert tokens.verify(token) == session_id
    assert sender_for(session_id) == f"web:{session_id}"
    other_id, other_token = tokens.issue()
    assert other_id != session_id
    forged = f"{other_id}.{token.split('.')[1]}"  # someone else's id with my signature
    for bad in [forged, session_id, f"{session_id}.", f"{session_id}.x", token + "x", token.upper(), "." + token,
                token.replace(".", ".."), None, 5, {"token": token}, ["a"], "", "a" * 5000,
                f"{session_id.upper()}.{token.split('.')[1]}"]:
        assert tokens.verify(bad) is None, bad
    assert SessionTokens(b"another-secret-0123456789").verify(token) is None


def test_without_a_secret_a_random_one_is_used_and_logged(caplog):
    with caplog.at_level(logging.WARNING):
        first, second = session_secret(None), session_secret("  ")
    assert first != second and len(first) == 32
    assert "WEB_SESSION_SECRET" in caplog.text
    assert session_secret("x" * 40) == b"x" * 40


def test_origins_default_to_own_origin_and_localhost():
    allowed = origin_policy(None)
    environ = {"HTTP_HOST": "asistente.example.gob.pe", "wsgi.url_scheme": "https"}
    assert allowed("https://asistente.example.gob.pe", environ)
    assert allowed("http://localhost:8080", environ)
    assert allowed("http://127.0.0.1:5005", environ)
    assert not allowed("https://evil.example", environ)
    assert not allowed("http://asistente.example.gob.pe", environ)  # other scheme
    assert not allowed("https://localhost.evil.example", environ)
    assert not allowed(None, environ)


def test_listed_origins_replace_localhost_and_proxies_are_understood():
    allowed = origin_policy("https://www.gob.pe, https://portal.trabajo.gob.pe/ , not-an-origin")
    behind_proxy = {"HTTP_HOST": "127.0.0.1:5005", "wsgi.url_scheme": "http",
                    "HTTP_X_FORWARDED_HOST": "asistente.trabajo.gob.pe", "HTTP_X_FORWARDED_PROTO": "https"}
    assert allowed("https://www.gob.pe", behind_proxy)
    assert allowed("https://portal.trabajo.gob.pe", behind_proxy)
    assert allowed("https://asistente.trabajo.gob.pe", behind_proxy)
    assert not allowed("http://localhost:8080", behind_proxy)
    assert not allowed("https://gob.pe", behind_proxy)
    assert not allowed("https://www.gob.pe.evil.example", behind_proxy)


def test_history_shows_button_titles_and_only_pending_buttons():
    menu = [{"title": "Chile", "payload": '/informar_pais{"country":"chile"}'}]
    events = [
        {"event": "action", "name": "action_session_start"},
        {"event": "user", "text": "q visa necesito pa trabajar afuera", "metadata": {}},
        {"event": "bot", "text": "¿Para qué país?", "data": {"buttons": menu}, "metadata": {}},
        {"event": "user", "text": '/informar_pais{"country":"chile"}', "metadata": {"button_title": "Chile"}},
        {"event": "slot", "name": "article_id", "value": "emigrar/tramites/chile"},
        {"event": "bot", "text": "Chile\n\nActualizado: 01/10/2026", "data": {"buttons": menu}, "metadata": {}},
        {"event": "bot", "text": "Hola, soy Ana.", "data": {}, "metadata": {"advisor_id": "7", "advisor_name": "Ana"}},
        {"event": "bot", "text": "", "data": {}},
        {"event": "user", "text": None},
    ]
    messages = history_messages(events)
    assert [(m["from"], m["text"]) for m in messages] == [
        ("user", "q visa necesito pa trabajar afuera"), ("bot", "¿Para qué país?"), ("user", "Chile"),
        ("bot", "Chile\n\nActualizado: 01/10/2026"), ("advisor", "Hola, soy Ana."),
    ]
    assert "buttons" not in messages[1]  # answered already
    assert messages[3]["buttons"] == menu
    assert messages[4]["name"] == "Ana"
    assert len(history_messages(events * 100, limit=7)) == 7
