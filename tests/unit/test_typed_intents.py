"""Nothing a person types is ever read by Rasa as an intent, on any channel.

Rasa 3.6 takes text that starts with "/" (after `str.strip()`) as an intent with entities, without
the NLU (RegexMessageHandler), and `/restart` is the one intent it handles while an advisor has
the conversation. `neutralize` (bot/rasa/channels/checks.py) drops the whole leading run of blanks and
slashes of any kind from typed text; these tests check it on known attacks, over all of Unicode,
with generated prefixes and payloads, and then through each channel's real input code and Rasa's
own parser (tests/typed_text_probe.py under `.venv/bin/python`).
"""

from __future__ import annotations

import json
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.rasa.channels.checks import (
    RASA_DEFAULT_INTENTS,
    SLASHES,
    forced_intent,
    is_readable,
    neutralize,
    without_default_intents,
)
from bot.rasa.channels.state import ChannelState
from bot.rasa.channels.telegram_webhook import COMMANDS, command_payload, looks_like_command
from tests.databases import migrated_engine

ROOT = Path(__file__).resolve().parents[2]
RASA_PYTHON = ROOT / ".venv" / "bin" / "python"
PROBE = ROOT / "tests" / "typed_text_probe.py"
PERSON_CHANNELS = ("web", "telegram", "whatsapp")

# Texts that got an intent past the first `neutralize` (it stripped one run of slashes only), and
# their relatives: look-alike slashes, invisible characters, Rasa's own intents.
ATTACKS = [
    "/ /pedir_asesor",
    '/\n/x{"country": "chile"}',
    '/\n/informar_pais{"country":"chile"}',
    "／restart",
    " \t//restart",
    "∕restart",
    "⁄restart",
    "⧸restart",
    "᜵restart",
    "/ restart",
    "/restart",
    "/ / /restart@1.0",
    "\u200b/restart",
    "\ufeff/session_start",
    "\u00a0/back",
    "\u3000/out_of_scope",
    "\u2028/restart",
    "\u0338/restart",
    "\ufe49/restart",
    "\U000e002f/restart",
    '/ \t /pedir_asesor{"handoff": true}',
    "//\n\r\n/nlu_fallback",
    '/elegir_articulo{"article":"info/contacto"}',
]

# Unicode's confusables.txt entries for "/" that are not letters (tests the comment in checks.py).
CONFUSABLE_SLASHES = "\u1735\u2041\u2044\u2215\u2571\u27cb\u29f8\u2f03\u31d3\U0001d23a\uff0f"

INVISIBLE = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u202e", "\u061c", "\u180e", "\U000e0020"]
PREFIX_CHARS = sorted(set(" \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f\x85\xa0\u1680\u2000\u200a\u2028\u2029\u202f\u205f\u3000")
                      | SLASHES | set(INVISIBLE) | {"\u0337", "\u0338", "\u20eb", "\ufe49", "\x00", "\x7f"})
INTENT_NAMES = sorted(RASA_DEFAULT_INTENTS | {"pedir_asesor", "informar_pais", "elegir_articulo", "menu", "calificar", "x"})

prefixes = st.text(alphabet=st.sampled_from(PREFIX_CHARS), min_size=0, max_size=8)
entities = st.sampled_from(["", '{"country": "chile"}', '{"handoff": true}', '{"article":"info/contacto"}', "{}"])
payloads = st.one_of(
    st.builds(lambda name, at, ents, tail: f"{name}{at}{ents}{tail}", st.sampled_from(INTENT_NAMES),
              st.sampled_from(["", "@1.0", "@0.3"]), entities, st.sampled_from(["", " ", "\n", " hola"])),
    st.text(min_size=0, max_size=20),
)
typed_texts = st.builds(lambda head, slash, body: head + slash + body, prefixes,
                        st.sampled_from(["", "/", "//", "/ /", "/\n/"]), payloads)

# Deterministic: the same few hundred examples every run, no example database, no deadline.
PROPERTY = settings(max_examples=300, derandomize=True, database=None, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


def rasa_reads_as_intent(text: str) -> bool:
    """Rasa's test, as in `unpack_regex_message`: after `str.strip()`, a leading "/"."""
    return text.strip().startswith("/")


@pytest.mark.parametrize("typed", ATTACKS)
def test_known_attacks_reach_the_nlu_as_plain_text(typed):
    text = neutralize(typed)
    assert not rasa_reads_as_intent(text) and forced_intent(text) is None, repr(text)
    assert not unicodedata.normalize("NFKC", text).strip().startswith("/"), repr(text)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [("/ /pedir_asesor", "pedir_asesor"), ('/\n/x{"a": 1}', 'x{"a": 1}'), ("／restart", "restart"),
     (" \t//restart", "restart"), ("∕restart", "restart"), ("  hola /menu", "hola /menu"), ("¡Hola!", "¡Hola!"),
     ("ノートを忘れた", "ノートを忘れた"), ("/ q papeles necesito", "q papeles necesito"), ("1/2 sueldo", "1/2 sueldo")],
)
def test_only_the_leading_run_goes(typed, expected):
    assert neutralize(typed) == expected


