"""The Rasa performance patches behave exactly like Rasa: checked in the Rasa venv itself."""

import subprocess
import textwrap

from tests.conftest import ROOT

SCRIPT = textwrap.dedent('''
    import copy
    from jsonschema import ValidationError
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.core.events import Event, UserUttered
    from rasa.shared.utils.common import all_subclasses

    original = RemoteAction._validate_action_result
    cases = [
        {"events": [{"event": "slot", "name": "x", "value": 1}], "responses": [{"text": "hola"}]},
        {"events": [], "responses": []},
        {"events": [{"event": "nope"}]},
        {"events": "not a list"},
        {"responses": [1]},
    ]

    def outcome(method, case):
        try:
            return method(RemoteAction.__new__(RemoteAction), copy.deepcopy(case))
        except ValidationError as error:
            return "error: " + error.message

    # Event classes by name (with and without a default; "topic" and unknown names included), twice.
    names = sorted({cls.type_name for cls in all_subclasses(Event)}) + ["topic", "no_such_event"]

    def lookup(name, default=None):
        try:
            return Event.resolve_by_type(name, default)
        except ValueError as error:
            return "error: " + str(error)

    def classes():
        return [[lookup(n), lookup(n, UserUttered)] for n in names for _ in range(2)]

    before = [outcome(original, c) for c in cases]
    classes_before = classes()
    from bot import rasa_patches
    rasa_patches.apply()
    assert RemoteAction._validate_action_result is not original
    after = [outcome(RemoteAction._validate_action_result, c) for c in cases]
    assert before == after, (before, after)
    assert before[0] is True and before[2].startswith("error:")
    assert classes() == classes_before
    assert lookup("user") is UserUttered and lookup("no_such_event").startswith("error:")
    print("same")
''')


def test_patched_validation_behaves_like_rasas():
    result = subprocess.run([str(ROOT / ".venv/bin/python"), "-c", SCRIPT], cwd=ROOT, capture_output=True, text=True,
                            env={"TF_CPP_MIN_LOG_LEVEL": "3", "PATH": "/usr/bin:/bin"}, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().endswith("same")
