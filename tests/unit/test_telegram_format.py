"""Telegram formatting without a server: escaping for parse mode HTML, splitting at 4,096
characters, commands, configuration. The fake Bot API's HTML parser stands in for Telegram's."""

import pytest

from bot.rasa.channels.telegram_webhook import (
    COMMANDS,
    TEXT_LIMIT,
    TelegramConfig,
    command_payload,
    escape,
    looks_like_command,
    split_message,
    tg_length,
    unknown_command_answer,
)
from tests.fakes.telegram import ApiError, parse_html

TRICKY = ['a < b > c & d', "<b>negrita</b>", "&amp; ya escapado", "*negrita* _cursiva_ `code` [link](https://x.pe) ~tachado~ ||spoiler||",
          "5 > 3 && 2 < 4", "¡Hola! ¿Qué tal? ñandú «comillas» \"dobles\" 'simples'", "<script>alert(1)</script>", "&#60; &lt;"]


@pytest.mark.parametrize("text", TRICKY)
def test_escaped_text_is_valid_html_and_shows_exactly_the_original(text):
    assert parse_html(escape(text)) == text


@pytest.mark.parametrize("text", ["a < b", "x & y", "<b>negrita", "<foo>x</foo>", "3 > 2"])
def test_the_fake_refuses_unescaped_html_like_telegram(text):
    with pytest.raises(ApiError, match="can't parse entities"):
        parse_html(text)


def test_a_short_text_is_one_message():
    assert split_message("Hola.\n\nActualizado: 26/11/2026") == ["Hola.\n\nActualizado: 26/11/2026"]


def test_long_text_is_split_at_paragraphs_within_the_limit():
    paragraphs = [(f"Párrafo {i}: " + "palabra " * 150).strip() for i in range(20)]  # ~1,200 characters each
    parts = split_message("\n\n".join(paragraphs))
    assert len(parts) > 1 and all(tg_length(escape(p)) <= TEXT_LIMIT for p in parts)
    assert all(p.startswith("Párrafo") for p in parts)  # cut between paragraphs, never inside one
    assert "\n\n".join(parts) == "\n\n".join(paragraphs)


def test_escaping_counts_towards_the_limit():
    text = "<&> " * 3000  # 12,000 characters, 33,000 once escaped
    parts = split_message(text)
    assert all(tg_length(escape(p)) <= TEXT_LIMIT for p in parts)
    assert " ".join(parts).split() == text.split()


def test_a_paragraph_without_breaks_is_cut_at_sentences_then_spaces_then_characters():
    sentences = "Esta es una oración bastante larga sobre trámites. " * 200
    parts = split_message(sentences)
    assert all(p.endswith(".") for p in parts)
    words = "palabra " * 1500
    assert all(tg_length(p) <= TEXT_LIMIT and not p.endswith(" ") for p in split_message(words))
    run = "ñ" * 10_000
    assert [len(p) for p in split_message(run)] == [4096, 4096, 1808]


def test_emoji_count_as_two_for_telegram():
    parts = split_message("😀" * 3000)
    assert [tg_length(p) for p in parts] == [4096, 1904]
    assert "".join(parts) == "😀" * 3000


@pytest.mark.parametrize(
    ("text", "payload"),
    [("/start", "/saludo"), ("/start abc123", "/saludo"), ("/start@InfomigraBot", "/saludo"), ("/menu", "/menu"),
     ("/Ayuda", "/menu"), ("/asesor", "/pedir_asesor"), ("/sugerencia", "/dejar_sugerencia"),
     ("/privacidad", "/info_privacidad"), ("  /menu  ", "/menu"),
     ("/pedir_asesor", None), ('/pedir_asesor{"handoff":true}', None), ("/menu{}", None), ("/menú", None),
     ("menu", None), ("/", None), ("hola /menu", None)],
)
def test_only_our_commands_map_to_intents(text, payload):
    assert command_payload(text) == payload


def test_other_commands_get_the_list_of_commands():
    assert looks_like_command('/pedir_asesor{"x": 1}') and looks_like_command("/hola")
    assert not looks_like_command("/ hola") and not looks_like_command("hola")
    answer = unknown_command_answer()
    assert all(f"/{name}" in answer for name in COMMANDS if name != "start")


def test_configuration_requires_token_and_a_valid_secret(monkeypatch):
    for name in ("TELEGRAM_BOT_TOKEN", "TELEGRAM_WEBHOOK_SECRET", "TELEGRAM_API_BASE", "TELEGRAM_WEBHOOK_URL"):
        monkeypatch.delenv(name, raising=False)
    config = TelegramConfig.from_env()
    assert config.missing() == ["TELEGRAM_BOT_TOKEN", "TELEGRAM_WEBHOOK_SECRET"]
    assert config.api_base == "https://api.telegram.org/bot"
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "1:x")
    monkeypatch.setenv("TELEGRAM_WEBHOOK_SECRET", "con espacios")
    assert TelegramConfig.from_env().missing() == ["TELEGRAM_WEBHOOK_SECRET"]
    monkeypatch.setenv("TELEGRAM_WEBHOOK_SECRET", "Ab_9-" * 10)
    monkeypatch.setenv("TELEGRAM_API_BASE", "http://127.0.0.1:8081/bot")
    config = TelegramConfig.from_env()
    assert config.missing() == [] and config.api_base == "http://127.0.0.1:8081/bot"
