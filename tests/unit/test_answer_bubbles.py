"""How many bubbles an answer from the knowledge base makes, per channel.

The assistant sends an answer in parts of at most four messages (`bot.knowledge.page`, "Ver más" for
the rest) to the web widget, Telegram and REST; WhatsApp gets it whole and packs it into messages of
at most 1,600 characters. Here every real article (Spanish and English) is cut into its parts, and
each part goes through the real output channels of the Rasa environment (`.venv`, in one subprocess,
as in test_whatsapp_format.py): the widget gets one bubble per message, Telegram one sendMessage per
message (each fits its 4,096 characters), WhatsApp its packed messages.
"""

from __future__ import annotations

import json
import subprocess

import pytest

from bot import knowledge
from bot.knowledge.model import SUMMARY_MAX
from bot.knowledge.render import MAX_BUBBLES, MORE_TITLES, page, parse_more
from tests.stack import ROOT

KB = knowledge.load()
ARTICLES = [*KB.articles.values(), *(v for by_id in KB.variants.values() for v in by_id.values())]


def parts_of(article, limit: int = MAX_BUBBLES) -> list[list[dict]]:
    """The answer as the person gets it, part by part: each "Ver más" asks for the next one."""
    messages = knowledge.render(article)
    parts, start = [], 0
    while True:
        part = page(messages, article, start, limit)
        parts.append([m.as_dict() for m in part])
        more = [b for b in part[-1].buttons if b["title"] in MORE_TITLES.values()]
        if not more:
            return parts
        article_id, lang, start = parse_more(more[0]["payload"].split('"article":"')[1].rstrip('"}'))
        assert (article_id, lang) == (article.id, article.lang)
        limit = MAX_BUBBLES  # the first part of an overview leaves room for the country question


@pytest.mark.parametrize("article", ARTICLES, ids=lambda a: f"{a.id}.{a.lang}")
def test_every_answer_comes_in_parts_of_at_most_four_messages_summary_first(article):
    whole = [m.text for m in knowledge.render(article)]
    for limit in (MAX_BUBBLES, MAX_BUBBLES - 1):
        parts = parts_of(article, limit)
        assert [m["text"] for part in parts for m in part] == whole  # nothing lost, nothing repeated
        assert all(1 <= len(part) <= MAX_BUBBLES for part in parts)
        assert len(parts[0]) <= limit
        assert parts[0][0]["text"] == article.summary and len(article.summary) <= SUMMARY_MAX
        assert parts[-1][-1]["buttons"][-1]["payload"] == "/menu"
        assert all(len(part) >= 2 for part in parts[1:])  # "Ver más" never leads to the sources alone
    if len(whole) <= MAX_BUBBLES:
        assert len(parts_of(article)) == 1  # a short answer has no "Ver más"


def test_a_ver_mas_reference_is_only_an_article_and_a_position():
    assert parse_more("emigrar/tramites/espana#3") == ("emigrar/tramites/espana", "es", 3)
    assert parse_more("peru/andinos.en#4") == ("peru/andinos", "en", 4)
    for value in ["emigrar/tramites/espana", "peru/andinos.fr#4", "x#", "#2", "a/b#1234", None, 3, "a b#1"]:
        assert parse_more(value) is None, value


