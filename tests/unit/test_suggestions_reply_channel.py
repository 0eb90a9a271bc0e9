"""A staff reply to a suggestion goes out on the person's own channel, named to Rasa: never
"latest", which Rasa turns into nothing sent (and 200) when the stored conversation has no message."""

import pytest

from bot.desk.suggestions_reply import ReplyError, output_channel


def test_the_reply_names_the_persons_channel():
    assert output_channel("whatsapp", "whatsapp:+51987654321") == "whatsapp"
    assert output_channel("telegram", "telegram:123456789") == "telegram"
    assert output_channel(None, "web:6f1c") == "web"  # an old suggestion without its channel: the id says it
    assert output_channel("unknown", "whatsapp:+51987654321") == "whatsapp"


@pytest.mark.parametrize(("channel", "sender"), [("rest", "ana"), (None, "ana"), ("cmdline", "default")])
def test_a_channel_that_cannot_receive_is_refused_before_anything_is_sent(channel, sender):
    with pytest.raises(ReplyError) as refused:
        output_channel(channel, sender)
    assert refused.value.status == 409 and "No se envió nada" in refused.value.message
