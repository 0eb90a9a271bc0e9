"""No log line of our code shows a whole phone number or chat id (bot/logsafe.py)."""

import ast
from pathlib import Path

from bot.logsafe import masked, scrubbed
from tests.conftest import ROOT


def test_a_sender_keeps_its_channel_and_last_four_characters():
    assert masked("whatsapp:+51987654321") == "whatsapp:···4321"
    assert masked("telegram:123456789") == "telegram:···6789"
    assert masked("+51987654321") == "···4321"
    assert masked("ana") == "···" and masked(None) == "···"
    assert "987654321" not in masked("whatsapp:+51987654321")


def test_a_providers_error_message_loses_the_number():
    text = "The 'To' number whatsapp:+51987654321 is not valid (+51987654321)"
    assert scrubbed(text, "whatsapp:+51987654321") == "The 'To' number whatsapp:···4321 is not valid (whatsapp:···4321)"


_PERSONAL = ("sender", "recipient", "phone", "chat_id", "number")
# what a log line may show of an id: masked, or only its channel or its length
_SAFE_CALLS = {"masked", "scrubbed", "channel_of", "len"}
_LOG_METHODS = {"debug", "info", "warning", "error", "exception", "critical", "log"}


def _name(func: ast.expr) -> str | None:
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None


def _unmasked_arguments(path: Path) -> list[str]:
    """Arguments of logger calls that name a person's id without going through masked()."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in _LOG_METHODS
                and isinstance(node.func.value, ast.Name) and node.func.value.id in ("logger", "log")):
            continue
        first = node.args[1 if node.func.attr == "log" else 0] if node.args else None
        formatted = [v.value for v in first.values if isinstance(v, ast.FormattedValue)] \
            if isinstance(first, ast.JoinedStr) else []
        for arg in [*node.args[2 if node.func.attr == "log" else 1:], *formatted]:
            for sub in ast.walk(arg):
                if isinstance(sub, ast.Call) and _name(sub.func) in _SAFE_CALLS:
                    break
            else:
                text = ast.unparse(arg)
                if any(word in text.lower() for word in _PERSONAL):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {text}")
    return found


def test_every_log_line_of_ours_masks_the_person():
    files = sorted([*(ROOT / "bot").rglob("*.py"), *(ROOT / "actions").rglob("*.py")])
    problems = [problem for path in files for problem in _unmasked_arguments(path)]
    assert problems == []


def test_the_handlers_mask_senders_in_other_codes_log_lines_and_tracebacks():
    import io
    import logging

    from bot.logsafe import mask_senders_in_handlers

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    root = logging.Logger("test-root")
    root.addHandler(handler)
    mask_senders_in_handlers(root)
    mask_senders_in_handlers(root)  # once is enough
    assert len(handler.filters) == 1
    rasa = logging.getLogger("rasa.core.processor.test")
    rasa.propagate, rasa.parent = True, root
    rasa.warning("Circuit breaker tripped. Stopped predicting more actions for sender '%s'.", "whatsapp:+51987654321")
    try:
        raise RuntimeError("conversation telegram:123456789 failed")
    except RuntimeError:
        rasa.exception("failed")
    text = stream.getvalue()
    assert "whatsapp:···4321" in text and "telegram:···6789" in text
    assert "987654321" not in text and "123456789" not in text