SCRIPT = r"""
import asyncio, copy, json, sys
from types import SimpleNamespace

from bot.rasa.channels import whatsapp as wa
from bot.rasa.channels.telegram import TelegramOutput
from bot.rasa.channels.web import WebOutput

answers = json.load(sys.stdin)


class State:
    async def offer(self, sender, buttons):
        return [f"r{i}" for i, _ in enumerate(buttons)]


class Sio:
    def __init__(self):
        self.emitted = []

    async def emit(self, event, message, room=None):
        self.emitted.append(message)


class Telegram:
    def __init__(self):
        self.sent = []
        self.state = State()
        self.bot = SimpleNamespace(send_message=None)

    async def call(self, fn, **params):
        self.sent.append(params)


async def bubbles(output, counter, part, recipient):
    before = len(counter())
    for message in copy.deepcopy(part):  # Rasa's send_response takes the message apart
        await output.send_response(recipient, message)
    return len(counter()) - before


async def main():
    result = {}
    sio, tg = Sio(), Telegram()
    web, telegram = WebOutput(sio, State()), TelegramOutput(tg)
    for key, parts in answers.items():
        result[key] = {
            "web": [await bubbles(web, lambda: sio.emitted, part, "web:x") for part in parts],
            "telegram": [await bubbles(telegram, lambda: tg.sent, part, "telegram:123") for part in parts],
            "whatsapp": [o.body for o in wa.render(copy.deepcopy([m for part in parts for m in part]))],
        }
    print(json.dumps(result))


asyncio.run(main())
"""


@pytest.fixture(scope="module")
def channels():
    python = ROOT / ".venv" / "bin" / "python"
    if not python.exists():
        pytest.skip("the Rasa environment (.venv) is not installed")
    answers = {f"{a.id}.{a.lang}": parts_of(a) for a in ARTICLES}
    # WhatsApp gets the whole answer in one turn (actions.PACKING_CHANNELS): no parts, no "Ver más".
    whole = {f"{a.id}.{a.lang}": [[m.as_dict() for m in knowledge.render(a)]] for a in ARTICLES}
    done = subprocess.run([str(python), "-c", SCRIPT], input=json.dumps(answers), capture_output=True, text=True,
                          cwd=ROOT, timeout=300, check=True)
    packed = subprocess.run([str(python), "-c", SCRIPT], input=json.dumps(whole), capture_output=True, text=True,
                            cwd=ROOT, timeout=300, check=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    for key, value in json.loads(packed.stdout.strip().splitlines()[-1]).items():
        result[key]["whatsapp"] = value["whatsapp"]
    return result


@pytest.mark.parametrize("article", ARTICLES, ids=lambda a: f"{a.id}.{a.lang}")
def test_the_widget_and_telegram_show_at_most_four_bubbles_per_part(channels, article):
    found = channels[f"{article.id}.{article.lang}"]
    parts = parts_of(article)
    assert found["web"] == [len(part) for part in parts]  # one bubble per message
    assert found["telegram"] == [len(part) for part in parts]  # each message fits one Telegram message
    assert all(n <= MAX_BUBBLES for n in found["web"] + found["telegram"])


@pytest.mark.parametrize("article", ARTICLES, ids=lambda a: f"{a.id}.{a.lang}")
def test_whatsapp_gets_the_whole_answer_packed_in_messages_of_at_most_1600(channels, article):
    bodies = channels[f"{article.id}.{article.lang}"]["whatsapp"]
    assert all(len(body) <= 1600 for body in bodies)
    assert bodies[0].startswith(article.summary)
    text = "\n\n".join(bodies)
    assert all(m.text in text for m in knowledge.render(article))  # everything, in one turn
    assert "Ver más" not in text and "See more" not in text
    assert len(bodies) <= 4  # packed: a long answer is still a few WhatsApp messages


@pytest.mark.parametrize("limit", [None, 4000, 1500])
def test_an_answer_as_one_text_keeps_its_essentials_sources_and_date_within_a_limit(limit):
    """What an advisor inserts into a reply (at most 4,000 characters) or an e-mail carries (no limit)."""
    from bot.knowledge.render import footer, whole_text

    cut = 0
    for article in [*KB.articles.values(), *(v for by_lang in KB.variants.values() for v in by_lang.values())]:
        text = whole_text(article, limit)
        assert text.startswith(article.summary) and text.endswith(footer(article)), article.id
        if limit is None:
            assert "(…)" not in text and article.title in text  # the details whole
        else:
            assert len(text) <= limit, article.id
            cut += "(…)" in text
    assert (cut > 0) == (limit is not None)  # some articles are longer than a reply: they are cut, never their sources