def test_every_slash_of_unicode_is_covered():
    """Whatever NFKC turns into "/" (after blanks), or Unicode names a solidus or slash, and is no
    letter or digit, may not start a message; and no letter or digit is ever dropped."""
    assert not any(ch.isalnum() for ch in SLASHES)
    assert set(CONFUSABLE_SLASHES) <= SLASHES
    missed = []
    for code in range(sys.maxunicode + 1):
        ch = chr(code)
        if ch.isalnum() or neutralize(ch) == "":
            continue
        name = unicodedata.name(ch, "")
        slash_name = ("SOLIDUS" in name or "SLASH" in name) and "REVERSE" not in name and "BACKSLASH" not in name
        if slash_name or neutralize(unicodedata.normalize("NFKC", ch)).startswith("/"):
            missed.append(f"U+{code:04X} {name}")
    assert missed == []


@PROPERTY
@given(typed_texts)
def test_no_generated_text_keeps_an_intent(typed):
    text = neutralize(typed)
    assert typed.endswith(text)  # only a leading run is dropped
    assert not rasa_reads_as_intent(text) and forced_intent(text) is None
    assert not unicodedata.normalize("NFKC", text).strip().startswith("/")
    assert is_readable(text) == is_readable(typed)  # no letter or digit was dropped
    assert neutralize(text) == text


@pytest.mark.parametrize(
    ("payload", "kept"),
    [("/menu", True), ('/informar_pais{"country":"chile"}', True), ("/pedir_asesor", True), ("Otro tema", True),
     ("/restart", False), ("/ restart", False), ("/back", False), ('/session_start{"x": 1}', False),
     ("/out_of_scope@1.0", False), ("/nlu_fallback", False), ("\n/restart ", False)],
)
def test_rest_and_buttons_never_carry_rasas_own_intents(payload, kept):
    assert (without_default_intents(payload) == payload) is kept
    assert forced_intent(without_default_intents(payload)) not in RASA_DEFAULT_INTENTS


def test_telegram_commands_map_to_fixed_intents_only():
    assert all(forced_intent(payload) not in RASA_DEFAULT_INTENTS for payload, _ in COMMANDS.values())
    for typed in ["/restart", "/back", "/session_start", "/out_of_scope", "/restart@InfomigraBot"]:
        assert command_payload(typed) is None and looks_like_command(typed)  # answered with the command list


async def test_offered_buttons_work_and_nothing_else_or_rasas_own_intents(tmp_path):
    with migrated_engine("sqlite", tmp_path) as engine:
        await offered_buttons_only(ChannelState(engine))


async def offered_buttons_only(state: ChannelState) -> None:
    refs = await state.offer("web:ana", [{"title": "Ver el menú", "payload": "/menu"},
                                         {"title": "Chile", "payload": '/informar_pais{"country":"chile"}'},
                                         {"title": "Empezar de nuevo", "payload": "/restart"}])
    assert await state.payload_for_ref("web:ana", refs[0]) == "/menu"
    assert await state.payload_for_ref("web:ana", refs[1]) == '/informar_pais{"country":"chile"}'
    assert await state.payload_for_reply("web:ana", "2") == '/informar_pais{"country":"chile"}'
    assert await state.payload_for_ref("web:ana", refs[2]) is None  # even if one were offered
    assert await state.payload_for_reply("web:ana", "Empezar de nuevo") is None
    assert await state.payload_for_ref("web:otro", refs[0]) is None  # another person's button
    assert await state.payload_for_ref("web:ana", "/restart") is None  # a forged reference


def generated_texts() -> list[str]:
    seen: list[str] = []

    @PROPERTY
    @given(typed_texts)
    def collect(typed):
        seen.append(typed)

    collect()
    return list(dict.fromkeys(seen))


@pytest.fixture(scope="module")
def through_rasa(tmp_path_factory):
    if not RASA_PYTHON.exists():
        pytest.skip("needs the Rasa environment (.venv): make venv")
    texts = ATTACKS + generated_texts()
    raw = texts + ["/restart", "/ restart", '/pedir_asesor{"handoff": true}', "//restart", "/ {", "hola"]
    out = tmp_path_factory.mktemp("probe") / "parsed.json"
    run = subprocess.run([str(RASA_PYTHON), str(PROBE), str(out)], input=json.dumps({"texts": texts, "raw": raw}),
                         capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert run.returncode == 0, run.stderr[-3000:]
    return texts, json.loads(out.read_text())


def test_rasas_parser_finds_no_intent_in_what_people_type_on_any_channel(through_rasa):
    texts, probe = through_rasa
    results = probe["results"]
    for channel in PERSON_CHANNELS + ("rest",):
        assert {r["text"] for r in results if r["channel"] == channel} == set(texts), channel
    forced = [r for r in results if r["channel"] in PERSON_CHANNELS and (r["intent"] is not None or r["entities"])]
    assert forced == []
    assert [r for r in results if r["domain_intent"] in RASA_DEFAULT_INTENTS] == []
    sent = [r for r in results if r["sent"] is not None]
    assert {r["channel"] for r in sent} == set(PERSON_CHANNELS) | {"rest"}  # the channels did pass text on


def test_our_reading_of_rasas_intent_syntax_is_rasas(through_rasa):
    """`forced_intent` (used for REST and buttons) agrees with Rasa's own parser."""
    _, probe = through_rasa
    for item in probe["raw"]:
        assert forced_intent(item["text"]) == item["intent"], item
    assert {"restart", "back", "session_start", "out_of_scope", "nlu_fallback"} <= set(probe["domain_intents"])
    assert all(is_readable(name) for name in probe["domain_intents"])  # so blank text can never be one
