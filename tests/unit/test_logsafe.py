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
_LOG_METHODS = {"debug", "info", "warning", "error", "exception", "critical", "log"}


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
                if isinstance(sub, ast.Call) and getattr(sub.func, "id", None) in ("masked", "scrubbed"):
                    break
            else:
                text = ast.unparse(arg)
                if any(word in text.lower() for word in _PERSONAL) and "len(" not in text:
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {text}")
    return found


def test_every_log_line_of_ours_masks_the_person():
    files = sorted([*(ROOT / "bot").rglob("*.py"), *(ROOT / "actions").rglob("*.py")])
    problems = [problem for path in files for problem in _unmasked_arguments(path)]
    assert problems == []
