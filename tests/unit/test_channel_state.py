"""Channel state against a real database: SQLite by default, PostgreSQL with TEST_DATABASE_URL."""

import asyncio

import pytest

from bot.rasa.channels.state import KEEP_BUTTONS, ChannelState
from tests.databases import migrated_engine


@pytest.fixture(params=["sqlite", "postgresql"])
def state(request, tmp_path):
    with migrated_engine(request.param, tmp_path) as engine:
        yield ChannelState(engine)


async def test_a_message_id_is_processed_once(state):
    assert await state.first_time("twilio:SM1")
    assert not await state.first_time("twilio:SM1")
    results = await asyncio.gather(*(state.first_time("twilio:SM2") for _ in range(5)))
    assert results.count(True) == 1


async def test_a_message_id_is_seen_only_once_marked(state):
    assert not await state.seen("telegram:7")  # being handled, or failed: a redelivery is handled again
    await state.mark_seen("telegram:7")
    assert await state.seen("telegram:7")
    await state.mark_seen("telegram:7")  # twice is harmless
    assert await state.seen("telegram:7")


async def test_contacts_record_last_message_and_opt_out(state):
    await state.touch("whatsapp:+51911111111", "whatsapp")
    first = await state.contact("whatsapp:+51911111111")
    assert first["last_inbound_at"] is not None and not first["opted_out"]
    await state.touch("whatsapp:+51911111111", "whatsapp", opted_out=True)
    assert await state.is_opted_out("whatsapp:+51911111111")
    await state.touch("whatsapp:+51911111111", "whatsapp", opted_out=False)
    assert not await state.is_opted_out("whatsapp:+51911111111")
    assert not await state.is_opted_out("whatsapp:+51900000000")


async def test_buttons_map_back_by_reference_number_or_title(state):
    buttons = [{"title": "España", "payload": '/informar_pais{"country":"espana"}'},
               {"title": "Otro país", "payload": '/informar_pais{"country":"otro"}'}]
    refs = await state.offer("telegram:1", buttons)
    assert len(set(refs)) == 2 and all(len(r) <= 16 for r in refs)
    assert await state.payload_for_ref("telegram:1", refs[1]) == buttons[1]["payload"]
    assert await state.payload_for_ref("telegram:2", refs[1]) is None  # not offered to that person
    assert await state.payload_for_reply("telegram:1", "2") == buttons[1]["payload"]
    assert await state.payload_for_reply("telegram:1", " espana ") == buttons[0]["payload"]
    assert await state.payload_for_reply("telegram:1", "3") is None
    newer = await state.offer("telegram:1", [{"title": "Menú", "payload": "/menu"}])
    assert await state.payload_for_reply("telegram:1", "1") == "/menu"
    assert await state.payload_for_ref("telegram:1", refs[0]) == buttons[0]["payload"]  # an older keyboard
    assert newer


async def test_only_the_latest_buttons_are_kept(state):
    for i in range(KEEP_BUTTONS):
        await state.offer("web:x", [{"title": f"b{i}", "payload": f"/p{i}"}])
    first = await state.offer("web:x", [{"title": "x", "payload": "/x"}])
    assert await state.payload_for_ref("web:x", first[0]) == "/x"
    assert await state.payload_for_reply("web:x", "b0") is None
